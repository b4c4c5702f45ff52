// The s-t graph of a placement problem and its minimum cut (internal to placement).
//
// Node (layer v, hop h) lies on the source side iff v runs above hop h. Each layer's
// chain s -> (v,0) -> ... -> (v,H-1) -> t is cut exactly once, at the edge of its tier,
// which carries the layer's compute cost; reverse infinite edges keep the chain
// monotone; infinite (u,h) -> (v,h) edges keep producers at or below consumers; a
// tensor with several consumers pays each hop once through an auxiliary node (DADS).
#pragma once

#include <vector>

#include "hddnn/mapping/placement.hpp"

namespace hddnn::mapping::detail {

/// Extra constraints of one branch of the memory search.
struct CutRestrictions {
  std::vector<int> pinned;                   ///< per layer: tier or -1 (added to the layer's own pin)
  std::vector<std::vector<char>> forbidden;  ///< per layer, per tier
};

struct CutOutcome {
  bool feasible = false;
  std::vector<int> tier;
  double flow_ms = 0;
};

CutRestrictions no_restrictions(const PlacementProblem& problem);
CutOutcome min_cut_placement(const PlacementProblem& problem, const CutRestrictions& restrictions,
                             MaxFlowAlgorithm algorithm);

}  // namespace hddnn::mapping::detail
