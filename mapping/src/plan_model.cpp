#include "plan_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace hddnn::mapping::detail {

namespace {
constexpr double kInfinite = std::numeric_limits<double>::infinity();
constexpr double kPriceCap = 0.99;
}  // namespace

std::size_t first_escalated(const std::vector<Tier>& section_tier) {
  std::size_t k = 0;
  while (k < section_tier.size() && section_tier[k] == Tier::End) ++k;
  return k;
}

double end_work_ms(const ModelProfile& profile, const std::vector<Tier>& section_tier) {
  double work = 0;
  for (std::size_t k = 0; k < section_tier.size(); ++k)
    if (section_tier[k] == Tier::End) work += profile.reach(k) * profile.sections[k].compute_ms_batch1;
  return work;
}

double escalated_bytes(const ModelProfile& profile, std::size_t first) {
  return first == 0 ? profile.input_bytes : profile.sections[first - 1].out_bytes;
}

double congested(double time_ms, double rho) { return time_ms / (1.0 - std::min(rho, kPriceCap)); }

std::vector<int> candidate_nodes(const Topology& topology, const PlanOptions& options, int device) {
  std::vector<int> nodes;
  for (std::size_t n = 0; n < topology.devices.size(); ++n) {
    bool upstream = topology.devices[n].tier != Tier::End;
    if (upstream && !options.exclude.count(static_cast<int>(n)) && topology.link_between(device, static_cast<int>(n)))
      nodes.push_back(static_cast<int>(n));
  }
  return nodes;
}

RouteCost route_cost(const Topology& topology, const ModelProfile& profile, const PlanOptions& options, int device,
                     const std::vector<Tier>& section_tier, int node, const std::vector<double>& utilisation) {
  RouteCost cost;
  std::size_t first = first_escalated(section_tier);
  int cloud = topology.cloud();
  bool direct = node == cloud;
  const Link* up = topology.link_between(device, node);
  const Link* onward = direct ? nullptr : topology.link_between(node, cloud);
  bool onward_needed = false;
  for (std::size_t k = first; k < section_tier.size(); ++k) onward_needed |= !direct && section_tier[k] == Tier::Cloud;
  if (!up || (onward_needed && (!onward || options.exclude.count(cloud)))) return cost;
  cost.usable = true;
  if (first == section_tier.size()) return cost;
  cost.fixed_ms = profile.reach(first) * up->transfer_ms(escalated_bytes(profile, first));
  bool crossed = false;
  for (std::size_t k = first; k < section_tier.size(); ++k) {
    double work = profile.reach(k) * profile.sections[k].compute_ms_batch1;
    double exit_fraction = profile.reach(k) - profile.reach(k + 1);
    bool at_node = direct || section_tier[k] != Tier::Cloud;
    double back = up->transfer_ms(options.result_bytes);
    if (at_node) {
      cost.node_work_ms += work;
    } else {
      if (!crossed) cost.fixed_ms += profile.reach(k) * onward->transfer_ms(escalated_bytes(profile, k));
      crossed = true;
      cost.cloud_work_ms += work;
      cost.fixed_ms += congested(work / topology.devices[cloud].speed, utilisation[cloud]);
      back += onward->transfer_ms(options.result_bytes);
    }
    cost.fixed_ms += exit_fraction * back;
  }
  return cost;
}

}  // namespace hddnn::mapping::detail

namespace hddnn::mapping {

namespace {

// Work per second at speed 1.0 on every device, from the plan's tiers and routing.
std::vector<double> work_rates(const Topology& topology, const ModelProfile& profile, const PlanOptions& options,
                               const Plan& plan) {
  std::vector<double> work(topology.devices.size(), 0.0);
  for (const DevicePlan& device : plan.devices) {
    if (!device.active) continue;
    work[device.device] += device.rate_per_s * detail::end_work_ms(profile, device.section_tier);
    for (const auto& [node, fraction] : device.routing) {
      detail::RouteCost route = detail::route_cost(topology, profile, options, device.device, device.section_tier, node,
                                                   std::vector<double>(topology.devices.size(), 0.0));
      work[node] += device.rate_per_s * fraction * route.node_work_ms;
      work[topology.cloud()] += device.rate_per_s * fraction * route.cloud_work_ms;
    }
  }
  return work;
}

double device_latency(const Topology& topology, const ModelProfile& profile, const PlanOptions& options,
                      const Plan& plan, const DevicePlan& device) {
  const std::vector<double>& rho = plan.utilisation;
  double latency = detail::end_work_ms(profile, device.section_tier) / topology.devices[device.device].speed /
                   (1.0 - rho[device.device]);
  for (const auto& [node, fraction] : device.routing) {
    detail::RouteCost route = detail::route_cost(topology, profile, options, device.device, device.section_tier, node,
                                                 rho);
    double at_node = route.node_work_ms / topology.devices[node].speed / (1.0 - rho[node]);
    latency += fraction * (route.fixed_ms + at_node);
  }
  return latency;
}

}  // namespace

void evaluate_plan(const Topology& topology, const ModelProfile& profile, const PlanOptions& options, Plan& plan) {
  std::vector<double> work = work_rates(topology, profile, options, plan);
  plan.utilisation.assign(topology.devices.size(), 0.0);
  plan.feasible = true;
  double peak = 0;
  for (std::size_t n = 0; n < work.size(); ++n) {
    plan.utilisation[n] = work[n] / (1000.0 * topology.devices[n].speed);
    plan.feasible = plan.feasible && plan.utilisation[n] <= options.rho_max + 1e-9;
    peak = std::max(peak, plan.utilisation[n]);
  }
  double weighted = 0, total = 0;
  for (DevicePlan& device : plan.devices) {
    if (!device.active) continue;
    bool saturated = false;
    for (const auto& entry : device.routing) saturated |= entry.second > 0 && plan.utilisation[entry.first] >= 1.0;
    saturated |= plan.utilisation[device.device] >= 1.0;
    device.latency_ms = saturated ? std::numeric_limits<double>::infinity()
                                  : device_latency(topology, profile, options, plan, device);
    const Device& spec = topology.devices[device.device];
    std::size_t first = detail::first_escalated(device.section_tier);
    device.end_energy_mj = detail::end_work_ms(profile, device.section_tier) / spec.speed * spec.power_w +
                           profile.reach(first) * detail::escalated_bytes(profile, first) * spec.radio_nj_per_byte *
                               1e-6;
    weighted += device.rate_per_s * device.latency_ms;
    total += device.rate_per_s;
  }
  plan.mean_latency_ms = total > 0 ? weighted / total : 0.0;
  if (!plan.feasible) plan.max_scale = std::min(plan.max_scale, options.rho_max / peak);
}

}  // namespace hddnn::mapping
