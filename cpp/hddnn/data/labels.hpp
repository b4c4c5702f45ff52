// Label sets of Fashion-MNIST: the 10 fine classes and the 4 coarse groups
// (tops; bottoms and dresses; footwear; bag) that end-device exits may answer.
#pragma once

#include <torch/types.h>

#include <array>
#include <string>

namespace hddnn::data {

constexpr int kFineClasses = 10;
constexpr int kCoarseClasses = 4;

/// Fine class names in label order.
const std::array<std::string, kFineClasses>& fine_label_names();
/// Coarse group names in coarse-label order.
const std::array<std::string, kCoarseClasses>& coarse_label_names();
/// Coarse group of each fine class, indexed by fine label.
const std::array<int64_t, kFineClasses>& coarse_of_fine();

/// Maps a tensor of fine labels (int64) to coarse labels.
torch::Tensor to_coarse(const torch::Tensor& fine);

}  // namespace hddnn::data
