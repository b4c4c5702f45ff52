#include "hddnn/nn/exit_policy.hpp"

#include <torch/torch.h>

#include <cmath>

#include "hddnn/errors.hpp"

namespace hddnn::nn {

torch::Tensor normalized_entropy(const torch::Tensor& logits) {
  const int64_t classes = logits.size(-1);
  if (classes < 2) throw ConfigError("normalized_entropy: needs at least 2 classes, got " + std::to_string(classes));
  const auto log_p = torch::log_softmax(logits.to(torch::kFloat32), -1);
  return -(log_p.exp() * log_p).sum(-1) / std::log(static_cast<double>(classes));
}

torch::Tensor exits_here(const torch::Tensor& entropy, double threshold) { return entropy < threshold; }

torch::Tensor exit_index(const std::vector<torch::Tensor>& entropies, const std::vector<double>& thresholds) {
  if (entropies.empty() || thresholds.size() + 1 != entropies.size())
    throw ConfigError("exit_index: expected one threshold for every exit but the last (" +
                      std::to_string(entropies.size()) + " exits, " + std::to_string(thresholds.size()) +
                      " thresholds)");
  const int64_t last = static_cast<int64_t>(entropies.size()) - 1;
  auto index = torch::full({entropies.front().size(0)}, last, torch::kInt64);
  for (int64_t e = last - 1; e >= 0; --e) index.masked_fill_(exits_here(entropies[e], thresholds[e]), e);
  return index;
}

}  // namespace hddnn::nn
