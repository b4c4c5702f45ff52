#include "hddnn/mapping/plan.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "hddnn/errors.hpp"
#include "hddnn/mapping/placement.hpp"
#include "hddnn/mapping/routing.hpp"
#include "plan_model.hpp"

namespace hddnn::mapping {

namespace {

constexpr double kInfinite = std::numeric_limits<double>::infinity();
constexpr double kRelayServiceRate = 1e9;  // a node with no work only forwards

double budget_bytes(const Device& device) { return device.memory_mb > 0 ? device.memory_mb * 1e6 : kNoBudget; }

// The sections as a chain DAG on tiers end -> chain[1] -> ..., compute priced at the
// devices' current congestion.
PlacementProblem chain_problem(const Topology& topology, const ModelProfile& profile, const PlanOptions& options,
                               const std::vector<int>& chain, const std::vector<double>& price) {
  PlacementProblem problem;
  const Device& end = topology.devices[chain[0]];
  for (std::size_t t = 0; t < chain.size(); ++t) {
    problem.tiers.push_back(topology.devices[chain[t]].name);
    problem.memory_bytes.push_back(budget_bytes(topology.devices[chain[t]]));
    if (t == 0) continue;
    const Link* link = topology.link_between(chain[t - 1], chain[t]);
    problem.hops.push_back({link->latency_ms, link->bandwidth_mbps * 1000.0 / 8.0, t == 1 ? end.radio_nj_per_byte : 0});
  }
  problem.input_bytes = profile.input_bytes;
  problem.result_bytes = options.result_bytes;
  problem.end_power_w = end.power_w;
  problem.energy_weight = options.energy_weight;
  for (std::size_t k = 0; k < profile.sections.size(); ++k) {
    const Section& section = profile.sections[k];
    PlacementLayer layer;
    layer.id = section.name;
    layer.inputs = {k == 0 ? kInputLayer : static_cast<int>(k) - 1};
    if (k == 0) layer.pinned = 0;  // raw inputs never leave the end device
    layer.out_bytes = section.out_bytes;
    layer.param_bytes = section.param_bytes;
    layer.send_weight = profile.reach(k + 1);
    layer.return_weight = profile.reach(k) - profile.reach(k + 1);
    for (int device : chain)
      layer.compute_ms.push_back(detail::congested(
          profile.reach(k) * section.compute_ms_batch1 / topology.devices[device].speed, price[device]));
    problem.layers.push_back(layer);
  }
  return problem;
}

// Chains through each usable candidate: end -> edge -> cloud, end -> cloud, or
// end -> edge when the cloud is gone.
std::vector<std::vector<int>> candidate_chains(const Topology& topology, const PlanOptions& options, int device) {
  int cloud = topology.cloud();
  bool cloud_up = !options.exclude.count(cloud);
  std::vector<std::vector<int>> chains;
  for (int node : detail::candidate_nodes(topology, options, device)) {
    if (node == cloud) {
      chains.push_back({device, cloud});
    } else if (cloud_up && topology.link_between(node, cloud)) {
      chains.push_back({device, node, cloud});
    } else {
      chains.push_back({device, node});
    }
  }
  return chains;
}

// One min cut per candidate chain; the best sets the device's section tiers.
void place_device(const Topology& topology, const ModelProfile& profile, const PlanOptions& options,
                  const std::vector<double>& price, DevicePlan& device) {
  device.section_tier.assign(profile.sections.size(), Tier::End);
  device.edge = -1;
  std::vector<std::vector<int>> chains = candidate_chains(topology, options, device.device);
  if (chains.empty()) {  // nothing upstream is reachable: the device runs every section
    double params = 0;
    for (const Section& section : profile.sections) params += section.param_bytes;
    if (params > budget_bytes(topology.devices[device.device]))
      throw ConfigError(topology.source + ": device '" + topology.devices[device.device].name +
                        "' reaches no edge node or cloud and its memory_mb cannot hold every section");
    return;
  }
  double best = kInfinite;
  for (const auto& chain : chains) {
    PlacementProblem problem = chain_problem(topology, profile, options, chain, price);
    PlacementResult result;
    try {
      result = solve_placement(problem);
    } catch (const ConfigError&) {
      continue;  // this chain's memory budgets admit no placement
    }
    if (result.objective_ms >= best) continue;
    best = result.objective_ms;
    for (std::size_t k = 0; k < result.tier.size(); ++k)
      device.section_tier[k] = topology.devices[chain[result.tier[k]]].tier;
    device.edge = chain.size() == 3 || topology.devices[chain[1]].tier == Tier::Edge ? chain[1] : -1;
  }
  if (best == kInfinite)
    throw ConfigError(topology.source + ": device '" + topology.devices[device.device].name +
                      "': no tier chain fits the memory budgets");
}

struct RoutingSetup {
  RoutingProblem problem;
  std::vector<int> stream_device;  // plan.devices index per stream
  std::vector<int> node_device;    // topology index per routing node
};

RoutingSetup routing_setup(const Topology& topology, const ModelProfile& profile, const PlanOptions& options,
                           const Plan& plan, const std::vector<double>& price, double cloud_background) {
  RoutingSetup setup;
  setup.problem.rho_max = options.rho_max;
  std::vector<int> node_index(topology.devices.size(), -1);
  std::vector<double> work(topology.devices.size(), 0.0), rate(topology.devices.size(), 0.0);
  for (std::size_t p = 0; p < plan.devices.size(); ++p) {
    const DevicePlan& device = plan.devices[p];
    std::size_t first = detail::first_escalated(device.section_tier);
    if (!device.active || first == device.section_tier.size()) continue;
    double reach = profile.reach(first);
    RoutingStream stream{topology.devices[device.device].name, device.rate_per_s * reach, {}};
    for (int node : detail::candidate_nodes(topology, options, device.device)) {
      detail::RouteCost route = detail::route_cost(topology, profile, options, device.device, device.section_tier, node,
                                                   price);
      if (!route.usable) continue;
      if (node_index[node] < 0) {
        node_index[node] = static_cast<int>(setup.node_device.size());
        setup.node_device.push_back(node);
      }
      stream.options.push_back({node_index[node], route.fixed_ms / reach});
      work[node] += stream.rate_per_s * route.node_work_ms / reach;
      rate[node] += stream.rate_per_s;
    }
    if (stream.options.empty()) continue;
    setup.problem.streams.push_back(stream);
    setup.stream_device.push_back(static_cast<int>(p));
  }
  for (int node : setup.node_device) {
    double mean_work = rate[node] > 0 ? work[node] / rate[node] : 0.0;
    double mu = mean_work > 1e-12 ? 1000.0 * topology.devices[node].speed / mean_work : kRelayServiceRate;
    if (node == topology.cloud()) mu *= std::max(1e-6, 1.0 - cloud_background);
    setup.problem.nodes.push_back({topology.devices[node].name, mu});
  }
  return setup;
}

void apply_routing(const RoutingSetup& setup, const RoutingResult& result, Plan& plan) {
  for (DevicePlan& device : plan.devices) device.routing.clear();
  for (std::size_t i = 0; i < setup.problem.streams.size(); ++i) {
    DevicePlan& device = plan.devices[setup.stream_device[i]];
    const RoutingStream& stream = setup.problem.streams[i];
    for (std::size_t k = 0; k < stream.options.size(); ++k)
      if (result.fraction[i][k] > 1e-9)
        device.routing.push_back({setup.node_device[stream.options[k].node], result.fraction[i][k]});
  }
}

// Cloud utilisation from sections that reach it through an edge.
double onward_cloud_utilisation(const Topology& topology, const ModelProfile& profile, const PlanOptions& options,
                                const Plan& plan) {
  int cloud = topology.cloud();
  std::vector<double> idle(topology.devices.size(), 0.0);
  double work = 0;
  for (const DevicePlan& device : plan.devices)
    for (const auto& [node, fraction] : device.routing)
      work +=
          device.rate_per_s * fraction *
          detail::route_cost(topology, profile, options, device.device, device.section_tier, node, idle).cloud_work_ms;
  return work / (1000.0 * topology.devices[cloud].speed);
}

double largest_change(const Plan& before, const Plan& after) {
  double change = 0;
  for (std::size_t n = 0; n < after.utilisation.size(); ++n)
    change = std::max(change, std::abs(after.utilisation[n] - before.utilisation[n]));
  for (std::size_t p = 0; p < after.devices.size(); ++p) {
    const DevicePlan& a = before.devices[p];
    const DevicePlan& b = after.devices[p];
    if (a.section_tier != b.section_tier || a.routing.size() != b.routing.size()) return 1.0;
    for (std::size_t r = 0; r < a.routing.size(); ++r) {
      if (a.routing[r].first != b.routing[r].first) return 1.0;
      change = std::max(change, std::abs(a.routing[r].second - b.routing[r].second));
    }
  }
  return change;
}

Plan initial_plan(const Topology& topology, const ModelProfile& profile, const std::vector<double>& rates,
                  const PlanOptions& options) {
  std::vector<int> ends = topology.of_tier(Tier::End);
  if (rates.size() != ends.size())
    throw ConfigError("plan: " + std::to_string(rates.size()) + " rates given for " + std::to_string(ends.size()) +
                      " end devices in " + topology.source);
  if (options.rho_max <= 0 || options.rho_max >= 1) throw ConfigError("plan: rho_max must be in (0, 1)");
  Plan plan;
  for (std::size_t e = 0; e < ends.size(); ++e) {
    if (!std::isfinite(rates[e]) || rates[e] < 0)
      throw ConfigError("plan: rate of end device '" + topology.devices[ends[e]].name + "' must be >= 0, got " +
                        std::to_string(rates[e]));
    DevicePlan device;
    device.device = ends[e];
    device.rate_per_s = rates[e];
    device.active = rates[e] > 0 && !options.exclude.count(ends[e]);
    device.section_tier.assign(profile.sections.size(), Tier::End);
    plan.devices.push_back(device);
  }
  plan.utilisation.assign(topology.devices.size(), 0.0);
  return plan;
}

// One round: place every device at the current prices, route, evaluate.
Plan plan_round(const Topology& topology, const ModelProfile& profile, const PlanOptions& options, const Plan& previous,
                const std::vector<double>& price) {
  Plan next = previous;
  for (DevicePlan& device : next.devices)
    if (device.active) place_device(topology, profile, options, price, device);
  RoutingSetup setup = routing_setup(topology, profile, options, next, price,
                                     onward_cloud_utilisation(topology, profile, options, previous));
  RoutingResult routed = solve_routing(setup.problem);
  apply_routing(setup, routed, next);
  for (DevicePlan& device : next.devices)
    device.escalation_per_s = device.rate_per_s * profile.reach(detail::first_escalated(device.section_tier));
  next.max_scale = routed.feasible ? 1.0 : routed.max_scale;
  evaluate_plan(topology, profile, options, next);
  if (!routed.feasible) next.feasible = false;
  return next;
}

// Feasible beats infeasible; then the lower predicted mean latency.
bool better(const Plan& a, const Plan& b) {
  if (a.feasible != b.feasible) return a.feasible;
  return a.mean_latency_ms < b.mean_latency_ms;
}

}  // namespace

// A plan is a fixed point when re-placing it at the congestion it causes itself
// changes nothing. Prices move by successive averages (step 1/(round+1)), so they
// settle even where a placement would flip back and forth under a fixed step; a
// plan that is stable under lagging prices is re-checked at its own congestion
// (prices jump there when the check fails), so a placement that overloads a
// device is never taken for converged. The best plan of the rounds is returned.
Plan plan(const Topology& topology, const ModelProfile& profile, const std::vector<double>& rate_per_end_device,
          const PlanOptions& options) {
  Plan current = initial_plan(topology, profile, rate_per_end_device, options);
  std::optional<Plan> best;
  std::vector<double> price(topology.devices.size(), 0.0);
  bool converged = false;
  int round = 1;
  for (; round <= std::max(1, options.max_iterations); ++round) {
    Plan next = plan_round(topology, profile, options, current, price);
    const bool stable = round > 1 && largest_change(current, next) < 1e-3;
    current = std::move(next);
    if (!best || better(current, *best)) best = current;
    if (stable &&
        largest_change(current, plan_round(topology, profile, options, current, current.utilisation)) < 1e-3) {
      converged = true;
      break;
    }
    if (stable) {
      price = current.utilisation;
      continue;
    }
    double step = 1.0 / (round + 1);
    for (std::size_t n = 0; n < price.size(); ++n) price[n] += step * (current.utilisation[n] - price[n]);
  }
  best->converged = converged;
  best->iterations = std::min(round, std::max(1, options.max_iterations));
  return *best;
}

}  // namespace hddnn::mapping
