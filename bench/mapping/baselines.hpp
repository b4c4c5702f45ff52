// Baseline plans the planner is compared with, evaluated by the planner's own model.
#pragma once

#include "hddnn/mapping/plan.hpp"

namespace hddnn::mapping::bench {

/// Every section on the cloud; raw inputs sent straight there.
Plan cloud_only_plan(const Topology& topology, const ModelProfile& profile, const std::vector<double>& rates,
                     const PlanOptions& options);

/// Sections on their designed tiers; end devices partitioned over edge nodes and the
/// cloud by METIS (k-way, part weights proportional to node speed, vertices weighted
/// by escalation rate, edges joining devices that share a parent); each device sends
/// all its escalations to its part's node.
Plan metis_balanced_plan(const Topology& topology, const ModelProfile& profile, const std::vector<double>& rates,
                         const PlanOptions& options);

}  // namespace hddnn::mapping::bench
