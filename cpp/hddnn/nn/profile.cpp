#include "hddnn/nn/profile.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <limits>

#include "hddnn/mapping/profile.hpp"
#include "hddnn/nn/blocks.hpp"

namespace hddnn::nn {
namespace {

int64_t chain_flops(const std::vector<BlockSpec>& blocks, Shape shape) {
  int64_t flops = 0;
  for (const auto& b : blocks) {
    flops += block_flops(b, shape);
    shape = block_output_shape(b, shape);
  }
  return flops;
}

// The fastest of repeated timed forwards (after a warm-up): other work on the host
// only ever adds time, so the minimum is what the section itself takes.
double fastest_ms(torch::jit::Module& module, const std::vector<c10::IValue>& args) {
  torch::NoGradGuard no_grad;
  for (int i = 0; i < 3; ++i) module.forward(args);
  double fastest = std::numeric_limits<double>::infinity();
  int timed = 0;
  const auto begin = std::chrono::steady_clock::now();
  while (timed < 10 || (timed < 200 && std::chrono::steady_clock::now() - begin < std::chrono::milliseconds(300))) {
    const auto start = std::chrono::steady_clock::now();
    module.forward(args);
    fastest = std::min(fastest,
                       std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    ++timed;
  }
  return fastest;
}

std::vector<std::vector<c10::IValue>> inputs_at(Network& network, int64_t batch) {
  torch::NoGradGuard no_grad;
  const auto& in = network.spec().input_shape;
  std::vector<std::vector<c10::IValue>> inputs;
  network.section_outputs(torch::rand({batch, network.spec().view_count, in[0], in[1], in[2]}), {}, &inputs);
  return inputs;
}

/// Torch's thread count set for a scope, restored after it.
class ThreadCountScope {
 public:
  explicit ThreadCountScope(int threads) : saved_(torch::get_num_threads()) { torch::set_num_threads(threads); }
  ~ThreadCountScope() { torch::set_num_threads(saved_); }
  ThreadCountScope(const ThreadCountScope&) = delete;
  ThreadCountScope& operator=(const ThreadCountScope&) = delete;

 private:
  int saved_;
};

}  // namespace

int64_t section_flops(const NetworkSpec& spec, size_t index) {
  const auto& s = spec.sections[index];
  const Shape in = section_input_shape(spec, index);
  const Shape trunk = chain_shape(s.blocks, in);
  int64_t flops = chain_flops(s.blocks, in);
  for (const auto& e : s.exits)
    flops += chain_flops(e.blocks, trunk) + 2 * values_of(chain_shape(e.blocks, trunk)) * label_count(spec, e);
  if (index + 1 < spec.sections.size()) flops += chain_flops(s.output_blocks, trunk);
  return flops;
}

nlohmann::json profile_network(Network& network, const PolicyOutcome& outcome,
                               const std::vector<size_t>& policy_sections) {
  const ThreadCountScope one_thread(1);
  network.train(false);
  const auto& spec = network.spec();
  const auto one = inputs_at(network, 1), many = inputs_at(network, 32);
  mapping::ModelProfile profile;
  profile.input_bytes = static_cast<double>(values_of(spec.input_shape));
  const auto escalate = mapping::escalate_fractions(outcome.fractions, policy_sections, spec.sections.size());
  size_t module_index = 0;
  for (size_t i = 0; i < spec.sections.size(); ++i) {
    auto& module = network.sections()[module_index].module;
    mapping::Section section;
    section.name = spec.sections[i].tier;
    section.tier = mapping::parse_tier(section.name, "spec: sections.tier");
    for (const auto& p : module.parameters()) section.params += p.numel();
    // Parameters and buffers, a TorchScript block's (a submodule) included.
    int64_t param_bytes = 0;
    for (const auto& p : module.parameters()) param_bytes += p.numel() * p.element_size();
    for (const auto& b : module.buffers()) param_bytes += b.numel() * b.element_size();
    section.param_bytes = static_cast<double>(param_bytes);
    section.flops = section_flops(spec, i);
    const Shape out = section_output_shape(spec, i);
    section.out_bytes = out.empty() ? 0
                                    : static_cast<double>(packed_bytes(values_of(out), spec.sections[i].quantization));
    section.compute_ms_batch1 = fastest_ms(module, one[module_index]);
    section.compute_ms_batch32 = fastest_ms(module, many[module_index]);
    section.escalate_fraction = escalate[i];
    profile.sections.push_back(section);
    module_index += i == 0 ? (spec.view_count > 1 && !spec.sections[0].shared ? spec.view_count : 1) : 1;
  }
  return mapping::profile_to_json(profile);
}

}  // namespace hddnn::nn
