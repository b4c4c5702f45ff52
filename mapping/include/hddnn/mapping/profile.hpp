// Model profile: what the planner knows of a trained multi-exit network (written
// by `hddnn train` into runs/X/profile.json): per section, in chain order end, edge,
// cloud, its parameter bytes, output bytes per sample, compute time at speed 1.0 and
// the fraction of the samples reaching it that pass on past its exit (reach() multiplies them).
//
// This file owns the format: nn/profile.cpp writes it through profile_to_json, and
// every reader (the planner, the simulator, the runtime, Python) goes through
// parse_profile (docs/design.md, "profile.json").
// Contract: a parsed profile has at least one section, non-negative sizes and times,
// escalate fractions in [0, 1], and 0 for the last section's out_bytes and
// escalate_fraction. Anything else is a ConfigError naming the section and field.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
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
  int64_t params = 0;            ///< parameter count (informational)
  int64_t flops = 0;             ///< per sample (informational)
};

struct ModelProfile {
  double input_bytes = 0;
  std::vector<Section> sections;

  /// Fraction of requests reaching section k: product of the earlier escalate fractions.
  double reach(std::size_t k) const;
};

ModelProfile parse_profile(const nlohmann::json& document, const std::string& source_name);
ModelProfile load_profile(const std::string& path);
/// The profile.json document (byte counts are whole numbers); parse_profile reads it back.
nlohmann::json profile_to_json(const ModelProfile& profile);

/// Each section's escalate_fraction from the share of samples each exit answers
/// (`answered[e]`, exit e on section `exit_section[e]`): of the samples reaching section
/// i (answered at section i or later), the share answered later; 0 for the last of
/// `sections` and for a section no sample reaches.
std::vector<double> escalate_fractions(const std::vector<double>& answered,
                                       const std::vector<std::size_t>& exit_section, std::size_t sections);

}  // namespace hddnn::mapping
