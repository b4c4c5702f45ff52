// Fashion-MNIST as hddnn's training and request data.
//
// Contract: "train" and "val" are a seeded, disjoint split of the 60,000 training
// images (val_size go to "val"); "test" is the 10,000-image test set. The same seed
// gives the same split on every rank and every run. Files are the four IDX files
// (gzip) in `root`; any fault in them throws DataError naming the file.
#pragma once

#include <string>

#include "hddnn/data/labelled_images.hpp"

namespace hddnn::data {

struct FashionMnistConfig {
  std::string root;              ///< folder with the four IDX .gz files; empty = the default
  std::string split = "train";   ///< train | val | test
  std::string views = "single";  ///< single | quadrants | grid6
  uint64_t seed = 0;             ///< seed of the train/val split
  int64_t val_size = 5000;       ///< images held out of train for validation
  int64_t limit = -1;            ///< keep only the first `limit` samples (-1 = all)
};

/// The folder searched when the config leaves root empty (HDDNN_DATASET_DIR at build time).
std::string default_dataset_dir();

/// Loads one split, cut into the requested views (images N x V x 1 x H x W, fine labels 0..9).
LabelledImages load_fashion_mnist(const FashionMnistConfig& config);

}  // namespace hddnn::data
