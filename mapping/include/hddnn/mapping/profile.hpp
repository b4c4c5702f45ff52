// Model profile: what the planner knows of a trained multi-exit network (written
// by `hddnn train` into runs/X/profile.json): per section, in chain order end, edge,
// cloud, its parameter bytes, output bytes per sample, compute time at speed 1.0 and
// the fraction of the samples reaching it that pass on past its exit (reach() multiplies them).
//
// Contract: a parsed profile has at least one section, non-negative sizes and times,
// escalate fractions in [0, 1], and 0 for the last section's out_bytes and
// escalate_fraction. Anything else is a ConfigError naming the section and field.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hddnn/mapping/topology.hpp"

namespace hddnn::mapping {

struct Section {
  std::string name;
  Tier tier = Tier::End;  ///< the tier it was designed for
  double param_bytes = 0;
  double out_bytes = 0;          ///< bytes per sample sent to the next section
  double compute_ms_batch1 = 0;  ///< at speed 1.0
  double compute_ms_batch32 = 0;
  double escalate_fraction = 0;  ///< of the samples reaching this section, the fraction passing on past its exit
};

struct ModelProfile {
  double input_bytes = 0;
  std::vector<Section> sections;

  /// Fraction of requests reaching section k: product of the earlier escalate fractions.
  double reach(std::size_t k) const;
};

ModelProfile parse_profile(const nlohmann::json& document, const std::string& source_name);
ModelProfile load_profile(const std::string& path);

}  // namespace hddnn::mapping
