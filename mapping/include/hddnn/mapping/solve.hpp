// One entry point per problem file kind, JSON in and JSON out: what `hddnn map` and
// hddnn.mapping.solve call.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace hddnn::mapping {

/// Solves a `placement` or `routing` problem (docs/design.md) and returns the answer JSON.
/// ConfigError names the field or id at fault, or an unknown `kind`.
nlohmann::json solve(const nlohmann::json& problem, const std::string& source_name = "problem");

/// Plans a topology: rates has one entry per end device; options may hold rho_max,
/// exclude, max_iterations, energy_weight, result_bytes.
nlohmann::json plan_json(const nlohmann::json& topology, const nlohmann::json& profile, const nlohmann::json& rates,
                         const nlohmann::json& options, const std::string& topology_name = "topology",
                         const std::string& profile_name = "profile");

}  // namespace hddnn::mapping
