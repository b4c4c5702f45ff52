// A multi-exit network: the sections of a spec, each a TorchScript module, chained
// end -> (aggregation) -> edge -> cloud. What trains here is what gets exported.
//
// Contract: forward takes images N x V x C x H x W float in [0,1] (or N x C x H x W
// whole images, cut into the spec's views here) and an optional N x V mask of present views (multi-view only;
// default all present). It returns every exit's logits, in spec order, named
// "<section>/<label set>" ("end/fine", "end3/coarse", "edge/digit", ...); device sections
// of a multi-view network are "end0".."end{V-1}" (or one shared "end").
// Thread safety: one thread at a time (modules hold training state).
#pragma once

#include <torch/script.h>

#include <string>
#include <vector>

#include "hddnn/nn/spec.hpp"
#include "hddnn/nn/train_config.hpp"

namespace hddnn::nn {

struct ExitOutput {
  std::string name;    ///< "<section>/<labels>"
  size_t section = 0;  ///< index in spec.sections
  int64_t view = -1;   ///< device view of a multi-view device exit, else -1
  size_t labels = 0;   ///< index of its label set in the spec (0: the finest)
  double weight = 1.0;
  torch::Tensor logits;
};

struct NamedSection {
  std::string name;   ///< file stem on export: end | end0.. | edge | cloud
  size_t index = 0;   ///< spec section it implements
  int64_t view = -1;  ///< for device sections of a multi-view spec: the view it takes (-1: all views, shared)
  torch::jit::Module module;
};

class Network {
 public:
  /// Builds the sections with weights drawn from `seed`.
  explicit Network(NetworkSpec spec, uint64_t seed = 0);

  const NetworkSpec& spec() const { return spec_; }
  std::vector<NamedSection>& sections() { return sections_; }
  const std::vector<NamedSection>& sections() const { return sections_; }

  std::vector<ExitOutput> forward(const torch::Tensor& images, const torch::Tensor& mask = {});
  /// Raw outputs of every section for one batch (the dicts the exported files return).
  /// `inputs`, when given, receives each section's forward arguments (profiling).
  std::vector<c10::Dict<std::string, torch::Tensor>> section_outputs(
      const torch::Tensor& images, const torch::Tensor& mask = {},
      std::vector<std::vector<c10::IValue>>* inputs = nullptr);

  std::vector<torch::Tensor> parameters();
  /// Floating-point buffers of every section (batchnorm running statistics, ...).
  std::vector<torch::Tensor> float_buffers();
  void train(bool on);
  /// Moves every parameter and buffer to `device`, in place (tensors keep their
  /// identity, so an optimizer made before or after sees them). Inputs must follow.
  void to(const torch::Device& device);
  /// Where the parameters live (the CPU until to() moves them).
  torch::Device device() const { return device_; }
  void set_input_normalization(double mean, double std);
  std::pair<double, double> input_normalization() const;

  /// Every parameter and buffer, keyed "<section>.<name>" (checkpoints).
  std::vector<std::pair<std::string, torch::Tensor>> state();

  /// Optimizer steps, history and optimizer state of the training so far.
  TrainingState& training_state() { return training_; }
  /// Thresholds of the policy exits but the last (normalized entropy), once chosen.
  const std::vector<double>& thresholds() const { return thresholds_; }
  void set_thresholds(std::vector<double> thresholds) { thresholds_ = std::move(thresholds); }

 private:
  torch::Tensor views_of(const torch::Tensor& images) const;

  NetworkSpec spec_;
  std::vector<NamedSection> sections_;
  size_t device_count_ = 1;  ///< sections_ that are device branches (first spec section)
  TrainingState training_;
  std::vector<double> thresholds_;
  torch::Device device_ = torch::kCPU;
};

}  // namespace hddnn::nn
