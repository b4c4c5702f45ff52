#include "hddnn/mapping/routing.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <numeric>

#include "routing_refine.hpp"

namespace hddnn::mapping {

// Accuracy. Let g be the true delay of a node and h >= g its chord approximation with
// h <= (1 + e) g at every load (e = kChordTolerance; h = g at breakpoints and at 0).
// With F and H the objectives built from g and h, x* the continuous optimum and x_h
// the flow optimum: F(x_h) <= H(x_h) <= H(x*) <= (1 + e) F(x*). Integer rounding of
// rates and weights (about 1e-7 relative) keeps the total under 0.5%.

namespace {

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
  double low = 0, high = total_capacity(problem) / rate;
  if (detail::can_carry(problem, high)) return high;
  for (int i = 0; i < 50 && high - low > 1e-9 * high; ++i) {
    double mid = 0.5 * (low + high);
    (detail::can_carry(problem, mid) ? low : high) = mid;
  }
  return low;
}

namespace {

// The flow answer at one scale: refined and certified when possible (see
// routing_refine.hpp), else the flow over every stream and every piece.
struct ScaledAnswer {
  detail::FlowAnswer flow;
  int pieces = 0;
};

ScaledAnswer solve_at_scale(const RoutingProblem& problem, double scale) {
  detail::DelayPieces pieces = detail::delay_pieces(problem, scale);
  int count = static_cast<int>(pieces.slope.front().size());
  if (auto refined = detail::refine(problem, pieces, scale)) return {*refined, count};
  // One max flow tells an overload apart before the full min-cost flow is tried.
  if (!detail::can_carry(problem, scale)) return {{}, count};
  return {detail::solve_flow(problem, pieces, detail::every_piece(problem.streams.size())), count};
}

}  // namespace

RoutingResult solve_routing(const RoutingProblem& problem) {
  RoutingResult result;
  if (problem.streams.empty()) {  // nothing to route
    result.load_per_s.assign(problem.nodes.size(), 0.0);
    return result;
  }
  ScaledAnswer answer = solve_at_scale(problem, 1.0);
  if (!answer.flow.routed_all) {
    result.feasible = false;
    result.max_scale = max_sustainable_scale(problem);
    answer = solve_at_scale(problem, result.max_scale);
  }
  result.fraction = std::move(answer.flow.fraction);
  result.load_per_s = node_loads(problem, result.fraction, result.max_scale);
  result.objective_ms = routing_objective(problem, result.fraction, result.max_scale);
  result.pieces = answer.pieces;
  result.streams_in_flow = answer.flow.streams_in_flow;
  return result;
}

}  // namespace hddnn::mapping
