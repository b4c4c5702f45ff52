// Plan options and plans to and from JSON.
#include <cmath>

#include "hddnn/errors.hpp"
#include "hddnn/mapping/json_fields.hpp"
#include "hddnn/mapping/plan.hpp"

namespace hddnn::mapping {

using nlohmann::json;

namespace {

json finite_or_null(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

json device_to_json(const Topology& topology, const DevicePlan& device) {
  json sections = json::array();
  for (Tier tier : device.section_tier) sections.push_back(tier_name(tier));
  json routing = json::object();
  for (const auto& [node, fraction] : device.routing) routing[topology.devices[node].name] = fraction;
  return {{"device", topology.devices[device.device].name},
          {"rank", device.device},
          {"active", device.active},
          {"rate_per_s", device.rate_per_s},
          {"sections", sections},
          {"edge", device.edge < 0 ? json(nullptr) : json(topology.devices[device.edge].name)},
          {"routing", routing},
          {"escalation_per_s", device.escalation_per_s},
          {"latency_ms", device.active ? finite_or_null(device.latency_ms) : json(nullptr)},
          {"end_energy_mj", device.end_energy_mj}};
}

}  // namespace

json plan_to_json(const Topology& topology, const Plan& plan) {
  json devices = json::array();
  for (const DevicePlan& device : plan.devices) devices.push_back(device_to_json(topology, device));
  json utilisation = json::object();
  for (std::size_t n = 0; n < topology.devices.size(); ++n) utilisation[topology.devices[n].name] = plan.utilisation[n];
  json answer = {{"kind", "plan"},
                 {"topology", topology.source},
                 {"devices", devices},
                 {"utilisation", utilisation},
                 {"mean_latency_ms", finite_or_null(plan.mean_latency_ms)},
                 {"iterations", plan.iterations},
                 {"converged", plan.converged},
                 {"feasible", plan.feasible}};
  if (!plan.feasible) answer["max_scale"] = plan.max_scale;
  return answer;
}

PlanOptions parse_plan_options(const json& document, const Topology& topology) {
  PlanOptions options;
  if (document.is_null()) return options;
  FieldReader fields(document, "plan options");
  options.rho_max = fields.number_or("rho_max", options.rho_max);
  if (options.rho_max <= 0 || options.rho_max >= 1) fields.fail("rho_max", "a utilisation in (0, 1)");
  options.max_iterations = static_cast<int>(fields.has("max_iterations") ? fields.integer("max_iterations") : 50);
  if (options.max_iterations < 1) fields.fail("max_iterations", "at least 1");
  options.energy_weight = fields.non_negative_or("energy_weight", 0);
  options.result_bytes = fields.non_negative_or("result_bytes", options.result_bytes);
  if (fields.has("exclude"))
    for (const json& ref : fields.array("exclude")) {
      int index = ref.is_number_integer() ? ref.get<int>()
                  : ref.is_string()       ? topology.index_of(ref.get<std::string>())
                                          : -1;
      if (index < 0 || index >= static_cast<int>(topology.devices.size()))
        throw ConfigError("plan options: field 'exclude' names unknown device " + ref.dump() + " of " +
                          topology.source);
      options.exclude.insert(index);
    }
  return options;
}

}  // namespace hddnn::mapping
