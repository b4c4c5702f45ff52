#include "hddnn/nn/section_builder.hpp"

#include <sstream>

#include "hddnn/nn/block_script.hpp"

namespace hddnn::nn {
namespace {

std::string aggregation_script(Aggregator aggregator) {
  std::ostringstream c;
  c << "    m = mask.to(x.dtype)\n"
    << "    for _ in range(x.dim() - 2):\n"
    << "        m = m.unsqueeze(-1)\n";
  switch (aggregator) {
    case Aggregator::kMax: c << "    agg = torch.amax(torch.where(m > 0.0, x, torch.full_like(x, -1.0e9)), 1)\n"; break;
    case Aggregator::kAverage: c << "    agg = torch.sum(x * m, 1) / torch.clamp(torch.sum(m, 1), 1.0)\n"; break;
    case Aggregator::kConcat: c << "    agg = torch.flatten(x * m, 1, 2)\n"; break;
    case Aggregator::kNone: c << "    agg = x\n"; break;
  }
  return c.str();
}

std::string header(const SectionSpec& section, size_t index) {
  std::ostringstream c;
  if (section.aggregator != Aggregator::kNone) {
    c << "def forward(self, x: Tensor, mask: Tensor) -> Dict[str, Tensor]:\n" << aggregation_script(section.aggregator);
  } else {
    c << "def forward(self, x: Tensor) -> Dict[str, Tensor]:\n";
    c << (index == 0 ? "    agg = (x - self.in_mean) / self.in_std\n" : "    agg = x\n");
  }
  return c.str();
}

}  // namespace

torch::jit::Module build_section(const NetworkSpec& spec, size_t index, const std::string& name) {
  const SectionSpec& section = spec.sections[index];
  torch::jit::Module module(name);
  module.register_attribute("training", c10::BoolType::get(), true);
  if (index == 0) {
    module.register_buffer("in_mean", torch::zeros({1}));
    module.register_buffer("in_std", torch::ones({1}));
  }
  std::ostringstream code;
  code << header(section, index);
  const Shape in = section_input_shape(spec, index);
  const std::string trunk = emit_blocks(section.blocks, in, "t", "agg", module, code);
  const Shape trunk_shape = chain_shape(section.blocks, in);
  std::ostringstream result;
  result << "    return {";
  for (const auto& exit : section.exits) {
    const std::string& tag = label_set_name(spec, exit);
    const std::string head = emit_blocks(exit.blocks, trunk_shape, tag + "_h", trunk, module, code);
    const std::string logits = emit_classifier(label_count(spec, exit), chain_shape(exit.blocks, trunk_shape),
                                               tag + "_fc", head, module, code);
    result << "\"" << tag << "\": " << logits << ", ";
  }
  if (index + 1 < spec.sections.size()) {
    const std::string out = emit_blocks(section.output_blocks, trunk_shape, "o", trunk, module, code);
    code << quantization_script(section.quantization, out, "features");
    result << "\"features\": features";
  }
  std::string ret = result.str();
  if (ret.size() >= 2 && ret.substr(ret.size() - 2) == ", ") ret.resize(ret.size() - 2);
  code << ret << "}\n";
  module.define(code.str());
  for (auto p : module.parameters()) p.set_requires_grad(true);
  return module;
}

}  // namespace hddnn::nn
