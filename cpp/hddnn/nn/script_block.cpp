#include "hddnn/nn/script_block.hpp"

#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <tuple>

#include "hddnn/errors.hpp"

namespace hddnn::nn {
namespace {

constexpr int64_t kProbeBatch = 2;  ///< batch norm in eval mode takes any batch; 2 keeps the batch dim honest

struct Probe {
  Shape out;
  int64_t flops = 0;
};

std::string shape_text(const Shape& s) { return c10::str(c10::IntArrayRef(s)); }

// Runs the module once on zeros and counts the FLOPs torch's profiler sees.
Probe run_probe(const BlockSpec& block, const Shape& in) {
  auto module = load_script_block(block);
  module.eval();
  Shape batch_shape = in;
  batch_shape.insert(batch_shape.begin(), kProbeBatch);
  namespace profiler = torch::autograd::profiler;
  torch::NoGradGuard no_grad;
  c10::IValue out;
  profiler::enableProfilerLegacy(torch::profiler::impl::ProfilerConfig(
      torch::profiler::impl::ProfilerState::CPU, /*report_input_shapes=*/true, false, false, /*with_flops=*/true));
  try {
    out = module.forward({torch::zeros(batch_shape)});
  } catch (const std::exception& e) {
    profiler::disableProfilerLegacy();
    throw ConfigError(block.path + ": " + block.file + ": does not take an input of shape N x " + shape_text(in) +
                      ": " + std::string(e.what()).substr(0, 300));
  }
  Probe probe;
  for (auto& events : profiler::disableProfilerLegacy())
    for (auto& event : events) probe.flops += static_cast<int64_t>(event.flops());
  if (!out.isTensor() || out.toTensor().dim() < 2 || out.toTensor().size(0) != kProbeBatch)
    throw ConfigError(block.path + ": " + block.file + ": forward must return one tensor N x ... for an input N x " +
                      shape_text(in));
  const auto sizes = out.toTensor().sizes();
  probe.out.assign(sizes.begin() + 1, sizes.end());
  probe.flops /= kProbeBatch;
  return probe;
}

Probe probe_of(const BlockSpec& block, const Shape& in) {
  static std::mutex mutex;
  static std::map<std::tuple<std::string, int64_t, Shape>, Probe> cache;
  std::lock_guard<std::mutex> lock(mutex);
  std::error_code error;  // a file rewritten since (a notebook cell run again) is probed again
  const auto written = std::filesystem::last_write_time(block.file, error).time_since_epoch().count();
  const auto key = std::make_tuple(block.file, static_cast<int64_t>(written), in);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, run_probe(block, in)).first;
  return it->second;
}

}  // namespace

torch::jit::Module load_script_block(const BlockSpec& block) {
  torch::jit::Module module;
  try {
    module = torch::jit::load(block.file);
  } catch (const c10::Error& e) {
    throw ConfigError(block.path + ".file: " + block.file +
                      ": not a TorchScript file (save one with "
                      "torch.jit.script(module).save(path)): " +
                      std::string(e.what_without_backtrace()).substr(0, 200));
  }
  for (auto p : module.parameters()) p.set_requires_grad(true);
  return module;
}

Shape script_block_output_shape(const BlockSpec& block, const Shape& in) {
  const Shape out = probe_of(block, in).out;
  if (out.size() != 1 && out.size() != 3)
    throw ConfigError(block.path + ": " + block.file + ": returns a per-sample shape " + shape_text(out) +
                      " (expected a C x H x W map or a vector)");
  return out;
}

int64_t script_block_flops(const BlockSpec& block, const Shape& in) { return probe_of(block, in).flops; }

}  // namespace hddnn::nn
