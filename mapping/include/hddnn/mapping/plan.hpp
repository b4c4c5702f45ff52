// Mapping a topology: which tier runs each section of the multi-exit network for each
// end device, where each device's escalations go, and the latency that results.
//
// Cost model (units of docs/design.md): section k of a device's request runs with probability
// reach_k (product of earlier escalate fractions); its compute takes
// compute_ms.batch1 / speed on a device; a link costs latency + bytes*8/(Mbps*1000) ms.
// Every device is a processor-sharing M/M/1 queue: at utilisation rho a job of t ms
// takes t / (1 - rho). For one kind of work this is the routing objective's
// 1000 l / (mu - l) term, with service rate mu = 1000 speed / (work per request).
//
// The planner alternates placement (one min cut per candidate edge per device,
// compute priced at the current congestion) and routing (min-cost flow over edge
// nodes and the cloud), with congestion prices averaged over the rounds (method of successive averages), until
// placements, splits and utilisations stop changing, and reports the iterations it took.
//
// Contract: plan() keeps each device's first section on the device (raw inputs never
// leave it), never routes to an excluded device or over a missing link. The
// plan is feasible when every device's utilisation is at most rho_max; otherwise
// max_scale is the largest factor of the offered rates the plan's structure carries.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "hddnn/mapping/profile.hpp"
#include "hddnn/mapping/topology.hpp"

namespace hddnn::mapping {

struct PlanOptions {
  double rho_max = 0.95;
  std::set<int> exclude;     ///< device indices that are gone (dead or drained)
  int max_iterations = 50;   ///< congestion-price iterations
  double energy_weight = 0;  ///< beta: ms per joule spent on the end device
  double result_bytes = 8;   ///< size of an answer sent back to the end device
};

/// What one end device does with its requests.
struct DevicePlan {
  int device = -1;
  bool active = false;  ///< has offered load and is not excluded
  double rate_per_s = 0;
  std::vector<Tier> section_tier;               ///< per section: End, Edge (the routed-to edge) or Cloud
  int edge = -1;                                ///< edge of the best cut; -1 when its best chain skips edges
  std::vector<std::pair<int, double>> routing;  ///< (node index, fraction of escalations)
  double escalation_per_s = 0;                  ///< requests leaving the device per second
  double latency_ms = 0;                        ///< predicted mean response time (+inf when saturated)
  double end_energy_mj = 0;                     ///< end-device energy per request
};

struct Plan {
  std::vector<DevicePlan> devices;  ///< one per end device, in topology order
  std::vector<double> utilisation;  ///< per topology device
  double mean_latency_ms = 0;       ///< rate-weighted over active end devices
  int iterations = 0;
  bool converged = false;
  bool feasible = true;
  double max_scale = 1;
};

Plan plan(const Topology& topology, const ModelProfile& profile, const std::vector<double>& rate_per_end_device,
          const PlanOptions& options = {});

/// Fills utilisation, per-device latency and energy and the mean of a plan whose
/// section tiers and routing are set: the planner's own model, used for baselines too.
void evaluate_plan(const Topology& topology, const ModelProfile& profile, const PlanOptions& options, Plan& plan);

nlohmann::json plan_to_json(const Topology& topology, const Plan& plan);
/// Reads rho_max, exclude (names or indices), max_iterations, energy_weight, result_bytes.
PlanOptions parse_plan_options(const nlohmann::json& document, const Topology& topology);

}  // namespace hddnn::mapping
