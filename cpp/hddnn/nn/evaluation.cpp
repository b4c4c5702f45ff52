#include "hddnn/nn/evaluation.hpp"

#include <torch/torch.h>

#include "hddnn/nn/exit_policy.hpp"
#include "hddnn/nn/spec_data.hpp"

namespace hddnn::nn {
namespace {

constexpr int kGridSteps = 40;  ///< threshold grid 0, 1/40, ..., 1 per exit

double accuracy_of(const torch::Tensor& logits, const torch::Tensor& labels) {
  return logits.argmax(1).eq(labels).to(torch::kFloat64).mean().item<double>();
}

bool better(const PolicyOutcome& a, const PolicyOutcome& b) {
  for (size_t i = 0; i < a.fractions.size(); ++i) {
    if (a.fractions[i] > b.fractions[i] + 1e-12) return true;
    if (a.fractions[i] < b.fractions[i] - 1e-12) return false;
  }
  return a.accuracy > b.accuracy;
}

// Depth-first over the grid of each non-last exit's threshold.
void search(const std::vector<ExitOutput>& exits, const std::vector<size_t>& policy, const torch::Tensor& fine,
            double floor, std::vector<double>& current, PolicyOutcome& best) {
  if (current.size() + 1 == policy.size()) {
    auto outcome = apply_policy(exits, policy, fine, current);
    if (outcome.accuracy >= floor && better(outcome, best)) best = outcome;
    return;
  }
  for (int s = 0; s <= kGridSteps; ++s) {
    current.push_back(static_cast<double>(s) / kGridSteps);
    search(exits, policy, fine, floor, current, best);
    current.pop_back();
  }
}

}  // namespace

std::vector<ExitOutput> predict(Network& network, const torch::Tensor& images, const torch::Tensor& mask,
                                int64_t batch_size) {
  torch::NoGradGuard no_grad;
  network.train(false);
  std::vector<ExitOutput> merged;
  std::vector<std::vector<torch::Tensor>> parts;
  for (int64_t start = 0; start < images.size(0); start += batch_size) {
    const int64_t end = std::min(start + batch_size, images.size(0));
    auto out = network.forward(images.slice(0, start, end), mask.defined() ? mask.slice(0, start, end) : mask);
    if (merged.empty()) {
      merged = out;
      parts.resize(out.size());
    }
    for (size_t e = 0; e < out.size(); ++e) parts[e].push_back(out[e].logits);
  }
  for (size_t e = 0; e < merged.size(); ++e) merged[e].logits = torch::cat(parts[e]);
  return merged;
}

std::map<std::string, double> exit_accuracies(const std::vector<ExitOutput>& exits,
                                              const std::vector<torch::Tensor>& targets) {
  std::map<std::string, double> accuracy;
  for (const auto& e : exits) accuracy[e.name] = accuracy_of(e.logits, targets.at(e.labels));
  return accuracy;
}

std::vector<size_t> policy_exit_indices(const Network& network, const std::vector<ExitOutput>& exits) {
  const size_t first = network.spec().view_count > 1 ? 1 : 0;
  std::vector<size_t> policy;
  for (size_t i = 0; i < exits.size(); ++i)
    if (exits[i].section >= first && exits[i].labels == 0) policy.push_back(i);
  return policy;
}

PolicyOutcome apply_policy(const std::vector<ExitOutput>& exits, const std::vector<size_t>& policy,
                           const torch::Tensor& fine, const std::vector<double>& thresholds) {
  std::vector<torch::Tensor> entropies, predictions;
  PolicyOutcome outcome{thresholds, {}, {}, 0.0};
  for (size_t p : policy) {
    entropies.push_back(normalized_entropy(exits[p].logits));
    predictions.push_back(exits[p].logits.argmax(1));
    outcome.exits.push_back(exits[p].name);
  }
  const auto where = exit_index(entropies, thresholds);
  const auto answer = torch::stack(predictions, 1).gather(1, where.unsqueeze(1)).squeeze(1);
  outcome.accuracy = answer.eq(fine).to(torch::kFloat64).mean().item<double>();
  const auto counts = torch::bincount(where, {}, static_cast<int64_t>(policy.size())).to(torch::kFloat64);
  for (int64_t i = 0; i < counts.size(0); ++i) outcome.fractions.push_back(counts[i].item<double>() / fine.size(0));
  return outcome;
}

std::vector<PolicyOutcome> exit_curve(const std::vector<ExitOutput>& exits, const std::vector<size_t>& policy,
                                      const torch::Tensor& fine, const std::vector<double>& sweep) {
  std::vector<PolicyOutcome> curve;
  for (double t : sweep) curve.push_back(apply_policy(exits, policy, fine, std::vector<double>(policy.size() - 1, t)));
  return curve;
}

std::vector<double> choose_thresholds(const std::vector<ExitOutput>& exits, const std::vector<size_t>& policy,
                                      const torch::Tensor& fine, double tolerance) {
  const double floor = accuracy_of(exits[policy.back()].logits, fine) - tolerance;
  PolicyOutcome best = apply_policy(exits, policy, fine, std::vector<double>(policy.size() - 1, 0.0));
  std::vector<double> current;
  search(exits, policy, fine, floor, current, best);
  return best.thresholds;
}

nlohmann::json to_json(const PolicyOutcome& o) {
  nlohmann::json fractions;
  for (size_t i = 0; i < o.exits.size(); ++i) fractions[o.exits[i]] = o.fractions[i];
  return {{"thresholds", o.thresholds}, {"exit_fraction", fractions}, {"accuracy", o.accuracy}};
}

nlohmann::json evaluate_split(Network& network, const torch::Tensor& images, const torch::Tensor& fine,
                              const torch::Tensor& mask) {
  const auto exits = predict(network, images, mask);
  const auto policy = policy_exit_indices(network, exits);
  std::vector<double> sweep;
  for (int i = 0; i <= 20; ++i) sweep.push_back(i / 20.0);
  nlohmann::json curve = nlohmann::json::array();
  for (const auto& point : exit_curve(exits, policy, fine, sweep)) curve.push_back(to_json(point));
  nlohmann::json result = {{"accuracy", exit_accuracies(exits, label_targets(network.spec(), fine))},
                           {"exit_curve", curve}};
  if (network.thresholds().size() + 1 == policy.size())
    result["policy"] = to_json(apply_policy(exits, policy, fine, network.thresholds()));
  return result;
}

}  // namespace hddnn::nn
