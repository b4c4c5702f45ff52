// Fashion-MNIST as hddnn's training and request data.
//
// Contract: "train" and "val" are a seeded, disjoint split of the 60,000 training
// images (val_size go to "val"); "test" is the 10,000-image test set. The same seed
// gives the same split on every rank and every run. Files are the four IDX files
// (gzip) in `root`; any fault in them throws DataError naming the file.
#pragma once

#include <torch/types.h>

#include <string>

namespace hddnn::data {

struct FashionMnistConfig {
  std::string root;              ///< folder with the four IDX .gz files; empty = the default
  std::string split = "train";   ///< train | val | test
  std::string views = "single";  ///< single | quadrants | grid6
  uint64_t seed = 0;             ///< seed of the train/val split
  int64_t val_size = 5000;       ///< images held out of train for validation
  int64_t limit = -1;            ///< keep only the first `limit` samples (-1 = all)
};

struct LabelledImages {
  torch::Tensor images;  ///< N x V x 1 x H x W float in [0,1]
  torch::Tensor fine;    ///< N int64 in [0,10)
  torch::Tensor coarse;  ///< N int64 in [0,4)
};

/// The folder searched when the config leaves root empty (HDDNN_DATASET_DIR at build time).
std::string default_dataset_dir();

/// Loads one split, cut into the requested views.
LabelledImages load_fashion_mnist(const FashionMnistConfig& config);

}  // namespace hddnn::data
