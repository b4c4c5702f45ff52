// Fashion-MNIST's label names: the 10 fine classes and the 4 coarse groups (tops;
// bottoms and dresses; footwear; bag) that end-device exits may answer. As label
// sets (what a spec without "labels" declares): fashion_mnist_label_sets().
#pragma once

#include <array>
#include <cstdint>
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

}  // namespace hddnn::data
