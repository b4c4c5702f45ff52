// The min-cost-flow network of a routing problem (internal to routing).
//
// Units: flow in integer quanta of rate; arc weights are integer-valued doubles (costs
// in ms times a common scale), so Dijkstra's reduced costs are exact. Node j's delay is
// a chain of piece arcs j -> sink, piece m carrying loads [B_{m-1}, B_m] at slope s_m.
#pragma once

#include <vector>

#include "hddnn/mapping/routing.hpp"

namespace hddnn::mapping::detail {

/// The piecewise-linear delays of every node, in flow units.
struct DelayPieces {
  double quantum = 1;                      ///< rate per flow unit
  double weight_units = 1;                 ///< weight per ms of cost
  std::vector<std::vector<long>> bound;    ///< per node: B_0 = 0 .. B_K (quanta)
  std::vector<std::vector<double>> slope;  ///< per node: s_1 .. s_K (weight units per quantum)
  std::vector<long> supply;                ///< per stream (quanta) at the solved scale
  std::vector<std::vector<double>> cost;   ///< per stream, per option (weight units)
};

DelayPieces delay_pieces(const RoutingProblem& problem, double scale);

/// Which streams the flow routes; every other stream is fixed whole to one option.
/// Per node, the flow may keep the pieces only within a window [first, last) of piece
/// indices and merge those below and above into one chord each (chords of the pieces,
/// so never below them): fewer arcs to fill, the same function inside the window.
struct FlowSpec {
  std::vector<int> fixed_option;                            ///< per stream: option index, or -1 to route by flow
  std::vector<std::pair<std::size_t, std::size_t>> window;  ///< per node; empty: every piece
};

/// Every piece of every node: no windows.
FlowSpec every_piece(std::size_t streams);

struct FlowAnswer {
  std::vector<std::vector<double>> fraction;
  std::vector<long> load;  ///< per node, quanta
  bool routed_all = false;
  int streams_in_flow = 0;  ///< streams the flow routed (the others were fixed)
};

/// successive_shortest_path_nonnegative_weights over the routed streams, with each
/// node's pieces starting above the load of its fixed streams.
FlowAnswer solve_flow(const RoutingProblem& problem, const DelayPieces& pieces, const FlowSpec& spec);

/// Can `scale` x every rate be carried under rho_max? One max flow (push-relabel).
bool can_carry(const RoutingProblem& problem, double scale);

}  // namespace hddnn::mapping::detail
