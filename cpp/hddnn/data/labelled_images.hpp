// A labelled image set, as training, evaluation and the runtime take it, and its
// one-file form: `hddnn.datasets.save(path, train=..., val=..., test=...)` writes, and
// `hddnn train --data`, `hddnn run --data` read, a `.pt` file (torch.save format, so
// `torch.load` reads it too) holding
//   {"format": "hddnn-data-1",
//    "<split>": {"images": N x C x H x W (or N x V x C x H x W) float32 in [0, 1],
//                "labels": N int64 of the finest label set}, ...}
// for the splits train, val and test (any of them may be absent).
//
// Contract: check_labelled() and load_data_file() throw DataError naming `where` (the
// file and split) and the fault: wrong dims or dtype, label and image counts that
// differ, an empty split, a NaN, a value outside [0, 1], a negative label.
// Whether the labels fit a network's label sets is checked against its spec (nn/).
#pragma once

#include <torch/types.h>

#include <map>
#include <string>

namespace hddnn::data {

struct LabelledImages {
  torch::Tensor images;  ///< N x V x C x H x W float in [0,1] (N x C x H x W before views are cut)
  torch::Tensor fine;    ///< N int64: labels of the finest label set
};

/// Checks a labelled set's tensors (see the contract); `where` names it in messages.
void check_labelled(const LabelledImages& set, const std::string& where);

/// Writes the given splits to one file (checked first; DataError for an unknown split name).
void save_data_file(const std::string& path, const std::map<std::string, LabelledImages>& splits);

/// Reads one split of a data file, checked.
LabelledImages load_data_file(const std::string& path, const std::string& split);

/// The splits a data file holds (train, val, test order).
std::vector<std::string> data_file_splits(const std::string& path);

}  // namespace hddnn::data
