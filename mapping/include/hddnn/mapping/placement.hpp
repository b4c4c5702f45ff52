// Placement of a layer DAG on a chain of tiers (end -> edge -> cloud), exactly, by
// minimum s-t cut (DADS / Neurosurgeon generalised to a chain of hops).
//
// Model: the input starts on the first tier; data only moves up the chain; every
// tensor pays each hop it crosses once (latency + bytes/bytes_per_ms), however many
// consumers it has; results return down to the first tier. Optional: pins, per-tier
// memory budgets over param_bytes, and beta x end-device energy in the objective.
//
// Contract: solve_placement returns an optimal assignment (or throws ConfigError when
// the pins, forbidden tiers and budgets admit none). Its objective is recomputed by
// placement_cost, independently of the cut, and checked against the flow value.
#pragma once

#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace hddnn::mapping {

inline constexpr double kNoBudget = std::numeric_limits<double>::infinity();
inline constexpr int kInputLayer = -1;  ///< the DAG's input as a producer

struct PlacementLayer {
  std::string id;
  std::vector<int> inputs;  ///< producer layer indices; kInputLayer for the input
  double out_bytes = 0;
  std::vector<double> compute_ms;  ///< per tier; +inf forbids the tier
  double param_bytes = 0;
  int pinned = -1;           ///< tier index it must run on, or -1
  double send_weight = 1;    ///< expected sends of its output per request
  double return_weight = 0;  ///< fraction of requests whose result returns from here
};

struct PlacementHop {
  double latency_ms = 0;
  double bytes_per_ms = 1;
  double radio_nj_per_byte = 0;  ///< sender's energy per byte (counted on the first hop)

  double transfer_ms(double bytes) const { return latency_ms + bytes / bytes_per_ms; }
};

struct PlacementProblem {
  std::vector<std::string> tiers;  ///< chain order; tiers[0] holds the input
  std::vector<PlacementHop> hops;  ///< hops[h] joins tiers[h] and tiers[h+1]
  double input_bytes = 0;
  double input_send_weight = 1;
  double result_bytes = 0;
  std::vector<PlacementLayer> layers;
  std::vector<double> memory_bytes;  ///< per tier; kNoBudget when unbounded (empty: none)
  double end_power_w = 0;            ///< active power of the first tier's device
  double energy_weight = 0;          ///< beta, ms per joule spent on the first tier
  bool has_energy = false;           ///< energy fields were given: report end_energy_mj
};

enum class MaxFlowAlgorithm { BoykovKolmogorov, PushRelabel, EdmondsKarp };

struct PlacementResult {
  std::vector<int> tier;    ///< per layer, index into problem.tiers
  double objective_ms = 0;  ///< recomputed by placement_cost
  double end_energy_mj = 0;
  double max_flow_ms = 0;  ///< value of the last relaxation's cut
  int cuts_solved = 0;
};

/// Objective of an assignment, computed from the model directly (no graph):
/// +inf when it breaks monotonicity, a pin, a forbidden tier or a memory budget.
double placement_cost(const PlacementProblem& problem, const std::vector<int>& tier);
/// End-device energy of an assignment, in mJ: compute x power + bytes sent x radio.
double end_energy_mj(const PlacementProblem& problem, const std::vector<int>& tier);

PlacementResult solve_placement(const PlacementProblem& problem,
                                MaxFlowAlgorithm algorithm = MaxFlowAlgorithm::BoykovKolmogorov);

/// Layer indices in an order where producers come first; ConfigError naming a layer
/// on a cycle otherwise.
std::vector<int> topological_order(const PlacementProblem& problem, const std::string& where);

PlacementProblem parse_placement(const nlohmann::json& document, const std::string& source_name);
nlohmann::json placement_result_to_json(const PlacementProblem& problem, const PlacementResult& result);

}  // namespace hddnn::mapping
