// Random instances for the mapping benchmark: routing problems, layer DAGs, and
// lab7-like topologies with a representative model profile.
#pragma once

#include <random>

#include "hddnn/mapping/placement.hpp"
#include "hddnn/mapping/plan.hpp"
#include "hddnn/mapping/routing.hpp"

namespace hddnn::mapping::bench {

/// `streams` streams over `nodes` M/M/1 nodes at total utilisation `load`; each stream
/// may use up to 4 nodes (its home, the two next to it and one shared node), costs
/// 1-50 ms; homes are drawn in proportion to node capacity.
RoutingProblem random_routing(std::mt19937& rng, int streams, int nodes, double load);

/// A DAG of `layers` layers on end -> edge -> cloud with branches and skips.
PlacementProblem random_dag(std::mt19937& rng, int layers);

/// The model profile used for planning benchmarks (end/edge/cloud sections).
ModelProfile representative_profile();

/// lab7 with speeds, link latencies and bandwidths perturbed by up to +-`spread`.
Topology perturbed(const Topology& base, std::mt19937& rng, double spread);

}  // namespace hddnn::mapping::bench
