// Mixed-precision training on CUDA (training.amp): AutocastScope runs the forward
// pass under CUDA autocast (float16 where torch deems it safe), and GradScaler is
// dynamic loss scaling, as torch.cuda.amp.GradScaler does it.
//
// GradScaler contract: backward runs on scale(loss); step() divides every gradient by
// the scale, and steps the optimizer only when all of them are finite. The scale
// starts at `initial_scale`, halves (backoff) on every step with a non-finite
// gradient (that step is skipped) and doubles (growth) after `growth_interval`
// finite steps in a row. Data-parallel ranks average scaled gradients before step(),
// so an inf or NaN on one rank reaches every rank and all skip together. The scaler
// works on any device (CPU in the tests); the trainer uses it with CUDA only.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace hddnn::nn {

/// CUDA autocast on for the scope's lifetime when `enabled`; restores the previous state.
class AutocastScope {
 public:
  explicit AutocastScope(bool enabled);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool enabled_;
  bool previous_ = false;
};

struct GradScalerOptions {
  double initial_scale = 65536.0;
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
};

class GradScaler {
 public:
  explicit GradScaler(GradScalerOptions options = {});

  torch::Tensor scale(const torch::Tensor& loss) const { return loss * scale_; }
  /// Unscales the gradients of `parameters`, steps `optimizer` when they are all
  /// finite, updates the scale; returns whether the optimizer stepped.
  bool step(torch::optim::Optimizer& optimizer, const std::vector<torch::Tensor>& parameters);
  double current_scale() const { return scale_; }
  int64_t skipped_steps() const { return skipped_; }

 private:
  /// Divides every defined gradient by the scale; whether all of them are finite.
  bool unscale(const std::vector<torch::Tensor>& parameters) const;

  GradScalerOptions options_;
  double scale_;
  int64_t finite_in_a_row_ = 0;
  int64_t skipped_ = 0;
};

}  // namespace hddnn::nn
