#include "hddnn/nn/blocks.hpp"

#include "hddnn/errors.hpp"
#include "hddnn/nn/script_block.hpp"

namespace hddnn::nn {
namespace {

void require_map(const BlockSpec& b, const Shape& in) {
  if (in.size() != 3)
    throw ConfigError(b.path + ": needs a C x H x W feature map but its input is a vector of " +
                      std::to_string(values_of(in)) + " (shapes do not chain)");
}

int64_t conv_extent(const BlockSpec& b, int64_t size, int64_t kernel, int64_t stride, int64_t padding) {
  const int64_t out = (size + 2 * padding - kernel) / stride + 1;
  if (out < 1)
    throw ConfigError(b.path + ".kernel: " + std::to_string(kernel) + " does not fit a map of " + std::to_string(size) +
                      " (shapes do not chain)");
  return out;
}

int64_t conv_padding(const BlockSpec& b) { return b.padding >= 0 ? b.padding : b.kernel / 2; }

Shape strided_map(const BlockSpec& b, const Shape& in, int64_t channels, int64_t kernel, int64_t stride,
                  int64_t padding) {
  require_map(b, in);
  return {channels, conv_extent(b, in[1], kernel, stride, padding), conv_extent(b, in[2], kernel, stride, padding)};
}

}  // namespace

BlockType parse_block_type(const std::string& name, const std::string& field) {
  if (name == "conv") return BlockType::kConv;
  if (name == "dwsep") return BlockType::kDwSep;
  if (name == "residual") return BlockType::kResidual;
  if (name == "batchnorm") return BlockType::kBatchNorm;
  if (name == "activation") return BlockType::kActivation;
  if (name == "pool") return BlockType::kPool;
  if (name == "dropout") return BlockType::kDropout;
  if (name == "linear") return BlockType::kLinear;
  if (name == "torchscript") return BlockType::kTorchScript;
  throw ConfigError(field + ": unknown block type '" + name +
                    "' (expected conv, dwsep, residual, batchnorm, activation, pool, dropout, linear or torchscript)");
}

Shape block_output_shape(const BlockSpec& b, const Shape& in) {
  switch (b.type) {
    case BlockType::kConv: return strided_map(b, in, b.out, b.kernel, b.stride, conv_padding(b));
    case BlockType::kDwSep: return strided_map(b, in, b.out, b.kernel, b.stride, b.kernel / 2);
    case BlockType::kResidual: return strided_map(b, in, b.out, 3, b.stride, 1);
    case BlockType::kBatchNorm:
    case BlockType::kActivation:
    case BlockType::kDropout: return in;
    case BlockType::kPool:
      if (b.global) {
        require_map(b, in);
        return {in[0]};
      }
      return strided_map(b, in, in.empty() ? 0 : in[0], b.kernel, b.stride, std::max<int64_t>(b.padding, 0));
    case BlockType::kLinear: return {b.out};
    case BlockType::kTorchScript: return script_block_output_shape(b, in);
  }
  throw ConfigError(b.path + ": unknown block type");
}

int64_t values_of(const Shape& shape) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

int64_t block_flops(const BlockSpec& b, const Shape& in) {
  const Shape out = block_output_shape(b, in);
  const int64_t out_values = values_of(out);
  switch (b.type) {
    case BlockType::kConv: return 2 * out_values * in[0] * b.kernel * b.kernel;
    case BlockType::kDwSep: {
      const int64_t positions = out[1] * out[2];
      return 2 * positions * in[0] * b.kernel * b.kernel + 2 * positions * in[0] * b.out + 4 * out_values;
    }
    case BlockType::kResidual: {
      int64_t f = 2 * out_values * in[0] * 9 + 2 * out_values * b.out * 9;
      if (in != out) f += 2 * out_values * in[0];
      return f + 5 * out_values;
    }
    case BlockType::kBatchNorm: return 2 * out_values;
    case BlockType::kActivation:
    case BlockType::kDropout: return out_values;
    case BlockType::kPool: return b.global ? values_of(in) : out_values * b.kernel * b.kernel;
    case BlockType::kLinear: return 2 * values_of(in) * b.out;
    case BlockType::kTorchScript: return script_block_flops(b, in);
  }
  return 0;
}

}  // namespace hddnn::nn
