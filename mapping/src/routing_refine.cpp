#include "routing_refine.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <tuple>

namespace hddnn::mapping::detail {

namespace {

constexpr int kFullSweepEvery = 4;  // other sweeps skip streams the last one left unchanged

// One refinement try: sweeps of the coarse solve so far (cumulative); streams fixed when
// their best option's price beats the next by more than `margin` of the two; fine
// pieces kept `window` pieces each side of the coarse load's.
struct Attempt {
  int sweeps;
  double margin;
  std::size_t window;
};
constexpr Attempt kAttempts[] = {{60, 0.001, 0}, {240, 0.01, 2}};

// Marginal delay 1000 mu/(mu - l)^2, growing linearly past the cap so the coarse
// solve may pass through overloaded splits.
double marginal(double mu, double load, double cap) {
  double l = std::min(load, cap);
  double base = 1000.0 * mu / ((mu - l) * (mu - l));
  return load > cap ? base * (1.0 + 100.0 * (load - cap) / mu) : base;
}

// The load at which the marginal delay reaches `price` (inverse of `marginal`), and
// its derivative with respect to the price.
struct LoadAtPrice {
  double load, slope;
};

LoadAtPrice load_at_price(double mu, double cap, double price) {
  double at_cap = marginal(mu, cap, cap);
  if (price > at_cap) return {cap + (price / at_cap - 1.0) * mu / 100.0, mu / (100.0 * at_cap)};
  if (price <= 1000.0 / mu) return {0.0, 0.0};
  double load = mu - std::sqrt(1000.0 * mu / price);
  return {load, 0.5 * (mu - load) / price};
}

// The water-filling answer when it puts the whole `rate` on one option k: when k's
// marginal cost with all of it stays at or below every other option's with none.
// (k is then also the least costly option at the full rate.) False otherwise.
bool whole_on_one(const RoutingProblem& problem, const RoutingStream& stream, double rate,
                  const std::vector<double>& load, std::vector<double>& split) {
  auto cost_with = [&](const RoutingOption& option, double added) {
    double mu = problem.nodes[option.node].service_rate_per_s;
    return option.cost_ms + marginal(mu, load[option.node] + added, problem.rho_max * mu);
  };
  std::size_t best = 0;
  double best_full = std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k < stream.options.size(); ++k) {
    double full = cost_with(stream.options[k], rate);
    if (full < best_full) std::tie(best, best_full) = std::make_pair(k, full);
  }
  for (std::size_t k = 0; k < stream.options.size(); ++k)
    if (k != best && cost_with(stream.options[k], 0.0) < best_full) return false;
  std::fill(split.begin(), split.end(), 0.0);
  split[best] = rate;
  return true;
}

// Water-filling: the split of `rate` over a stream's options minimising its cost plus
// the nodes' delays, given the other streams' loads. `level` is the stream's marginal
// cost at its split: read as the starting guess (the last sweep's), updated.
void best_split(const RoutingProblem& problem, const RoutingStream& stream, double rate,
                const std::vector<double>& load, std::vector<double>& split, double& level) {
  auto spread = [&](double at) {  // the split at level `at`: its total and derivative
    LoadAtPrice total{0.0, 0.0};
    for (std::size_t k = 0; k < stream.options.size(); ++k) {
      double mu = problem.nodes[stream.options[k].node].service_rate_per_s;
      LoadAtPrice wanted = load_at_price(mu, problem.rho_max * mu, at - stream.options[k].cost_ms);
      split[k] = std::max(0.0, wanted.load - load[stream.options[k].node]);
      total.load += split[k];
      total.slope += split[k] > 0 ? wanted.slope : 0.0;
    }
    return total;
  };
  if (whole_on_one(problem, stream, rate, load, split)) return;
  double low = std::numeric_limits<double>::infinity(), high = 0;
  for (const auto& option : stream.options) {
    double mu = problem.nodes[option.node].service_rate_per_s, cap = problem.rho_max * mu;
    low = std::min(low, option.cost_ms + marginal(mu, load[option.node], cap));
    high = std::max(high, option.cost_ms + marginal(mu, load[option.node] + rate, cap));
  }
  // Newton on the increasing spread(level) = rate, kept inside the bracket [low, high]
  // (bisection where a step would leave it).
  double at = level > low && level < high ? level : low, excess = 0;
  for (int i = 0; i < 60; ++i) {
    LoadAtPrice total = spread(at);
    excess = total.load - rate;
    if (std::abs(excess) <= 1e-12 * rate) break;
    (excess < 0 ? low : high) = at;
    if (high - low <= 1e-12 * high) break;
    double next = total.slope > 0 ? at - excess / total.slope : high;
    at = next > low && next < high ? next : 0.5 * (low + high);
  }
  level = at;
  double total = excess + rate > 0 ? excess + rate : spread(high).load;
  for (double& f : split) f = total > 0 ? f * rate / total : 0.0;
}

// Marginal delays of the nodes at loads `load` (rate per s).
std::vector<double> prices_at(const RoutingProblem& problem, const std::vector<double>& load) {
  std::vector<double> price;
  for (std::size_t j = 0; j < problem.nodes.size(); ++j) {
    double mu = problem.nodes[j].service_rate_per_s;
    price.push_back(marginal(mu, load[j], problem.rho_max * mu));
  }
  return price;
}

// Streams ordered by their lowest option node, so that a sweep carries a change in
// one neighbourhood on to the next.
std::vector<std::size_t> sweep_order(const RoutingProblem& problem) {
  std::vector<int> lowest;
  for (const auto& stream : problem.streams) {
    int node = std::numeric_limits<int>::max();
    for (const auto& option : stream.options) node = std::min(node, option.node);
    lowest.push_back(node);
  }
  std::vector<std::size_t> order(problem.streams.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return lowest[a] < lowest[b]; });
  return order;
}

// Block-coordinate descent on the continuous problem (rates x scale): keeps each
// stream's split and level and the node loads (rate per s), so that later sweeps go on
// from where the earlier stopped.
class CoarseDescent {
 public:
  CoarseDescent(const RoutingProblem& problem, double scale)
      : problem_(problem),
        scale_(scale),
        order_(sweep_order(problem)),
        load_(problem.nodes.size(), 0.0),
        level_(problem.streams.size(), 0.0),
        settled_(problem.streams.size(), 0) {
    for (const auto& stream : problem.streams) split_.emplace_back(stream.options.size(), 0.0);
  }

  /// Sweeps until `total` sweeps have been made since construction.
  void sweep_until(int total) {
    for (; sweeps_ < total; ++sweeps_)
      for (std::size_t i : order_)
        if (!settled_[i] || sweeps_ % kFullSweepEvery == 0) update(i);
  }

  const std::vector<double>& load() const { return load_; }
  std::vector<double> price() const { return prices_at(problem_, load_); }

 private:
  // Stream i's best response to the others' loads.
  void update(std::size_t i) {
    const RoutingStream& stream = problem_.streams[i];
    before_ = split_[i];
    for (std::size_t k = 0; k < stream.options.size(); ++k) load_[stream.options[k].node] -= split_[i][k];
    best_split(problem_, stream, scale_ * stream.rate_per_s, load_, split_[i], level_[i]);
    for (std::size_t k = 0; k < stream.options.size(); ++k) load_[stream.options[k].node] += split_[i][k];
    settled_[i] = before_ == split_[i];
  }

  const RoutingProblem& problem_;
  double scale_;
  std::vector<std::size_t> order_;
  std::vector<double> load_, level_, before_;
  std::vector<std::vector<double>> split_;
  std::vector<char> settled_;
  int sweeps_ = 0;
};

// Per node, the pieces within `width` of the piece holding its coarse load.
std::vector<std::pair<std::size_t, std::size_t>> windows(const DelayPieces& pieces, const std::vector<double>& load,
                                                         std::size_t width) {
  std::vector<std::pair<std::size_t, std::size_t>> window;
  for (std::size_t j = 0; j < load.size(); ++j) {
    const auto& bound = pieces.bound[j];
    auto quanta = static_cast<long>(load[j] / pieces.quantum);
    auto piece = static_cast<std::size_t>(std::upper_bound(bound.begin(), bound.end(), quanta) - bound.begin());
    window.emplace_back(piece > width + 1 ? piece - width - 1 : 0, piece + width + 1);
  }
  return window;
}

// Lagrangian dual of the continuous problem (rates x scale) at node prices `price`:
// a lower bound on its optimum mean response time, rho_max cap included.
double dual_bound(const RoutingProblem& problem, const std::vector<double>& price, double scale) {
  double value = 0, rate = 0;
  for (const auto& stream : problem.streams) {
    double best = std::numeric_limits<double>::infinity();
    for (const auto& option : stream.options) best = std::min(best, option.cost_ms + price[option.node]);
    value += scale * stream.rate_per_s * best;
    rate += scale * stream.rate_per_s;
  }
  for (std::size_t j = 0; j < problem.nodes.size(); ++j) {
    double mu = problem.nodes[j].service_rate_per_s;
    double load = std::clamp(mu - std::sqrt(1000.0 * mu / price[j]), 0.0, problem.rho_max * mu);
    value += 1000.0 * load / (mu - load) - price[j] * load;
  }
  return rate > 0 ? value / rate : 0.0;
}

// Per stream: the option to fix it to, or -1 to leave it to the flow. Streams fixed
// to a node their fixed load alone would overfill are left to the flow too.
std::vector<int> fix_clear_choices(const RoutingProblem& problem, const DelayPieces& pieces,
                                   const std::vector<double>& price, double margin) {
  std::vector<int> fixed;
  std::vector<long> load(problem.nodes.size(), 0);
  for (std::size_t i = 0; i < problem.streams.size(); ++i) {
    const auto& options = problem.streams[i].options;
    std::vector<double> value;
    for (const auto& option : options) value.push_back(option.cost_ms + price[option.node]);
    std::vector<double> sorted = value;
    std::sort(sorted.begin(), sorted.end());
    int best = static_cast<int>(std::min_element(value.begin(), value.end()) - value.begin());
    bool clear = options.size() == 1 || sorted[1] - sorted[0] > margin * (sorted[0] + sorted[1]);
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

// The flow answer of one attempt when it is within kChordTolerance of the Lagrangian
// bound at the coarse prices or at its own marginal delays.
std::optional<FlowAnswer> certified_flow(const RoutingProblem& problem, const DelayPieces& pieces, double scale,
                                         const CoarseDescent& coarse, const Attempt& attempt) {
  std::vector<double> coarse_price = coarse.price();
  FlowSpec spec{fix_clear_choices(problem, pieces, coarse_price, attempt.margin),
                windows(pieces, coarse.load(), attempt.window)};
  FlowAnswer answer = solve_flow(problem, pieces, spec);
  if (!answer.routed_all) return std::nullopt;
  std::vector<double> price = prices_at(problem, node_loads(problem, answer.fraction, scale));
  double bound = std::max(dual_bound(problem, coarse_price, scale), dual_bound(problem, price, scale));
  if (routing_objective(problem, answer.fraction, scale) > (1 + kChordTolerance) * bound) return std::nullopt;
  return answer;
}

}  // namespace

std::optional<FlowAnswer> refine(const RoutingProblem& problem, const DelayPieces& pieces, double scale) {
  CoarseDescent coarse(problem, scale);
  for (const Attempt& attempt : kAttempts) {
    coarse.sweep_until(attempt.sweeps);
    if (auto answer = certified_flow(problem, pieces, scale, coarse, attempt)) return answer;
  }
  return std::nullopt;
}

}  // namespace hddnn::mapping::detail
