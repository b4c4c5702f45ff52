#include "hddnn/mapping/solve.hpp"

#include "hddnn/errors.hpp"
#include "hddnn/mapping/json_fields.hpp"
#include "hddnn/mapping/placement.hpp"
#include "hddnn/mapping/plan.hpp"
#include "hddnn/mapping/routing.hpp"

namespace hddnn::mapping {

using nlohmann::json;

json solve(const json& problem, const std::string& source_name) {
  FieldReader fields(problem, source_name);
  std::string kind = fields.string("kind");
  if (kind == "placement") {
    PlacementProblem placement = parse_placement(problem, source_name);
    return placement_result_to_json(placement, solve_placement(placement));
  }
  if (kind == "routing") {
    RoutingProblem routing = parse_routing(problem, source_name);
    return routing_result_to_json(routing, solve_routing(routing));
  }
  fields.fail("kind", "\"placement\" or \"routing\"");
}

json plan_json(const json& topology, const json& profile, const json& rates, const json& options,
               const std::string& topology_name, const std::string& profile_name) {
  Topology parsed = parse_topology(topology, topology_name);
  ModelProfile model = parse_profile(profile, profile_name);
  std::vector<double> rate_list;
  if (!rates.is_array()) throw ConfigError("plan: rates must be a list with one rate per end device");
  for (const json& rate : rates) {
    if (!rate.is_number()) throw ConfigError("plan: rates must be numbers, got " + rate.dump());
    rate_list.push_back(rate.get<double>());
  }
  return plan_to_json(parsed, plan(parsed, model, rate_list, parse_plan_options(options, parsed)));
}

}  // namespace hddnn::mapping
