#include "routing_refine.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/bellman_ford_shortest_paths.hpp>
#pragma GCC diagnostic pop
#include <cmath>
#include <limits>

namespace hddnn::mapping::detail {

namespace {

constexpr int kFrankWolfeSteps = 40;

// Marginal delay 1000 mu/(mu - l)^2, continued steeply past the cap.
double marginal(double mu, double load, double cap) {
  double l = std::min(load, cap);
  double base = 1000.0 * mu / ((mu - l) * (mu - l));
  return load > cap ? base * (1.0 + 100.0 * (load - cap) / mu) : base;
}

std::vector<double> prices(const RoutingProblem& problem, const std::vector<double>& load) {
  std::vector<double> price;
  for (std::size_t j = 0; j < problem.nodes.size(); ++j) {
    double mu = problem.nodes[j].service_rate_per_s;
    price.push_back(marginal(mu, load[j], problem.rho_max * mu));
  }
  return price;
}

// Best and second-best option of a stream at the given prices.
std::pair<int, int> best_two(const RoutingStream& stream, const std::vector<double>& price) {
  int best = 0, second = -1;
  auto value = [&](int k) { return stream.options[k].cost_ms + price[stream.options[k].node]; };
  for (int k = 1; k < static_cast<int>(stream.options.size()); ++k) {
    if (value(k) < value(best)) {
      second = best;
      best = k;
    } else if (second < 0 || value(k) < value(second)) {
      second = k;
    }
  }
  return {best, second};
}

std::vector<double> frank_wolfe_loads(const RoutingProblem& problem, double scale) {
  std::vector<double> load(problem.nodes.size(), 0.0), target(problem.nodes.size());
  for (int t = 0; t < kFrankWolfeSteps; ++t) {
    std::vector<double> price = prices(problem, load);
    std::fill(target.begin(), target.end(), 0.0);
    for (const auto& stream : problem.streams)
      target[stream.options[best_two(stream, price).first].node] += scale * stream.rate_per_s;
    double step = 2.0 / (t + 2.0);
    for (std::size_t j = 0; j < load.size(); ++j) load[j] += step * (target[j] - load[j]);
  }
  return load;
}

// Subgradient [low, high] of node j's pieces at `load` quanta (infinite ends at 0
// and at the cap); low > high when the load is past the cap.
std::pair<double, double> subgradient(const DelayPieces& pieces, std::size_t node, long load, double far) {
  const auto& bound = pieces.bound[node];
  const auto& slope = pieces.slope[node];
  if (load > bound.back()) return {1.0, 0.0};
  for (std::size_t m = 1; m < bound.size(); ++m) {
    if (load < bound[m] && load > bound[m - 1]) return {slope[m - 1], slope[m - 1]};
    if (load == bound[m - 1]) return {m == 1 ? -far : slope[m - 2], slope[m - 1]};
  }
  return {slope.back(), slope.back() + far};
}

}  // namespace

std::vector<int> fix_clear_choices(const RoutingProblem& problem, double scale, double margin) {
  std::vector<double> price = prices(problem, frank_wolfe_loads(problem, scale));
  std::vector<int> fixed;
  for (const auto& stream : problem.streams) {
    auto [best, second] = best_two(stream, price);
    if (second < 0) {
      fixed.push_back(best);
      continue;
    }
    double gap = stream.options[second].cost_ms + price[stream.options[second].node] -
                 stream.options[best].cost_ms - price[stream.options[best].node];
    double scale_of_prices = price[stream.options[best].node] + price[stream.options[second].node];
    fixed.push_back(gap > margin * scale_of_prices ? best : -1);
  }
  return fixed;
}

bool certify_optimal(const RoutingProblem& problem, const DelayPieces& pieces, const FlowAnswer& answer) {
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, boost::no_property,
                                      boost::property<boost::edge_weight_t, double>>;
  std::size_t nodes = problem.nodes.size(), root = nodes;
  double far = 2.0 * (nodes + 1) * *std::max_element(pieces.slope[0].begin(), pieces.slope[0].end());
  for (const auto& s : pieces.slope) far = std::max(far, 2.0 * (nodes + 1) * s.back());
  for (const auto& c : pieces.cost)
    for (double w : c) far = std::max(far, 2.0 * (nodes + 1) * w);
  // tightest[l][k]: bound on price_k - price_l from streams using k that could use l.
  std::vector<std::vector<double>> tightest(nodes, std::vector<double>(nodes, std::numeric_limits<double>::infinity()));
  for (std::size_t i = 0; i < problem.streams.size(); ++i)
    for (std::size_t k = 0; k < problem.streams[i].options.size(); ++k) {
      if (answer.fraction[i][k] <= 0) continue;
      for (std::size_t l = 0; l < problem.streams[i].options.size(); ++l) {
        if (l == k) continue;
        double& slot = tightest[problem.streams[i].options[l].node][problem.streams[i].options[k].node];
        slot = std::min(slot, pieces.cost[i][l] - pieces.cost[i][k]);
      }
    }
  Graph graph(nodes + 1);
  for (std::size_t j = 0; j < nodes; ++j) {
    auto [low, high] = subgradient(pieces, j, answer.load[j], far);
    if (low > high) return false;
    boost::add_edge(root, j, high, graph);
    if (low > -far) boost::add_edge(j, root, -low, graph);
    for (std::size_t k = 0; k < nodes; ++k)
      if (std::isfinite(tightest[j][k])) boost::add_edge(j, k, tightest[j][k], graph);
  }
  std::vector<double> distance(nodes + 1, std::numeric_limits<double>::max());
  distance[root] = 0;
  return boost::bellman_ford_shortest_paths(graph, static_cast<int>(nodes + 1),
                                            boost::distance_map(distance.data()).root_vertex(root));
}

}  // namespace hddnn::mapping::detail
