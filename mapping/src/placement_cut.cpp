#include "placement_cut.hpp"

// Boost.Graph's edge iterators trip GCC 12's -Wmaybe-uninitialized at -O2 (a false
// positive inside Boost); silence it for these headers only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/boykov_kolmogorov_max_flow.hpp>
#include <boost/graph/edmonds_karp_max_flow.hpp>
#include <boost/graph/push_relabel_max_flow.hpp>
#pragma GCC diagnostic pop
#include <cmath>
#include <queue>

namespace hddnn::mapping::detail {
namespace {

using Traits = boost::adjacency_list_traits<boost::vecS, boost::vecS, boost::directedS>;
using Graph = boost::adjacency_list<
    boost::vecS, boost::vecS, boost::directedS,
    boost::property<boost::vertex_color_t, boost::default_color_type,
                    boost::property<boost::vertex_distance_t, long,
                                    boost::property<boost::vertex_predecessor_t, Traits::edge_descriptor>>>,
    boost::property<boost::edge_capacity_t, long,
                    boost::property<boost::edge_residual_capacity_t, long,
                                    boost::property<boost::edge_reverse_t, Traits::edge_descriptor>>>>;

constexpr double kInfinite = std::numeric_limits<double>::infinity();

struct ArcList {
  struct Arc {
    int from, to;
    double cost;  // kInfinite for a constraint
  };
  int vertices = 2;  // 0 = source, 1 = sink
  std::vector<Arc> arcs;
  void add(int from, int to, double cost) {
    if (cost > 0) arcs.push_back({from, to, cost});
  }
};

constexpr int kSource = 0;
constexpr int kSink = 1;

int node(const PlacementProblem& problem, int layer, int hop) {
  return 2 + layer * static_cast<int>(problem.hops.size()) + hop;
}

// Cost of hop h for one send of `bytes`, with the end device's radio energy on hop 0.
double send_cost(const PlacementProblem& problem, int hop, double bytes) {
  const PlacementHop& link = problem.hops[hop];
  double cost = link.transfer_ms(bytes);
  if (hop == 0) cost += problem.energy_weight * bytes * link.radio_nj_per_byte * 1e-9;
  return cost;
}

void add_layer_chains(const PlacementProblem& problem, const CutRestrictions& restrictions, ArcList& list) {
  int hops = static_cast<int>(problem.hops.size());
  for (int v = 0; v < static_cast<int>(problem.layers.size()); ++v) {
    const PlacementLayer& layer = problem.layers[v];
    for (int tier = 0; tier <= hops; ++tier) {
      double cost = layer.compute_ms[tier];
      if (tier == 0) cost += problem.energy_weight * cost * problem.end_power_w * 1e-3;
      if (restrictions.forbidden[v][tier]) cost = kInfinite;
      int from = tier == 0 ? kSource : node(problem, v, tier - 1);
      int to = tier == hops ? kSink : node(problem, v, tier);
      list.add(from, to, cost);
      if (tier > 0 && tier < hops) list.add(to, from, kInfinite);
    }
    for (int pin : {layer.pinned, restrictions.pinned[v]}) {
      if (pin < 0) continue;
      if (pin > 0) list.add(kSource, node(problem, v, pin - 1), kInfinite);
      if (pin < hops) list.add(node(problem, v, pin), kSink, kInfinite);
    }
  }
}

// Producer p (or the input) pays hop h when some consumer is above h and p is not.
void add_tensor_arcs(const PlacementProblem& problem, ArcList& list) {
  int layers = static_cast<int>(problem.layers.size());
  std::vector<std::vector<int>> consumers(layers + 1);  // index layers = the input
  for (int v = 0; v < layers; ++v)
    for (int p : problem.layers[v].inputs) {
      consumers[p == kInputLayer ? layers : p].push_back(v);
      if (p != kInputLayer)
        for (int h = 0; h < static_cast<int>(problem.hops.size()); ++h)
          list.add(node(problem, p, h), node(problem, v, h), kInfinite);
    }
  for (int p = 0; p <= layers; ++p) {
    bool input = p == layers;
    double bytes = input ? problem.input_bytes : problem.layers[p].out_bytes;
    double weight = input ? problem.input_send_weight : problem.layers[p].send_weight;
    for (int h = 0; h < static_cast<int>(problem.hops.size()) && !consumers[p].empty(); ++h) {
      int producer = input ? kSink : node(problem, p, h);
      double cost = weight * send_cost(problem, h, bytes);
      if (consumers[p].size() == 1) {
        list.add(node(problem, consumers[p][0], h), producer, cost);
        continue;
      }
      int auxiliary = list.vertices++;
      for (int c : consumers[p]) list.add(node(problem, c, h), auxiliary, kInfinite);
      list.add(auxiliary, producer, cost);
    }
  }
}

void add_result_arcs(const PlacementProblem& problem, ArcList& list) {
  for (int v = 0; v < static_cast<int>(problem.layers.size()); ++v) {
    double weight = problem.layers[v].return_weight;
    for (int h = 0; h < static_cast<int>(problem.hops.size()) && weight > 0; ++h)
      list.add(node(problem, v, h), kSink, weight * problem.hops[h].transfer_ms(problem.result_bytes));
  }
}

// Integer capacities keep the three max-flow algorithms exact and in agreement.
struct Scaled {
  Graph graph;
  double scale = 1;
  long infinite = 0;
};

Scaled build_graph(const ArcList& list) {
  double finite_total = 0;
  for (const auto& arc : list.arcs)
    if (arc.cost != kInfinite) finite_total += arc.cost;
  Scaled scaled;
  scaled.scale = std::min(1e6, std::ldexp(1.0, 40) / std::max(finite_total, 1e-9));
  scaled.infinite = std::llround(finite_total * scaled.scale) + 1;
  scaled.graph = Graph(list.vertices);
  auto capacity = boost::get(boost::edge_capacity, scaled.graph);
  auto reverse = boost::get(boost::edge_reverse, scaled.graph);
  for (const auto& arc : list.arcs) {
    auto forward = boost::add_edge(arc.from, arc.to, scaled.graph).first;
    auto backward = boost::add_edge(arc.to, arc.from, scaled.graph).first;
    capacity[forward] = arc.cost == kInfinite ? scaled.infinite : std::llround(arc.cost * scaled.scale);
    capacity[backward] = 0;
    reverse[forward] = backward;
    reverse[backward] = forward;
  }
  return scaled;
}

long run_max_flow(Graph& graph, MaxFlowAlgorithm algorithm) {
  switch (algorithm) {
    case MaxFlowAlgorithm::BoykovKolmogorov: return boost::boykov_kolmogorov_max_flow(graph, kSource, kSink);
    case MaxFlowAlgorithm::PushRelabel: return boost::push_relabel_max_flow(graph, kSource, kSink);
    case MaxFlowAlgorithm::EdmondsKarp: return boost::edmonds_karp_max_flow(graph, kSource, kSink);
  }
  return 0;
}

// The source side of the minimum cut: vertices reachable from s in the residual graph.
std::vector<char> source_side(const Graph& graph) {
  auto residual = boost::get(boost::edge_residual_capacity, graph);
  std::vector<char> reached(boost::num_vertices(graph), 0);
  std::queue<std::size_t> frontier;
  frontier.push(kSource);
  reached[kSource] = 1;
  while (!frontier.empty()) {
    auto u = frontier.front();
    frontier.pop();
    for (auto [edge, end] = boost::out_edges(u, graph); edge != end; ++edge) {
      auto v = boost::target(*edge, graph);
      if (!reached[v] && residual[*edge] > 0) {
        reached[v] = 1;
        frontier.push(v);
      }
    }
  }
  return reached;
}

}  // namespace

CutRestrictions no_restrictions(const PlacementProblem& problem) {
  CutRestrictions restrictions;
  restrictions.pinned.assign(problem.layers.size(), -1);
  restrictions.forbidden.assign(problem.layers.size(), std::vector<char>(problem.tiers.size(), 0));
  return restrictions;
}

CutOutcome min_cut_placement(const PlacementProblem& problem, const CutRestrictions& restrictions,
                             MaxFlowAlgorithm algorithm) {
  ArcList list;
  list.vertices = 2 + static_cast<int>(problem.layers.size() * problem.hops.size());
  add_layer_chains(problem, restrictions, list);
  add_tensor_arcs(problem, list);
  add_result_arcs(problem, list);
  Scaled scaled = build_graph(list);
  long flow = run_max_flow(scaled.graph, algorithm);
  CutOutcome outcome;
  outcome.feasible = flow < scaled.infinite;
  outcome.flow_ms = static_cast<double>(flow) / scaled.scale;
  std::vector<char> reached = source_side(scaled.graph);
  outcome.tier.assign(problem.layers.size(), 0);
  for (int v = 0; v < static_cast<int>(problem.layers.size()); ++v)
    for (int h = 0; h < static_cast<int>(problem.hops.size()); ++h) outcome.tier[v] += reached[node(problem, v, h)];
  return outcome;
}

}  // namespace hddnn::mapping::detail
