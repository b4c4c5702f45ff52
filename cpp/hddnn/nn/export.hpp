// Export for deployment: one TorchScript file per section plus manifest.json.
//
// Files: end.pt (or end0.pt .. end{V-1}.pt, one per device view; end.pt when the
// device branch is shared), edge.pt, cloud.pt — as the spec's sections. Each loads
// with torch::jit::load / torch.jit.load and its forward is the one documented in
// section_builder.hpp. manifest.json gives, per section, its file, tier, view,
// inputs and output shapes; per boundary the quantization and wire bytes; the chain
// order; the chosen thresholds per policy exit; the input normalisation; label names.
// Contract: modules are saved in eval mode; outputs equal Network::forward's.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "hddnn/nn/network.hpp"

namespace hddnn::nn {

/// Writes the section files and manifest.json into `dir` (created if needed);
/// returns the manifest. `policy_exits` names the exits the thresholds belong to.
nlohmann::json export_network(Network& network, const std::string& dir, const std::vector<std::string>& policy_exits);

}  // namespace hddnn::nn
