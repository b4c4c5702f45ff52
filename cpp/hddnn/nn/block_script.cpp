#include "hddnn/nn/block_script.hpp"

#include <torch/torch.h>

#include "hddnn/errors.hpp"
#include "hddnn/nn/blocks.hpp"
#include "hddnn/nn/script_block.hpp"

namespace hddnn::nn {
namespace {

std::string ints(int64_t v) { return "[" + std::to_string(v) + ", " + std::to_string(v) + "]"; }

std::string add_weight(torch::jit::Module& m, const std::string& name, std::vector<int64_t> shape) {
  auto w = torch::empty(shape);
  torch::nn::init::kaiming_normal_(w, 0.0, torch::kFanIn, torch::kReLU);
  m.register_parameter(name, w, false);
  return "self." + name;
}

std::string add_zeros(torch::jit::Module& m, const std::string& name, int64_t n, bool buffer = false) {
  m.register_parameter(name, torch::zeros({n}), buffer);
  return "self." + name;
}

std::string conv(torch::jit::Module& m, std::ostringstream& code, const std::string& p, const std::string& in,
                 int64_t cin, int64_t cout, int64_t kernel, int64_t stride, int64_t padding, int64_t groups,
                 bool bias) {
  const auto w = add_weight(m, p + "_w", {cout, cin / groups, kernel, kernel});
  const auto b = bias ? add_zeros(m, p + "_b", cout) : std::string("None");
  code << "    " << p << " = torch.conv2d(" << in << ", " << w << ", " << b << ", " << ints(stride) << ", "
       << ints(padding) << ", [1, 1], " << groups << ")\n";
  return p;
}

std::string batch_norm(torch::jit::Module& m, std::ostringstream& code, const std::string& p, const std::string& in,
                       int64_t channels) {
  m.register_parameter(p + "_g", torch::ones({channels}), false);
  add_zeros(m, p + "_b", channels);
  add_zeros(m, p + "_mean", channels, true);
  m.register_parameter(p + "_var", torch::ones({channels}), true);
  code << "    " << p << " = torch.batch_norm(" << in << ", self." << p << "_g, self." << p << "_b, self." << p
       << "_mean, self." << p << "_var, self.training, 0.1, 1e-05, False)\n";
  return p;
}

std::string relu(std::ostringstream& code, const std::string& p, const std::string& in) {
  code << "    " << p << " = torch.relu(" << in << ")\n";
  return p;
}

std::string activation(std::ostringstream& code, const BlockSpec& b, const std::string& p, const std::string& in) {
  if (b.function == "relu") return relu(code, p, in);
  if (b.function == "relu6") code << "    " << p << " = torch.hardtanh(" << in << ", 0.0, 6.0)\n";
  if (b.function == "tanh") code << "    " << p << " = torch.tanh(" << in << ")\n";
  if (b.function == "sigmoid") code << "    " << p << " = torch.sigmoid(" << in << ")\n";
  return p;
}

// MobileNet: depthwise k x k (stride), BN, ReLU, pointwise 1x1, BN, ReLU.
std::string dwsep(torch::jit::Module& m, std::ostringstream& code, const BlockSpec& b, const std::string& p,
                  const std::string& in, int64_t cin) {
  auto x = conv(m, code, p + "_dw", in, cin, cin, b.kernel, b.stride, b.kernel / 2, cin, false);
  x = relu(code, p + "_r1", batch_norm(m, code, p + "_bn1", x, cin));
  x = conv(m, code, p + "_pw", x, cin, b.out, 1, 1, 0, 1, false);
  return relu(code, p, batch_norm(m, code, p + "_bn2", x, b.out));
}

// ResNet basic block: conv3x3 (stride), BN, ReLU, conv3x3, BN, + shortcut, ReLU.
std::string residual(torch::jit::Module& m, std::ostringstream& code, const BlockSpec& b, const std::string& p,
                     const std::string& in, const Shape& shape) {
  auto x = conv(m, code, p + "_c1", in, shape[0], b.out, 3, b.stride, 1, 1, false);
  x = relu(code, p + "_r1", batch_norm(m, code, p + "_bn1", x, b.out));
  x = batch_norm(m, code, p + "_bn2", conv(m, code, p + "_c2", x, b.out, b.out, 3, 1, 1, 1, false), b.out);
  std::string shortcut = in;
  if (block_output_shape(b, shape) != shape) {
    shortcut = conv(m, code, p + "_sc", in, shape[0], b.out, 1, b.stride, 0, 1, false);
    shortcut = batch_norm(m, code, p + "_scbn", shortcut, b.out);
  }
  code << "    " << p << " = torch.relu(" << x << " + " << shortcut << ")\n";
  return p;
}

std::string pool(std::ostringstream& code, const BlockSpec& b, const std::string& p, const std::string& in) {
  if (b.global) {
    code << "    " << p << " = torch." << (b.mode == "max" ? "amax" : "mean") << "(" << in << ", [2, 3])\n";
  } else if (b.mode == "max") {
    code << "    " << p << " = torch.max_pool2d(" << in << ", " << ints(b.kernel) << ", " << ints(b.stride) << ", "
         << ints(std::max<int64_t>(b.padding, 0)) << ", [1, 1], False)\n";
  } else {
    code << "    " << p << " = torch.avg_pool2d(" << in << ", " << ints(b.kernel) << ", " << ints(b.stride) << ", "
         << ints(std::max<int64_t>(b.padding, 0)) << ")\n";
  }
  return p;
}

std::string linear(torch::jit::Module& m, std::ostringstream& code, const std::string& p, const std::string& in,
                   int64_t in_features, int64_t out) {
  const auto w = add_weight(m, p + "_w", {out, in_features});
  const auto bias = add_zeros(m, p + "_b", out);
  code << "    " << p << " = torch.linear(torch.flatten(" << in << ", 1), " << w << ", " << bias << ")\n";
  return p;
}

}  // namespace

std::string emit_block(const BlockSpec& b, const Shape& shape, const std::string& p, const std::string& in,
                       torch::jit::Module& m, std::ostringstream& code) {
  int64_t in_values = 1;
  for (auto d : shape) in_values *= d;
  switch (b.type) {
    case BlockType::kConv:
      return conv(m, code, p, in, shape[0], b.out, b.kernel, b.stride, b.padding >= 0 ? b.padding : b.kernel / 2, 1,
                  true);
    case BlockType::kDwSep: return dwsep(m, code, b, p, in, shape[0]);
    case BlockType::kResidual: return residual(m, code, b, p, in, shape);
    case BlockType::kBatchNorm: return batch_norm(m, code, p, in, shape[0]);
    case BlockType::kActivation: return activation(code, b, p, in);
    case BlockType::kPool: return pool(code, b, p, in);
    case BlockType::kDropout:
      code << "    " << p << " = torch.dropout(" << in << ", " << std::to_string(b.p) << ", self.training)\n";
      return p;
    case BlockType::kLinear: return linear(m, code, p, in, in_values, b.out);
    case BlockType::kTorchScript:
      m.register_module(p, load_script_block(b));
      code << "    " << p << " = self." << p << ".forward(" << in << ")\n";
      return p;
  }
  throw ConfigError(b.path + ": unknown block type");
}

std::string emit_blocks(const std::vector<BlockSpec>& blocks, Shape shape, const std::string& prefix,
                        const std::string& in, torch::jit::Module& module, std::ostringstream& code) {
  std::string x = in;
  for (size_t i = 0; i < blocks.size(); ++i) {
    x = emit_block(blocks[i], shape, prefix + std::to_string(i), x, module, code);
    shape = block_output_shape(blocks[i], shape);
  }
  return x;
}

std::string emit_classifier(int64_t classes, const Shape& shape, const std::string& prefix, const std::string& in,
                            torch::jit::Module& module, std::ostringstream& code) {
  int64_t in_values = 1;
  for (auto d : shape) in_values *= d;
  return linear(module, code, prefix, in, in_values, classes);
}

}  // namespace hddnn::nn
