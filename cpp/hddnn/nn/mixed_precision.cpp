#include "hddnn/nn/mixed_precision.hpp"

#include <ATen/autocast_mode.h>

#include "hddnn/errors.hpp"

namespace hddnn::nn {

AutocastScope::AutocastScope(bool enabled) : enabled_(enabled) {
  if (!enabled_) return;
  previous_ = at::autocast::is_enabled();
  at::autocast::set_enabled(true);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!enabled_) return;
  // Casts made inside the outermost scope are cached for its lifetime only.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_enabled(previous_);
}

GradScaler::GradScaler(GradScalerOptions options) : options_(options), scale_(options.initial_scale) {
  if (!(options_.initial_scale > 0) || !(options_.growth_factor > 1) || !(options_.backoff_factor > 0) ||
      !(options_.backoff_factor < 1) || options_.growth_interval < 1)
    throw ConfigError(
        "GradScaler: expected initial_scale > 0, growth_factor > 1, 0 < backoff_factor < 1 and "
        "growth_interval >= 1");
}

bool GradScaler::unscale(const std::vector<torch::Tensor>& parameters) const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> non_finite;
  for (const auto& parameter : parameters) {
    auto grad = parameter.grad();
    if (!grad.defined()) continue;
    grad.mul_(1.0 / scale_);
    non_finite.push_back(grad.isfinite().logical_not().any());
  }
  return non_finite.empty() || !torch::stack(non_finite).any().item<bool>();  // one device sync per step
}

bool GradScaler::step(torch::optim::Optimizer& optimizer, const std::vector<torch::Tensor>& parameters) {
  if (!unscale(parameters)) {
    scale_ *= options_.backoff_factor;
    finite_in_a_row_ = 0;
    ++skipped_;
    return false;
  }
  optimizer.step();
  if (++finite_in_a_row_ == options_.growth_interval) {
    scale_ *= options_.growth_factor;
    finite_in_a_row_ = 0;
  }
  return true;
}

}  // namespace hddnn::nn
