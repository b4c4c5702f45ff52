#include "hddnn/mapping/routing.hpp"

// Boost.Graph's edge iterators trip GCC 12's -Wmaybe-uninitialized at -O2 (a false
// positive inside Boost); silence it for these headers only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/push_relabel_max_flow.hpp>
#include <boost/graph/successive_shortest_path_nonnegative_weights.hpp>
#pragma GCC diagnostic pop
#include <cmath>
#include <map>
#include <mutex>
#include <numeric>

namespace hddnn::mapping {

// Accuracy. Let g be the true delay of a node and h >= g its chord approximation with
// h <= (1 + e) g at every load (e = kChordTolerance; h = g at breakpoints and at 0).
// With F and H the objectives built from g and h, x* the continuous optimum and x_h
// the flow optimum: F(x_h) <= H(x_h) <= H(x*) <= (1 + e) F(x*). Integer rounding of
// rates and weights (about 1e-7 relative) keeps the total under 0.5%.

namespace {

using Traits = boost::adjacency_list_traits<boost::vecS, boost::vecS, boost::directedS>;
using FlowGraph = boost::adjacency_list<
    boost::vecS, boost::vecS, boost::directedS, boost::no_property,
    boost::property<boost::edge_capacity_t, long,
                    boost::property<boost::edge_residual_capacity_t, long,
                                    boost::property<boost::edge_reverse_t, Traits::edge_descriptor,
                                                    boost::property<boost::edge_weight_t, double>>>>>;
using Edge = Traits::edge_descriptor;

constexpr double kQuantaPerUnit = 1e8;  // flow quanta per unit of the total capacity
constexpr double kWeightRange = 1e12;   // integer-valued weights keep reduced costs exact

double delay(double u) { return u / (1.0 - u); }

// Largest relative excess of the chord over u/(1-u) on (a, b]. From a = 0 the ratio
// chord/f = (f(b)/b)(1-u) peaks as u -> 0; elsewhere the excess is unimodal (zero at
// both ends), so a ternary search finds it.
double chord_excess(double a, double b) {
  double fa = delay(a), fb = delay(b);
  if (a == 0) return fb / b - 1.0;
  auto excess = [&](double u) { return (fa + (fb - fa) * (u - a) / (b - a)) / delay(u) - 1.0; };
  double low = a, high = b;
  for (int i = 0; i < 100; ++i) {
    double left = low + (high - low) / 3, right = high - (high - low) / 3;
    if (excess(left) < excess(right)) {
      low = left;
    } else {
      high = right;
    }
  }
  return excess(0.5 * (low + high));
}

std::vector<double> compute_breakpoints(double rho_max, double tolerance) {
  std::vector<double> points{0.0};
  while (points.back() < rho_max) {
    double a = points.back(), low = a, high = rho_max;
    if (chord_excess(a, high) > tolerance) {
      for (int i = 0; i < 60; ++i) {
        double mid = 0.5 * (low + high);
        (chord_excess(a, mid) <= tolerance ? low : high) = mid;
      }
      high = low;
    }
    points.push_back(high);
  }
  return points;
}

Edge add_arc(FlowGraph& graph, int from, int to, long capacity, double weight) {
  auto forward = boost::add_edge(from, to, graph).first;
  auto backward = boost::add_edge(to, from, graph).first;
  boost::put(boost::edge_capacity, graph, forward, capacity);
  boost::put(boost::edge_capacity, graph, backward, 0);
  boost::put(boost::edge_weight, graph, forward, weight);
  boost::put(boost::edge_weight, graph, backward, -weight);
  boost::put(boost::edge_reverse, graph, forward, backward);
  boost::put(boost::edge_reverse, graph, backward, forward);
  return forward;
}

double total_rate(const RoutingProblem& problem) {
  double total = 0;
  for (const auto& stream : problem.streams) total += stream.rate_per_s;
  return total;
}

double total_capacity(const RoutingProblem& problem) {
  double total = 0;
  for (const auto& node : problem.nodes) total += problem.rho_max * node.service_rate_per_s;
  return total;
}

// Can `scale` x rates be carried? One max flow over streams -> nodes with capacities.
bool carries(const RoutingProblem& problem, double scale, double quantum) {
  int streams = static_cast<int>(problem.streams.size());
  FlowGraph graph(2 + streams + problem.nodes.size());
  long supply = 0, unbounded = std::llround(total_capacity(problem) / quantum) + 1;
  for (int i = 0; i < streams; ++i) {
    long rate = std::llround(scale * problem.streams[i].rate_per_s / quantum);
    supply += rate;
    add_arc(graph, 0, 2 + i, rate, 0);
    for (const auto& option : problem.streams[i].options) add_arc(graph, 2 + i, 2 + streams + option.node, unbounded, 0);
  }
  for (std::size_t j = 0; j < problem.nodes.size(); ++j)
    add_arc(graph, 2 + streams + j, 1,
            std::llround(problem.rho_max * problem.nodes[j].service_rate_per_s / quantum), 0);
  return boost::push_relabel_max_flow(graph, 0, 1) >= supply - streams - 1;
}

}  // namespace

std::vector<double> delay_breakpoints(double rho_max, double tolerance) {
  static std::mutex guard;
  static std::map<std::pair<double, double>, std::vector<double>> cache;
  std::lock_guard<std::mutex> lock(guard);
  auto key = std::make_pair(rho_max, tolerance);
  auto found = cache.find(key);
  if (found == cache.end()) found = cache.emplace(key, compute_breakpoints(rho_max, tolerance)).first;
  return found->second;
}

std::vector<double> node_loads(const RoutingProblem& problem, const std::vector<std::vector<double>>& fraction,
                               double scale) {
  std::vector<double> load(problem.nodes.size(), 0.0);
  for (std::size_t i = 0; i < problem.streams.size(); ++i)
    for (std::size_t k = 0; k < problem.streams[i].options.size(); ++k)
      load[problem.streams[i].options[k].node] += scale * problem.streams[i].rate_per_s * fraction[i][k];
  return load;
}

double routing_objective(const RoutingProblem& problem, const std::vector<std::vector<double>>& fraction,
                         double scale) {
  double numerator = 0;
  for (std::size_t i = 0; i < problem.streams.size(); ++i)
    for (std::size_t k = 0; k < problem.streams[i].options.size(); ++k)
      numerator += scale * problem.streams[i].rate_per_s * fraction[i][k] * problem.streams[i].options[k].cost_ms;
  std::vector<double> load = node_loads(problem, fraction, scale);
  for (std::size_t j = 0; j < problem.nodes.size(); ++j) {
    double mu = problem.nodes[j].service_rate_per_s;
    if (load[j] >= mu) return std::numeric_limits<double>::infinity();
    numerator += 1000.0 * load[j] / (mu - load[j]);
  }
  double rate = scale * total_rate(problem);
  return rate > 0 ? numerator / rate : 0.0;
}

double max_sustainable_scale(const RoutingProblem& problem) {
  double rate = total_rate(problem);
  if (rate <= 0) return std::numeric_limits<double>::infinity();
  double quantum = total_capacity(problem) / kQuantaPerUnit;
  double low = 0, high = total_capacity(problem) / rate;
  if (carries(problem, high, quantum)) return high;
  for (int i = 0; i < 50 && high - low > 1e-9 * high; ++i) {
    double mid = 0.5 * (low + high);
    (carries(problem, mid, quantum) ? low : high) = mid;
  }
  return low;
}

namespace {

// The flow network of one solve and the arcs whose flow is the answer.
struct RoutingNetwork {
  FlowGraph graph;
  std::vector<std::vector<Edge>> option_arcs;  // per stream, per option
  std::vector<long> supply;                    // per stream, in quanta
  int pieces = 0;
};

double weight_scale(const RoutingProblem& problem, const std::vector<double>& points) {
  double largest = 1e-12;
  for (const auto& stream : problem.streams)
    for (const auto& option : stream.options) largest = std::max(largest, option.cost_ms);
  for (const auto& node : problem.nodes) {
    std::size_t k = points.size() - 1;
    double slope = 1000.0 * (delay(points[k]) - delay(points[k - 1])) /
                   ((points[k] - points[k - 1]) * node.service_rate_per_s);
    largest = std::max(largest, slope);
  }
  return kWeightRange / largest;
}

RoutingNetwork build_network(const RoutingProblem& problem, double scale, double quantum) {
  std::vector<double> points = delay_breakpoints(problem.rho_max);
  double units = weight_scale(problem, points);
  int streams = static_cast<int>(problem.streams.size());
  RoutingNetwork network;
  network.graph = FlowGraph(2 + streams + problem.nodes.size());
  network.pieces = static_cast<int>(points.size()) - 1;
  for (int i = 0; i < streams; ++i) {
    const RoutingStream& stream = problem.streams[i];
    network.supply.push_back(std::llround(scale * stream.rate_per_s / quantum));
    add_arc(network.graph, 0, 2 + i, network.supply.back(), 0);
    network.option_arcs.emplace_back();
    for (const auto& option : stream.options)
      network.option_arcs.back().push_back(add_arc(network.graph, 2 + i, 2 + streams + option.node,
                                                   network.supply.back(), std::round(option.cost_ms * units)));
  }
  for (std::size_t j = 0; j < problem.nodes.size(); ++j) {
    double mu = problem.nodes[j].service_rate_per_s;
    for (std::size_t k = 1; k < points.size(); ++k) {
      double slope = 1000.0 * (delay(points[k]) - delay(points[k - 1])) / ((points[k] - points[k - 1]) * mu);
      long capacity = std::llround(points[k] * mu / quantum) - std::llround(points[k - 1] * mu / quantum);
      add_arc(network.graph, 2 + streams + j, 1, capacity, std::round(slope * units));
    }
  }
  return network;
}

// Fractions from the option arcs' flows; a stream too small to carry a quantum takes
// its cheapest option.
std::vector<std::vector<double>> read_fractions(const RoutingProblem& problem, const RoutingNetwork& network) {
  std::vector<std::vector<double>> fraction;
  for (std::size_t i = 0; i < problem.streams.size(); ++i) {
    const auto& options = problem.streams[i].options;
    std::vector<double> flow;
    for (const Edge& arc : network.option_arcs[i])
      flow.push_back(static_cast<double>(boost::get(boost::edge_capacity, network.graph, arc) -
                                         boost::get(boost::edge_residual_capacity, network.graph, arc)));
    double sum = std::accumulate(flow.begin(), flow.end(), 0.0);
    if (sum <= 0) {
      std::size_t best = 0;
      for (std::size_t k = 1; k < options.size(); ++k)
        if (options[k].cost_ms < options[best].cost_ms) best = k;
      flow.assign(options.size(), 0.0);
      flow[best] = sum = 1.0;
    }
    for (double& f : flow) f /= sum;
    fraction.push_back(flow);
  }
  return fraction;
}

bool routed_all(const RoutingNetwork& network) {
  long routed = 0, supply = 0;
  for (std::size_t i = 0; i < network.option_arcs.size(); ++i) {
    supply += network.supply[i];
    for (const Edge& arc : network.option_arcs[i])
      routed += boost::get(boost::edge_capacity, network.graph, arc) -
                boost::get(boost::edge_residual_capacity, network.graph, arc);
  }
  return routed >= supply - static_cast<long>(network.option_arcs.size());
}

// The flow answer at one scale. The network stays local: its edge descriptors point
// into the graph and must not outlive or move with it.
struct ScaledAnswer {
  std::vector<std::vector<double>> fraction;
  bool routed_all = false;
  int pieces = 0;
};

ScaledAnswer solve_at_scale(const RoutingProblem& problem, double scale) {
  double quantum = std::max(total_capacity(problem), scale * total_rate(problem)) / kQuantaPerUnit;
  RoutingNetwork network = build_network(problem, scale, quantum);
  boost::successive_shortest_path_nonnegative_weights(network.graph, 0, 1);
  return {read_fractions(problem, network), routed_all(network), network.pieces};
}

}  // namespace

RoutingResult solve_routing(const RoutingProblem& problem) {
  RoutingResult result;
  ScaledAnswer answer = solve_at_scale(problem, 1.0);
  if (!answer.routed_all) {
    result.feasible = false;
    result.max_scale = max_sustainable_scale(problem);
    answer = solve_at_scale(problem, result.max_scale);
  }
  result.fraction = std::move(answer.fraction);
  result.load_per_s = node_loads(problem, result.fraction, result.max_scale);
  result.objective_ms = routing_objective(problem, result.fraction, result.max_scale);
  result.pieces = answer.pieces;
  return result;
}

}  // namespace hddnn::mapping
