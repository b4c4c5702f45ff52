#include "baselines.hpp"

#include <metis.h>

#include <stdexcept>

namespace hddnn::mapping::bench {

namespace {

Plan skeleton(const Topology& topology, const ModelProfile& profile, const std::vector<double>& rates,
              const PlanOptions& options, Tier fixed) {
  Plan plan;
  std::vector<int> ends = topology.of_tier(Tier::End);
  for (std::size_t e = 0; e < ends.size(); ++e) {
    DevicePlan device;
    device.device = ends[e];
    device.rate_per_s = rates[e];
    device.active = rates[e] > 0 && !options.exclude.count(ends[e]);
    for (const Section& section : profile.sections)
      device.section_tier.push_back(fixed == Tier::End ? section.tier : fixed);
    std::size_t first = 0;
    while (first < device.section_tier.size() && device.section_tier[first] == Tier::End) ++first;
    device.escalation_per_s = rates[e] * profile.reach(first);
    plan.devices.push_back(device);
  }
  return plan;
}

std::vector<int> upstream_nodes(const Topology& topology, const PlanOptions& options) {
  std::vector<int> nodes;
  for (std::size_t n = 0; n < topology.devices.size(); ++n)
    if (topology.devices[n].tier != Tier::End && !options.exclude.count(static_cast<int>(n)))
      nodes.push_back(static_cast<int>(n));
  return nodes;
}

std::vector<idx_t> metis_parts(const Topology& topology, const Plan& plan, const std::vector<int>& nodes) {
  idx_t vertices = static_cast<idx_t>(plan.devices.size()), constraints = 1, parts = static_cast<idx_t>(nodes.size());
  std::vector<idx_t> xadj{0}, adjacency, vertex_weight, edge_weight;
  for (const DevicePlan& a : plan.devices) {
    vertex_weight.push_back(std::max<idx_t>(1, static_cast<idx_t>(100 * a.escalation_per_s)));
    for (const DevicePlan& b : plan.devices) {
      if (a.device == b.device) continue;
      adjacency.push_back(&b - plan.devices.data());
      edge_weight.push_back(topology.devices[a.device].parent == topology.devices[b.device].parent ? 10 : 1);
    }
    xadj.push_back(static_cast<idx_t>(adjacency.size()));
  }
  std::vector<real_t> share;
  double total = 0;
  for (int n : nodes) total += topology.devices[n].speed;
  for (int n : nodes) share.push_back(static_cast<real_t>(topology.devices[n].speed / total));
  std::vector<idx_t> part(vertices, 0);
  if (parts < 2) return part;
  idx_t cut = 0;
  idx_t options[METIS_NOPTIONS];
  METIS_SetDefaultOptions(options);
  options[METIS_OPTION_SEED] = 1;
  int status = METIS_PartGraphKway(&vertices, &constraints, xadj.data(), adjacency.data(), vertex_weight.data(),
                                   nullptr, edge_weight.data(), &parts, share.data(), nullptr, options, &cut,
                                   part.data());
  if (status != METIS_OK) throw std::runtime_error("METIS_PartGraphKway failed with status " + std::to_string(status));
  return part;
}

}  // namespace

Plan cloud_only_plan(const Topology& topology, const ModelProfile& profile, const std::vector<double>& rates,
                     const PlanOptions& options) {
  Plan plan = skeleton(topology, profile, rates, options, Tier::Cloud);
  for (DevicePlan& device : plan.devices)
    if (device.active) device.routing = {{topology.cloud(), 1.0}};
  evaluate_plan(topology, profile, options, plan);
  return plan;
}

Plan metis_balanced_plan(const Topology& topology, const ModelProfile& profile, const std::vector<double>& rates,
                         const PlanOptions& options) {
  Plan plan = skeleton(topology, profile, rates, options, Tier::End);
  std::vector<int> nodes = upstream_nodes(topology, options);
  std::vector<idx_t> part = metis_parts(topology, plan, nodes);
  for (std::size_t p = 0; p < plan.devices.size(); ++p) {
    DevicePlan& device = plan.devices[p];
    int node = nodes[part[p]];
    if (!topology.link_between(device.device, node)) node = topology.devices[device.device].parent;
    if (device.active && device.escalation_per_s > 0) device.routing = {{node, 1.0}};
  }
  evaluate_plan(topology, profile, options, plan);
  return plan;
}

}  // namespace hddnn::mapping::bench
