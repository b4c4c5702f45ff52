#include "routing_flow.hpp"

// Boost.Graph's edge iterators trip GCC 12's -Wmaybe-uninitialized at -O2 (a false
// positive inside Boost); silence it for these headers only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <boost/graph/push_relabel_max_flow.hpp>
#include <boost/graph/successive_shortest_path_nonnegative_weights.hpp>
#pragma GCC diagnostic pop
#include <cmath>
#include <numeric>
#include <tuple>
#include <utility>
#include <vector>

namespace hddnn::mapping::detail {

namespace {

constexpr double kQuantaPerUnit = 1e8;  // flow quanta per unit of the larger of capacity and load
constexpr double kWeightRange = 1e12;   // largest arc weight

double delay(double u) { return u / (1.0 - u); }

// A flow network collected arc by arc, then frozen into a compressed-sparse-row graph
// (arcs contiguous per vertex, properties in flat vectors) for Boost's max-flow and
// min-cost-flow algorithms. Each added arc comes with its zero-capacity reverse; an
// arc's id is its insertion order, and flow() reads it back after the one solve a
// network allows.
class FlowNetwork {
  using Graph = boost::compressed_sparse_row_graph<boost::directedS>;
  using Edge = Graph::edge_descriptor;

  // A property map over the graph's arcs, stored in `values` (indexed by CSR position).
  template <class T>
  auto arc_map(std::vector<T>& values) const {
    return boost::make_iterator_property_map(values.begin(), boost::get(boost::edge_index, graph_));
  }

 public:
  explicit FlowNetwork(std::size_t vertices) : vertices_(vertices) {}

  std::size_t add_arc(std::size_t from, std::size_t to, long capacity, double weight) {
    for (auto [tail, head, cap, w] : {std::tuple{from, to, capacity, weight}, std::tuple{to, from, 0L, -weight}}) {
      tail_.push_back(tail), head_.push_back(head), capacity_.push_back(cap), weight_.push_back(w);
    }
    return tail_.size() - 2;
  }

  /// Maximum flow from s to t (push-relabel).
  long max_flow(std::size_t s, std::size_t t) {
    freeze();
    return boost::push_relabel_max_flow(graph_, s, t, arc_map(capacity_), arc_map(residual_), arc_map(reverse_),
                                        boost::get(boost::vertex_index, graph_));
  }

  /// Minimum-cost maximum flow from s to t (successive shortest paths, Dijkstra).
  void min_cost_flow(std::size_t s, std::size_t t) {
    freeze();
    std::vector<Edge> pred(vertices_);
    std::vector<double> distance(vertices_), potential(vertices_);
    auto index = boost::get(boost::vertex_index, graph_);
    boost::successive_shortest_path_nonnegative_weights(graph_, s, t, arc_map(capacity_), arc_map(residual_),
                                                        arc_map(weight_), arc_map(reverse_), index,
                                                        boost::make_iterator_property_map(pred.begin(), index),
                                                        boost::make_iterator_property_map(distance.begin(), index),
                                                        boost::make_iterator_property_map(potential.begin(), index));
  }

  long flow(std::size_t arc) const { return capacity_[position_[arc]] - residual_[position_[arc]]; }

 private:
  // Places the arcs by tail (a counting sort keeping insertion order within a tail, so
  // position_ maps ids to CSR positions) and builds the graph.
  void freeze() {
    std::vector<std::size_t> next(vertices_ + 1, 0);
    for (std::size_t tail : tail_) ++next[tail + 1];
    std::partial_sum(next.begin(), next.end(), next.begin());
    position_.resize(tail_.size());
    for (std::size_t id = 0; id < tail_.size(); ++id) position_[id] = next[tail_[id]]++;
    std::vector<std::pair<std::size_t, std::size_t>> arcs(tail_.size());
    std::vector<long> capacity(tail_.size());
    std::vector<double> weight(tail_.size());
    for (std::size_t id = 0; id < tail_.size(); ++id) {
      arcs[position_[id]] = {tail_[id], head_[id]};
      capacity[position_[id]] = capacity_[id];
      weight[position_[id]] = weight_[id];
    }
    graph_ = Graph(boost::edges_are_sorted, arcs.begin(), arcs.end(), vertices_);
    reverse_.resize(tail_.size());
    for (std::size_t id = 0; id < tail_.size(); ++id) {
      std::size_t twin = id ^ 1;  // an arc and its reverse are added as a pair
      reverse_[position_[id]] = Edge(tail_[twin], position_[twin]);
    }
    capacity_.swap(capacity), weight_.swap(weight);
    residual_.assign(capacity_.size(), 0);
  }

  std::size_t vertices_;
  std::vector<std::size_t> tail_, head_, position_;
  std::vector<long> capacity_, residual_;
  std::vector<double> weight_;
  std::vector<Edge> reverse_;
  Graph graph_;
};

std::vector<long> fixed_loads(const RoutingProblem& problem, const DelayPieces& pieces, const FlowSpec& spec) {
  std::vector<long> load(problem.nodes.size(), 0);
  for (std::size_t i = 0; i < problem.streams.size(); ++i)
    if (spec.fixed_option[i] >= 0) load[problem.streams[i].options[spec.fixed_option[i]].node] += pieces.supply[i];
  return load;
}

// Cost of node j's pieces between loads `from` <= `to` (quanta, weight units).
double piece_cost(const DelayPieces& pieces, std::size_t node, long from, long to) {
  const auto& bound = pieces.bound[node];
  double cost = 0;
  for (std::size_t m = 1; m < bound.size(); ++m) {
    long low = std::max(from, bound[m - 1]), high = std::min(to, bound[m]);
    if (high > low) cost += static_cast<double>(high - low) * pieces.slope[node][m - 1];
  }
  return cost;
}

// Breakpoint indices the flow keeps for node j: 0, the window's and the last.
std::vector<std::size_t> kept_breakpoints(const DelayPieces& pieces, const FlowSpec& spec, std::size_t node) {
  std::size_t last = pieces.bound[node].size() - 1;
  if (spec.window.empty()) {
    std::vector<std::size_t> all(last + 1);
    std::iota(all.begin(), all.end(), 0);
    return all;
  }
  std::vector<std::size_t> kept{0};
  for (std::size_t m = std::max<std::size_t>(spec.window[node].first, 1); m < std::min(spec.window[node].second, last);
       ++m)
    kept.push_back(m);
  kept.push_back(last);
  return kept;
}

// Node j's arcs above `preload`: one per kept segment, at its chord's slope; false
// when the preload alone passes the cap.
bool add_pieces(FlowNetwork& network, const DelayPieces& pieces, const FlowSpec& spec, std::size_t node,
                std::size_t vertex, long preload) {
  const auto& bound = pieces.bound[node];
  if (preload > bound.back()) return false;
  std::vector<std::size_t> kept = kept_breakpoints(pieces, spec, node);
  for (std::size_t c = 1; c < kept.size(); ++c) {
    long low = std::max(preload, bound[kept[c - 1]]), high = bound[kept[c]];
    if (high > low)
      network.add_arc(vertex, 1, high - low,
                      std::round(piece_cost(pieces, node, low, high) / static_cast<double>(high - low)));
  }
  return true;
}

}  // namespace

bool can_carry(const RoutingProblem& problem, double scale) {
  double capacity = 0;
  for (const auto& node : problem.nodes) capacity += problem.rho_max * node.service_rate_per_s;
  double quantum = capacity / kQuantaPerUnit;
  std::size_t streams = problem.streams.size();
  FlowNetwork network(2 + streams + problem.nodes.size());
  long supply = 0, unbounded = std::llround(capacity / quantum) + 1;
  for (std::size_t i = 0; i < streams; ++i) {
    long rate = std::llround(scale * problem.streams[i].rate_per_s / quantum);
    supply += rate;
    network.add_arc(0, 2 + i, rate, 0);
    for (const auto& option : problem.streams[i].options)
      network.add_arc(2 + i, 2 + streams + option.node, unbounded, 0);
  }
  for (std::size_t j = 0; j < problem.nodes.size(); ++j)
    network.add_arc(2 + streams + j, 1, std::llround(problem.rho_max * problem.nodes[j].service_rate_per_s / quantum),
                    0);
  return network.max_flow(0, 1) >= supply - static_cast<long>(streams) - 1;
}

FlowSpec every_piece(std::size_t streams) { return FlowSpec{std::vector<int>(streams, -1), {}}; }

DelayPieces delay_pieces(const RoutingProblem& problem, double scale) {
  std::vector<double> points = delay_breakpoints(problem.rho_max);
  double capacity = 0, rate = 0, largest = 1e-12;
  for (const auto& node : problem.nodes) capacity += problem.rho_max * node.service_rate_per_s;
  for (const auto& stream : problem.streams) rate += scale * stream.rate_per_s;
  DelayPieces pieces;
  pieces.quantum = std::max(capacity, rate) / kQuantaPerUnit;
  std::vector<std::vector<double>> slope_ms;
  for (const auto& node : problem.nodes) {
    pieces.bound.emplace_back();
    slope_ms.emplace_back();
    for (std::size_t k = 0; k < points.size(); ++k) {
      pieces.bound.back().push_back(std::llround(points[k] * node.service_rate_per_s / pieces.quantum));
      if (k == 0) continue;
      slope_ms.back().push_back(1000.0 * (delay(points[k]) - delay(points[k - 1])) /
                                ((points[k] - points[k - 1]) * node.service_rate_per_s));
      largest = std::max(largest, slope_ms.back().back());
    }
  }
  for (const auto& stream : problem.streams)
    for (const auto& option : stream.options) largest = std::max(largest, option.cost_ms);
  pieces.weight_units = kWeightRange / largest;
  for (auto& node : slope_ms) {
    pieces.slope.emplace_back();
    for (double s : node) pieces.slope.back().push_back(std::round(s * pieces.weight_units));
  }
  for (const auto& stream : problem.streams) {
    pieces.supply.push_back(std::llround(scale * stream.rate_per_s / pieces.quantum));
    pieces.cost.emplace_back();
    for (const auto& option : stream.options)
      pieces.cost.back().push_back(std::round(option.cost_ms * pieces.weight_units));
  }
  return pieces;
}

FlowAnswer solve_flow(const RoutingProblem& problem, const DelayPieces& pieces, const FlowSpec& spec) {
  std::vector<long> preload = fixed_loads(problem, pieces, spec);
  std::vector<int> routed;
  for (std::size_t i = 0; i < problem.streams.size(); ++i)
    if (spec.fixed_option[i] < 0) routed.push_back(static_cast<int>(i));
  std::size_t first_node = 2 + routed.size();
  FlowNetwork network(first_node + problem.nodes.size());
  FlowAnswer answer;
  for (std::size_t j = 0; j < problem.nodes.size(); ++j)
    if (!add_pieces(network, pieces, spec, j, first_node + j, preload[j])) return answer;
  std::vector<std::vector<std::size_t>> option_arcs;
  for (std::size_t r = 0; r < routed.size(); ++r) {
    int i = routed[r];
    network.add_arc(0, 2 + r, pieces.supply[i], 0);
    option_arcs.emplace_back();
    for (std::size_t k = 0; k < problem.streams[i].options.size(); ++k)
      option_arcs.back().push_back(
          network.add_arc(2 + r, first_node + problem.streams[i].options[k].node, pieces.supply[i], pieces.cost[i][k]));
  }
  network.min_cost_flow(0, 1);
  answer.load = preload;
  answer.routed_all = true;
  answer.streams_in_flow = static_cast<int>(routed.size());
  answer.fraction.resize(problem.streams.size());
  for (std::size_t i = 0; i < problem.streams.size(); ++i) {
    answer.fraction[i].assign(problem.streams[i].options.size(), 0.0);
    if (spec.fixed_option[i] >= 0) answer.fraction[i][spec.fixed_option[i]] = 1.0;
  }
  for (std::size_t r = 0; r < routed.size(); ++r) {
    int i = routed[r];
    long total = 0;
    for (std::size_t k = 0; k < option_arcs[r].size(); ++k) {
      long flow = network.flow(option_arcs[r][k]);
      answer.fraction[i][k] = static_cast<double>(flow);
      answer.load[problem.streams[i].options[k].node] += flow;
      total += flow;
    }
    answer.routed_all = answer.routed_all && total >= pieces.supply[i] - 1;
    if (total > 0) {
      for (double& f : answer.fraction[i]) f /= static_cast<double>(total);
    } else {  // a stream too small for one quantum takes its cheapest option
      auto cheapest = std::min_element(pieces.cost[i].begin(), pieces.cost[i].end()) - pieces.cost[i].begin();
      answer.fraction[i][cheapest] = 1.0;
    }
  }
  return answer;
}

}  // namespace hddnn::mapping::detail
