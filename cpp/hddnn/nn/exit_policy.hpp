// The DDNN exit policy, shared by evaluation and the runtime: a sample leaves the
// network at the first exit whose softmax has normalized entropy below that exit's
// threshold T; the last exit takes whatever is left.
#pragma once

#include <torch/types.h>

#include <vector>

namespace hddnn::nn {

/// Entropy of softmax(logits) over the last dimension divided by log(classes): 0 for
/// a one-hot answer, 1 for a uniform one. logits: N x C (C >= 2) -> N.
torch::Tensor normalized_entropy(const torch::Tensor& logits);

/// True where an exit with threshold T answers (normalized entropy < T).
torch::Tensor exits_here(const torch::Tensor& entropy, double threshold);

/// Index of the exit each sample leaves at, given each chain exit's normalized
/// entropies (N each) and the thresholds of all but the last exit.
torch::Tensor exit_index(const std::vector<torch::Tensor>& entropies, const std::vector<double>& thresholds);

}  // namespace hddnn::nn
