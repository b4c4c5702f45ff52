// Block arithmetic: the shape each block produces and the FLOPs it costs.
//
// Contract: block_output_shape throws ConfigError naming the block's path and the
// field at fault when the input shape does not fit (e.g. a conv after a linear, a
// map smaller than the kernel). FLOPs count a multiply-add as 2, per sample.
// A TorchScript block's shape and FLOPs are probed by running it (script_block.hpp).
#pragma once

#include <cstdint>

#include "hddnn/nn/spec.hpp"

namespace hddnn::nn {

Shape block_output_shape(const BlockSpec& block, const Shape& in);
int64_t block_flops(const BlockSpec& block, const Shape& in);
/// How many values a tensor of this per-sample shape holds (the product of its extents).
int64_t values_of(const Shape& shape);

BlockType parse_block_type(const std::string& name, const std::string& field);

}  // namespace hddnn::nn
