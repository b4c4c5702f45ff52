// Coarse solve then refinement for routing (internal to routing).
//
// A few Frank-Wolfe steps on node loads give approximate congestion prices; streams
// whose best option beats the next by a clear margin are fixed to it, and the flow
// routes only the rest. The answer is then certified optimal for the whole
// piecewise-linear problem by its KKT conditions: node prices within each node's
// subgradient at its load such that every stream uses only options of least
// cost + price. That is a system of difference constraints, checked with
// bellman_ford_shortest_paths. Uncertified answers fall back to a wider refinement
// and finally to the flow over every stream.
#pragma once

#include <vector>

#include "routing_flow.hpp"

namespace hddnn::mapping::detail {

/// Per stream: the option to fix it to, or -1 to leave it to the flow. `margin`
/// scales the gap a fixed stream's best option must have over its second.
std::vector<int> fix_clear_choices(const RoutingProblem& problem, double scale, double margin);

/// True when `answer` is optimal for the piecewise-linear problem of `pieces`.
bool certify_optimal(const RoutingProblem& problem, const DelayPieces& pieces, const FlowAnswer& answer);

}  // namespace hddnn::mapping::detail
