// A dataset against a network's spec: whether its images and labels fit, and the
// targets of every label set derived from its finest labels.
//
// Contract: check_dataset throws DataError naming `where` and the fault: images whose
// channels, size or view count differ from the spec's input, or labels outside the
// finest label set's classes. label_targets maps N finest labels to each declared
// set's labels (the spec's of_finest tables), in the spec's set order.
#pragma once

#include <torch/types.h>

#include <string>
#include <vector>

#include "hddnn/data/labelled_images.hpp"
#include "hddnn/nn/spec.hpp"

namespace hddnn::nn {

void check_dataset(const NetworkSpec& spec, const data::LabelledImages& set, const std::string& where);

std::vector<torch::Tensor> label_targets(const NetworkSpec& spec, const torch::Tensor& fine);

}  // namespace hddnn::nn
