#include "routing_refine.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/bellman_ford_shortest_paths.hpp>
#pragma GCC diagnostic pop
#include <algorithm>
#include <cmath>
#include <limits>

namespace hddnn::mapping::detail {

namespace {

constexpr int kSweeps = 6;
constexpr int kRounds = 6;
constexpr double kMargin = 0.02;  // fixed when the gap exceeds 2% of the two prices

// Marginal delay 1000 mu/(mu - l)^2, growing linearly past the cap so the coarse
// solve may pass through overloaded splits.
double marginal(double mu, double load, double cap) {
  double l = std::min(load, cap);
  double base = 1000.0 * mu / ((mu - l) * (mu - l));
  return load > cap ? base * (1.0 + 100.0 * (load - cap) / mu) : base;
}

// The load at which the marginal delay reaches `price` (inverse of `marginal`).
double load_at_price(double mu, double cap, double price) {
  double at_cap = marginal(mu, cap, cap);
  if (price > at_cap) return cap + (price / at_cap - 1.0) * mu / 100.0;
  return price <= 1000.0 / mu ? 0.0 : mu - std::sqrt(1000.0 * mu / price);
}

// Water-filling: the split of `rate` over a stream's options minimising its cost plus
// the nodes' delays, given the other streams' loads.
void best_split(const RoutingProblem& problem, const RoutingStream& stream, double rate,
                const std::vector<double>& load, std::vector<double>& split) {
  auto spread = [&](double level) {
    double total = 0;
    for (std::size_t k = 0; k < stream.options.size(); ++k) {
      double mu = problem.nodes[stream.options[k].node].service_rate_per_s;
      double wanted = load_at_price(mu, problem.rho_max * mu, level - stream.options[k].cost_ms);
      split[k] = std::max(0.0, wanted - load[stream.options[k].node]);
      total += split[k];
    }
    return total;
  };
  double low = std::numeric_limits<double>::infinity(), high = 0;
  for (const auto& option : stream.options) {
    double mu = problem.nodes[option.node].service_rate_per_s, cap = problem.rho_max * mu;
    low = std::min(low, option.cost_ms + marginal(mu, load[option.node], cap));
    high = std::max(high, option.cost_ms + marginal(mu, load[option.node] + rate, cap));
  }
  for (int i = 0; i < 40; ++i) {
    double mid = 0.5 * (low + high);
    (spread(mid) < rate ? low : high) = mid;
  }
  double total = spread(high);
  for (double& f : split) f = total > 0 ? f * rate / total : 0.0;
}

// Congestion prices of the continuous problem after a few sweeps of
// block-coordinate descent.
std::vector<double> coarse_prices(const RoutingProblem& problem, double scale) {
  std::vector<double> load(problem.nodes.size(), 0.0), price;
  std::vector<std::vector<double>> split;
  for (const auto& stream : problem.streams) split.emplace_back(stream.options.size(), 0.0);
  for (int sweep = 0; sweep < kSweeps; ++sweep)
    for (std::size_t i = 0; i < problem.streams.size(); ++i) {
      const RoutingStream& stream = problem.streams[i];
      for (std::size_t k = 0; k < stream.options.size(); ++k) load[stream.options[k].node] -= split[i][k];
      best_split(problem, stream, scale * stream.rate_per_s, load, split[i]);
      for (std::size_t k = 0; k < stream.options.size(); ++k) load[stream.options[k].node] += split[i][k];
    }
  for (std::size_t j = 0; j < problem.nodes.size(); ++j) {
    double mu = problem.nodes[j].service_rate_per_s;
    price.push_back(marginal(mu, load[j], problem.rho_max * mu));
  }
  return price;
}

// Per stream: the option to fix it to, or -1 to leave it to the flow. Streams fixed
// to a node their fixed load alone would overfill are left to the flow too.
std::vector<int> fix_clear_choices(const RoutingProblem& problem, const DelayPieces& pieces,
                                   const std::vector<double>& price) {
  std::vector<int> fixed;
  std::vector<long> load(problem.nodes.size(), 0);
  for (std::size_t i = 0; i < problem.streams.size(); ++i) {
    const auto& options = problem.streams[i].options;
    std::vector<double> value;
    for (const auto& option : options) value.push_back(option.cost_ms + price[option.node]);
    std::vector<double> sorted = value;
    std::sort(sorted.begin(), sorted.end());
    int best = static_cast<int>(std::min_element(value.begin(), value.end()) - value.begin());
    bool clear = options.size() == 1 || sorted[1] - sorted[0] > kMargin * (sorted[0] + sorted[1]);
    fixed.push_back(clear ? best : -1);
    if (clear) load[options[best].node] += pieces.supply[i];
  }
  for (std::size_t i = 0; i < fixed.size(); ++i) {
    if (fixed[i] < 0 || problem.streams[i].options.size() == 1) continue;
    std::size_t node = problem.streams[i].options[fixed[i]].node;
    if (load[node] > pieces.bound[node].back()) fixed[i] = -1;
  }
  return fixed;
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


// Node prices within each node's subgradient that make every stream in `checked` use
// only least-cost options: shortest distances of a difference-constraint system, or
// nullopt when none exist.
std::optional<std::vector<double>> consistent_prices(const RoutingProblem& problem, const DelayPieces& pieces,
                                                     const FlowAnswer& answer, const std::vector<char>& checked) {
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, boost::no_property,
                                      boost::property<boost::edge_weight_t, double>>;
  std::size_t nodes = problem.nodes.size(), root = nodes;
  double far = 0;
  for (const auto& s : pieces.slope) far = std::max(far, 2.0 * (nodes + 1) * s.back());
  for (const auto& c : pieces.cost)
    for (double w : c) far = std::max(far, 2.0 * (nodes + 1) * w);
  // tightest[l][k]: bound on price_k - price_l from streams using k that could use l.
  std::vector<std::vector<double>> tightest(nodes, std::vector<double>(nodes, std::numeric_limits<double>::infinity()));
  for (std::size_t i = 0; i < problem.streams.size(); ++i)
    for (std::size_t k = 0; k < problem.streams[i].options.size() && checked[i]; ++k) {
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
    if (low > high) return std::nullopt;
    boost::add_edge(root, j, high, graph);
    if (low > -far) boost::add_edge(j, root, -low, graph);
    for (std::size_t k = 0; k < nodes; ++k)
      if (std::isfinite(tightest[j][k])) boost::add_edge(j, k, tightest[j][k], graph);
  }
  std::vector<double> distance(nodes + 1, std::numeric_limits<double>::max());
  distance[root] = 0;
  if (!boost::bellman_ford_shortest_paths(graph, static_cast<int>(nodes + 1),
                                          boost::distance_map(distance.data()).root_vertex(root)))
    return std::nullopt;
  distance.pop_back();
  return distance;
}

// Fixed streams with a cheaper option at `price`: back to the flow. False when none.
bool release_misplaced(const RoutingProblem& problem, const DelayPieces& pieces, const std::vector<double>& price,
                       std::vector<int>& fixed) {
  bool released = false;
  for (std::size_t i = 0; i < fixed.size(); ++i) {
    if (fixed[i] < 0) continue;
    const auto& options = problem.streams[i].options;
    double here = pieces.cost[i][fixed[i]] + price[options[fixed[i]].node];
    for (std::size_t k = 0; k < options.size(); ++k)
      if (pieces.cost[i][k] + price[options[k].node] < here) {
        fixed[i] = -1;
        released = true;
        break;
      }
  }
  return released;
}

// Streams fixed to a node that ended full, when the flow could not route the rest.
bool release_full(const RoutingProblem& problem, const DelayPieces& pieces, const FlowAnswer& answer,
                  std::vector<int>& fixed) {
  bool released = false;
  for (std::size_t i = 0; i < fixed.size(); ++i) {
    if (fixed[i] < 0 || problem.streams[i].options.size() == 1) continue;
    std::size_t node = problem.streams[i].options[fixed[i]].node;
    if (answer.load.empty() || answer.load[node] >= pieces.bound[node].back()) {
      fixed[i] = -1;
      released = true;
    }
  }
  return released;
}

}  // namespace

std::optional<FlowAnswer> refine(const RoutingProblem& problem, const DelayPieces& pieces, double scale) {
  std::vector<int> fixed = fix_clear_choices(problem, pieces, coarse_prices(problem, scale));
  for (int round = 0; round < kRounds; ++round) {
    if (std::count(fixed.begin(), fixed.end(), -1) == static_cast<long>(fixed.size())) break;
    FlowAnswer answer = solve_flow(problem, pieces, FlowSpec{fixed});
    if (!answer.routed_all) {
      if (!release_full(problem, pieces, answer, fixed)) break;
      continue;
    }
    std::vector<char> routed(fixed.size()), all(fixed.size(), 1);
    for (std::size_t i = 0; i < fixed.size(); ++i) routed[i] = fixed[i] < 0;
    if (consistent_prices(problem, pieces, answer, all)) return answer;
    auto price = consistent_prices(problem, pieces, answer, routed);
    if (!price || !release_misplaced(problem, pieces, *price, fixed)) break;
  }
  return std::nullopt;
}

}  // namespace hddnn::mapping::detail
