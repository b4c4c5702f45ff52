// Builds one section of a network as a TorchScript module.
//
// The module's forward returns Dict[str, Tensor]: the logits of each exit under its
// label set's name ("fine", "coarse", "digit", ...), and "features" (already quantized)
// unless it is the last section. Signatures:
//   first section:        forward(x)        x: N x C x H x W float in [0,1]; the input
//                                            normalisation (buffers in_mean, in_std) is
//                                            applied inside;
//   multi-view aggregator: forward(x, mask)  x: N x V x (features of one device),
//                                            mask: N x V, 1 = view present, 0 = missing
//                                            (missing views are left out of max/avg and
//                                            zeroed for concat; at least one present);
//   others:               forward(x)        x: the previous section's features.
// Contract: the module carries a `training` attribute (train()/eval() switch batch
// norm and dropout); building is deterministic given torch's global seed.
#pragma once

#include <torch/script.h>

#include "hddnn/nn/spec.hpp"

namespace hddnn::nn {

torch::jit::Module build_section(const NetworkSpec& spec, size_t index, const std::string& name);

}  // namespace hddnn::nn
