// Routing of escalation streams over nodes, optimally, by minimum-cost flow.
//
// Each node is an M/M/1 queue; its total delay g(l) = 1000 l/(mu - l) (ms x req/s) is
// convex in its load l. The solver replaces g by a piecewise-linear chord
// approximation on [0, rho_max mu], one arc per piece with increasing marginal cost,
// and solves the flow with Boost's successive_shortest_path_nonnegative_weights.
// Pieces are cut so each chord is within kChordTolerance (relative) of g at every
// load; since chords over-estimate g, the answer's true objective is within that
// factor of the continuous optimum (see routing.cpp, "Accuracy").
//
// Contract: solve_routing returns fractions per stream summing to 1 over its
// options, with every node's load <= rho_max mu. When the offered load cannot be
// carried it returns feasible = false, max_scale = the largest factor by which all
// rates can be scaled and still be carried, and the optimal split of the scaled load.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace hddnn::mapping {

/// Relative chord tolerance of the piecewise-linear delay (answers within 0.5%).
inline constexpr double kChordTolerance = 0.004;

struct RoutingOption {
  int node = -1;
  double cost_ms = 0;
};

struct RoutingStream {
  std::string id;
  double rate_per_s = 0;
  std::vector<RoutingOption> options;
};

struct RoutingNode {
  std::string id;
  double service_rate_per_s = 1;
};

struct RoutingProblem {
  double rho_max = 0.95;
  std::vector<RoutingStream> streams;
  std::vector<RoutingNode> nodes;
};

struct RoutingResult {
  bool feasible = true;
  double max_scale = 1;                       ///< 1 when feasible; else the largest sustainable factor
  double objective_ms = 0;                    ///< mean response time of the (scaled) load
  std::vector<std::vector<double>> fraction;  ///< per stream, per option
  std::vector<double> load_per_s;             ///< per node
  int pieces = 0;                             ///< delay pieces per node
  int streams_in_flow = 0;                    ///< streams the final flow routed (others fixed, certified)
};

/// Mean response time (ms) of a split, with every rate multiplied by `scale`:
/// [sum rate x fraction x cost + sum_nodes 1000 l/(mu - l)] / sum rate; +inf when a node
/// would be at or past saturation.
double routing_objective(const RoutingProblem& problem, const std::vector<std::vector<double>>& fraction,
                         double scale = 1.0);
std::vector<double> node_loads(const RoutingProblem& problem, const std::vector<std::vector<double>>& fraction,
                               double scale = 1.0);

/// Breakpoints u_0 = 0 < ... < u_K = rho_max of the utilisation axis where the chords
/// of u/(1-u) stay within `tolerance` of it (relative). Independent of mu.
std::vector<double> delay_breakpoints(double rho_max, double tolerance = kChordTolerance);

/// The largest factor s such that s x every rate can be carried under rho_max.
double max_sustainable_scale(const RoutingProblem& problem);

RoutingResult solve_routing(const RoutingProblem& problem);

RoutingProblem parse_routing(const nlohmann::json& document, const std::string& source_name);
nlohmann::json routing_result_to_json(const RoutingProblem& problem, const RoutingResult& result);

}  // namespace hddnn::mapping
