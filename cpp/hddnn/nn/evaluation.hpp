// Evaluation of a multi-exit network: accuracy per exit, the DDNN exit curve, and
// thresholds chosen on a validation split.
//
// The policy exits are the exits onto the finest label set of the chain sections
// (`fine` for Fashion-MNIST): end, edge, cloud for a
// single-view network; for a multi-view network the devices always send their
// features on, so the policy runs over the exits from the aggregating section up.
#pragma once

#include <torch/types.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hddnn/nn/network.hpp"

namespace hddnn::nn {

/// Every exit's logits over a whole set, in eval mode without gradients.
std::vector<ExitOutput> predict(Network& network, const torch::Tensor& images, const torch::Tensor& mask = {},
                                int64_t batch_size = 500);

/// Accuracy of each exit against its label set, keyed by exit name; `targets` holds
/// each label set's labels (label_targets in spec_data.hpp).
std::map<std::string, double> exit_accuracies(const std::vector<ExitOutput>& exits,
                                              const std::vector<torch::Tensor>& targets);

/// Indices (into `exits`) of the policy exits, in chain order.
std::vector<size_t> policy_exit_indices(const Network& network, const std::vector<ExitOutput>& exits);

struct PolicyOutcome {
  std::vector<double> thresholds;
  std::vector<std::string> exits;  ///< policy exit names
  std::vector<double> fractions;   ///< fraction of samples leaving at each policy exit
  double accuracy = 0.0;           ///< fine accuracy of the answers given
};

PolicyOutcome apply_policy(const std::vector<ExitOutput>& exits, const std::vector<size_t>& policy,
                           const torch::Tensor& fine, const std::vector<double>& thresholds);

/// One threshold T for all but the last policy exit, for each T in the sweep.
std::vector<PolicyOutcome> exit_curve(const std::vector<ExitOutput>& exits, const std::vector<size_t>& policy,
                                      const torch::Tensor& fine, const std::vector<double>& sweep);

/// Thresholds (searched on a grid per exit) exiting the most samples as early as
/// possible while accuracy stays >= last exit's accuracy - tolerance.
std::vector<double> choose_thresholds(const std::vector<ExitOutput>& exits, const std::vector<size_t>& policy,
                                      const torch::Tensor& fine, double tolerance);

nlohmann::json to_json(const PolicyOutcome& outcome);

/// One split scored in one pass: {"accuracy": {exit: acc}, "policy": outcome under the
/// network's thresholds (when chosen), "exit_curve": [outcome per T in 0, 0.05, .., 1]}.
/// `fine`: the finest set's labels (the other sets' follow from the spec).
nlohmann::json evaluate_split(Network& network, const torch::Tensor& images, const torch::Tensor& fine,
                              const torch::Tensor& mask = {});

}  // namespace hddnn::nn
