// Per-section profile for the scheduler (profile.json): parameters, FLOPs, bytes sent
// on, measured compute time at batch 1 and 32, and the fraction of samples each
// section passes on under the network's chosen thresholds (mapping::escalate_fractions),
// written through mapping::profile_to_json, the format's one owner.
//
// Contract: sections in chain order end, edge, cloud; for a multi-view network
// "end" is one device branch and its input_bytes and out_bytes are per device. Times are the fastest
// of repeated runs (other work on the host only adds time) in eval mode without gradients, on one
// thread: as the runtime runs
// a section (DeployedModel), so the planner, the load knob and the simulator price
// the compute the runtime really does.
#pragma once

#include <nlohmann/json.hpp>

#include "hddnn/nn/evaluation.hpp"
#include "hddnn/nn/network.hpp"

namespace hddnn::nn {

/// FLOPs of one sample through a spec section (trunk, exits, output), per device.
int64_t section_flops(const NetworkSpec& spec, size_t index);

/// The profile.json object; `outcome` is the policy applied to the test split.
nlohmann::json profile_network(Network& network, const PolicyOutcome& outcome,
                               const std::vector<size_t>& policy_sections);

}  // namespace hddnn::nn
