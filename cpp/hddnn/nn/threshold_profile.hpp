// The profile a run sees when it overrides every exit's entropy threshold: the model
// folder's profile.json with each section's escalate_fraction recomputed
// (mapping::escalate_fractions, the arithmetic profile.json is written with) from the
// exit shares that threshold gives on the test split (metrics.json's exit_curve), so
// the load knob, the coordinator's planner and the simulator price the load the
// override really sends upward. Torch-free.
//
// Contract: threshold < 0 gives profile.json as trained. A multi-view model (no
// "end/fine" exit: the aggregator's exits are not planned) keeps its profile. Every
// other field of the document is kept as written. ConfigError when a file is missing
// or malformed, or the threshold is not a point of the curve (naming the points).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace hddnn::nn {

nlohmann::json profile_at_threshold(const std::string& model_dir, double threshold);

}  // namespace hddnn::nn
