// The planner's cost model for one end device's requests (internal to plan).
// All times are per offered request of the device (weighted by reach), in ms.
#pragma once

#include <vector>

#include "hddnn/mapping/plan.hpp"

namespace hddnn::mapping::detail {

/// Index of the first section not on the end device (sections.size() when none).
std::size_t first_escalated(const std::vector<Tier>& section_tier);

/// Work at speed 1.0 the end device does per request.
double end_work_ms(const ModelProfile& profile, const std::vector<Tier>& section_tier);

/// Bytes that leave the end device with an escalated request.
double escalated_bytes(const ModelProfile& profile, std::size_t first);

/// One route of a device's escalations, to `node` (an edge, or the cloud).
struct RouteCost {
  bool usable = false;       ///< every link it needs exists
  double fixed_ms = 0;       ///< transfers, onward cloud compute (priced), returns
  double node_work_ms = 0;   ///< work at speed 1.0 at `node` itself
  double cloud_work_ms = 0;  ///< onward work at the cloud (routes via an edge)
};

RouteCost route_cost(const Topology& topology, const ModelProfile& profile, const PlanOptions& options, int device,
                     const std::vector<Tier>& section_tier, int node, const std::vector<double>& utilisation);

/// Nodes a device may send escalations to: linked, not excluded edges and cloud.
std::vector<int> candidate_nodes(const Topology& topology, const PlanOptions& options, int device);

/// t / (1 - rho) with rho capped below 1 so prices stay finite while iterating.
double congested(double time_ms, double rho);

}  // namespace hddnn::mapping::detail
