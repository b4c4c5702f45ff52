// Coarse solve then refinement for routing (internal to routing).
//
// Coarse: sweeps of block-coordinate descent on the continuous problem (each stream
// in turn re-splits its rate by water-filling against the others' loads) give
// near-optimal congestion prices. Refinement: streams whose best option beats the
// next by a clear margin at those prices are fixed to it, and the min-cost flow routes
// the rest over the same piecewise-linear delays, above the fixed load.
// Certificate: the combined answer is optimal for the whole piecewise-linear problem
// iff node prices exist within each node's subgradient at its load such that every
// stream uses only options of least cost + price (KKT): a system of difference
// constraints, solved with bellman_ford_shortest_paths. When it fails, the prices that
// certify the routed streams alone show which fixed streams are misplaced; they go back
// to the flow and the round repeats. The caller finally routes every stream.
#pragma once

#include <optional>
#include <vector>

#include "routing_flow.hpp"

namespace hddnn::mapping::detail {

/// The certified refined answer, or nullopt when the rounds run out.
std::optional<FlowAnswer> refine(const RoutingProblem& problem, const DelayPieces& pieces, double scale);

}  // namespace hddnn::mapping::detail
