// Coarse solve then refinement for routing (internal to routing).
//
// Coarse: sweeps of block-coordinate descent on the continuous problem (each stream
// in turn re-splits its rate by water-filling against the others' loads, Newton from
// its last level; streams in order of their lowest node, and streams a sweep left
// unchanged skipped but every few sweeps) give near-optimal congestion prices and
// loads. Refinement: streams whose best option beats the next by a clear margin at
// those prices are fixed to it, and the min-cost flow routes the rest over the
// piecewise-linear delays, above the fixed load, each node keeping its fine pieces
// only around its coarse load (chords beyond: a few arcs to fill instead of 35).
// Attempts: a tight one first (few sweeps, small margin, one fine piece per node);
// when it does not certify, the coarse solve goes on and a wider one follows.
// Certificate: an answer is accepted only when its true objective is within
// kChordTolerance of a Lagrangian lower bound on the continuous optimum (the dual
// at the coarse prices and at the answer's own marginal delays) - the same guarantee
// as the full flow's. Otherwise the caller routes every stream over every piece.
#pragma once

#include <optional>
#include <vector>

#include "routing_flow.hpp"

namespace hddnn::mapping::detail {

/// The certified refined answer, or nullopt when the flow fails or the bound is not met.
std::optional<FlowAnswer> refine(const RoutingProblem& problem, const DelayPieces& pieces, double scale);

}  // namespace hddnn::mapping::detail
