// A user's own layer as a block: a TorchScript file scripted (torch.jit.script, then
// .save) from an nn.Module whose forward takes one tensor N x (input shape) and
// returns one tensor. The section that holds it registers a fresh copy as a
// submodule and calls it from its forward, so its parameters train jointly with the
// rest and travel with the section into checkpoints and exports.
//
// Contract: the output shape and FLOPs for an input shape are found by running the
// module once on zeros of batch 2 in eval mode (FLOPs as torch's profiler counts them:
// convolutions, matrix products and element-wise adds/multiplies, a multiply-add as 2);
// a file that does not load, or a module that does not take and return one tensor of
// that shape, is a ConfigError naming the block's path and the file.
#pragma once

#include <torch/script.h>

#include "hddnn/nn/spec.hpp"

namespace hddnn::nn {

/// A fresh copy of the block's module (parameters require gradients).
torch::jit::Module load_script_block(const BlockSpec& block);

/// Per-sample output shape of the block for a per-sample input shape.
Shape script_block_output_shape(const BlockSpec& block, const Shape& in);

/// FLOPs per sample of the block for a per-sample input shape.
int64_t script_block_flops(const BlockSpec& block, const Shape& in);

}  // namespace hddnn::nn
