// Routing by min-cost flow against an independent convex bound (Lagrangian dual and
// Frank-Wolfe, written here): within 0.5% of the continuous optimum. The queueing
// behaviour: all traffic on the fastest path at low load, a split past a critical
// load. Infeasible loads give the largest sustainable scale. Bad files are named.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <numeric>
#include <random>

#include "hddnn/errors.hpp"
#include "hddnn/mapping/routing.hpp"
#include "hddnn/mapping/solve.hpp"

using namespace hddnn::mapping;
using nlohmann::json;

namespace {

using Split = std::vector<std::vector<double>>;

RoutingProblem random_routing(std::mt19937& rng, int streams, int nodes, double load) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  RoutingProblem problem;
  double capacity = 0;
  for (int j = 0; j < nodes; ++j) {
    problem.nodes.push_back({"n" + std::to_string(j), 20 + 200 * unit(rng)});
    capacity += problem.nodes.back().service_rate_per_s;
  }
  std::vector<double> weight;
  for (int i = 0; i < streams; ++i) weight.push_back(0.2 + unit(rng));
  double total = std::accumulate(weight.begin(), weight.end(), 0.0);
  for (int i = 0; i < streams; ++i) {
    RoutingStream stream{"s" + std::to_string(i), load * capacity * weight[i] / total, {}};
    for (int j = 0; j < nodes; ++j)
      if (unit(rng) < 0.6 || j == (i % nodes)) stream.options.push_back({j, 40 * unit(rng)});
    problem.streams.push_back(stream);
  }
  return problem;
}

double marginal_delay(double mu, double load) { return 1000.0 * mu / ((mu - load) * (mu - load)); }

// Lagrangian dual at prices pi: a lower bound on the continuous optimum (without the
// rho_max cap, hence also with it).
double dual_bound(const RoutingProblem& p, const std::vector<double>& pi) {
  double value = 0, rate = 0;
  for (const auto& s : p.streams) {
    double best = std::numeric_limits<double>::infinity();
    for (const auto& o : s.options) best = std::min(best, o.cost_ms + pi[o.node]);
    value += s.rate_per_s * best;
    rate += s.rate_per_s;
  }
  for (std::size_t j = 0; j < p.nodes.size(); ++j) {
    double mu = p.nodes[j].service_rate_per_s;
    double load = pi[j] > 1000.0 / mu ? mu - std::sqrt(1000.0 * mu / pi[j]) : 0.0;
    value += 1000.0 * load / (mu - load) - pi[j] * load;
  }
  return value / rate;
}

std::vector<double> prices_at(const RoutingProblem& p, const Split& split) {
  std::vector<double> load = node_loads(p, split), pi;
  for (std::size_t j = 0; j < p.nodes.size(); ++j) pi.push_back(marginal_delay(p.nodes[j].service_rate_per_s, load[j]));
  return pi;
}

// Frank-Wolfe with exact line search from `split`; returns the best dual bound met.
double frank_wolfe_bound(const RoutingProblem& p, Split split, int iterations) {
  double bound = 0;
  for (int t = 0; t < iterations; ++t) {
    std::vector<double> pi = prices_at(p, split);
    bound = std::max(bound, dual_bound(p, pi));
    Split target = split;
    for (std::size_t i = 0; i < p.streams.size(); ++i) {
      std::size_t best = 0;
      for (std::size_t k = 0; k < p.streams[i].options.size(); ++k) {
        target[i][k] = 0;
        const auto& o = p.streams[i].options;
        if (o[k].cost_ms + pi[o[k].node] < o[best].cost_ms + pi[o[best].node]) best = k;
      }
      target[i][best] = 1;
    }
    auto mix = [&](double gamma) {
      Split x = split;
      for (std::size_t i = 0; i < x.size(); ++i)
        for (std::size_t k = 0; k < x[i].size(); ++k) x[i][k] += gamma * (target[i][k] - split[i][k]);
      return x;
    };
    double low = 0, high = 1;
    for (int b = 0; b < 60; ++b) {  // ternary search on a convex function
      double a = low + (high - low) / 3, c = high - (high - low) / 3;
      if (routing_objective(p, mix(a)) <= routing_objective(p, mix(c))) {
        high = c;
      } else {
        low = a;
      }
    }
    split = mix(low);
  }
  return bound;
}

}  // namespace

TEST(Routing, BreakpointsKeepChordsWithinTolerance) {
  std::vector<double> u = delay_breakpoints(0.95);
  EXPECT_DOUBLE_EQ(u.front(), 0.0);
  EXPECT_DOUBLE_EQ(u.back(), 0.95);
  EXPECT_LT(u.size(), 80u);
  auto f = [](double x) { return x / (1 - x); };
  for (std::size_t k = 1; k < u.size(); ++k)
    for (int s = 1; s < 100; ++s) {
      double x = u[k - 1] + (u[k] - u[k - 1]) * s / 100.0;
      double chord = f(u[k - 1]) + (f(u[k]) - f(u[k - 1])) * (x - u[k - 1]) / (u[k] - u[k - 1]);
      EXPECT_LE(chord, f(x) * (1 + kChordTolerance) + 1e-12);
    }
}

TEST(Routing, RandomInstancesWithinHalfPercentOfContinuousOptimum) {
  std::mt19937 rng(29);
  int checked = 0, refined = 0;
  double worst = 0;
  for (int i = 0; i < 120; ++i) {
    RoutingProblem problem = random_routing(rng, 2 + i % 15, 2 + i % 5, 0.15 + 0.5 * (i % 7) / 6.0);
    RoutingResult result = solve_routing(problem);
    if (!result.feasible) {  // a stream with few options can overload them: not this test's subject
      EXPECT_LT(max_sustainable_scale(problem), 1.0);
      continue;
    }
    double bound = std::max(dual_bound(problem, prices_at(problem, result.fraction)),
                            frank_wolfe_bound(problem, result.fraction, 30));
    EXPECT_GE(result.objective_ms, bound * (1 - 1e-9)) << "instance " << i;
    EXPECT_LE(result.objective_ms, bound * 1.005) << "instance " << i;
    worst = std::max(worst, result.objective_ms / bound - 1);
    refined += result.streams_in_flow < static_cast<int>(problem.streams.size());
    for (std::size_t s = 0; s < problem.streams.size(); ++s)
      EXPECT_NEAR(std::accumulate(result.fraction[s].begin(), result.fraction[s].end(), 0.0), 1.0, 1e-9);
    for (std::size_t j = 0; j < problem.nodes.size(); ++j)
      EXPECT_LE(result.load_per_s[j], problem.rho_max * problem.nodes[j].service_rate_per_s * (1 + 1e-6));
    ++checked;
  }
  EXPECT_GE(checked, 100);
  std::cout << "routing instances checked against the convex bound: " << checked << ", largest excess over the bound "
            << 100 * worst << "%, " << refined << " solved by certified refinement\n";
  EXPECT_GE(refined, 10);
}

TEST(Routing, LargeInstancesRefineAndStayWithinHalfPercent) {
  std::mt19937 rng(31);
  for (int i = 0; i < 6; ++i) {
    RoutingProblem problem = random_routing(rng, 300, 6 + i, 0.3 + 0.1 * i);
    RoutingResult result = solve_routing(problem);
    if (!result.feasible) continue;
    double bound = std::max(dual_bound(problem, prices_at(problem, result.fraction)),
                            frank_wolfe_bound(problem, result.fraction, 10));
    EXPECT_LE(result.objective_ms, bound * 1.005) << "instance " << i;
    EXPECT_GE(result.objective_ms, bound * (1 - 1e-9)) << "instance " << i;
    std::cout << "300 streams x " << 6 + i << " nodes: " << result.streams_in_flow << " streams in the flow\n";
  }
}

TEST(Routing, FastestPathAtLowLoadSplitPastCriticalLoad) {
  // Node A: no extra cost; node B: 5 ms further. Both mu = 100/s. The split starts
  // where A's marginal delay 1000 mu/(mu-l)^2 reaches 5 + B's at zero load (10 ms).
  double critical = 100 - std::sqrt(1000.0 * 100 / 15.0);
  RoutingProblem problem;
  problem.nodes = {{"A", 100}, {"B", 100}};
  double previous_b = -1;
  for (double rate : {0.2 * critical, 0.9 * critical, 1.1 * critical, 2 * critical, 4 * critical}) {
    problem.streams = {{"s", rate, {{0, 0.0}, {1, 5.0}}}};
    RoutingResult result = solve_routing(problem);
    double b = result.fraction[0][1];
    if (rate < critical) {
      EXPECT_DOUBLE_EQ(b, 0.0) << "rate " << rate;
    } else {
      EXPECT_GT(b, 0.0) << "rate " << rate;
    }
    EXPECT_GE(b, previous_b);
    previous_b = b;
  }
  EXPECT_GT(previous_b, 0.3);
}

TEST(Routing, InfeasibleLoadReportsLargestSustainableScale) {
  RoutingProblem problem;
  problem.rho_max = 0.9;
  problem.nodes = {{"A", 10}, {"B", 10}};
  problem.streams = {{"only_a", 10, {{0, 1.0}}}, {"both", 20, {{0, 1.0}, {1, 2.0}}}};
  RoutingResult result = solve_routing(problem);
  EXPECT_FALSE(result.feasible);
  EXPECT_NEAR(result.max_scale, 0.6, 1e-6);  // 18 carried of 30 offered
  EXPECT_NEAR(result.load_per_s[0] + result.load_per_s[1], 18.0, 1e-4);
  EXPECT_TRUE(std::isfinite(result.objective_ms));
  problem.streams[1].rate_per_s = 1;  // only_a alone is the bottleneck: 9 of 10
  EXPECT_NEAR(solve_routing(problem).max_scale, 0.9, 1e-6);
}

TEST(RoutingFile, SolvesAndReportsSplit) {
  json problem = json::parse(R"({"kind": "routing", "rho_max": 0.95,
    "streams": [{"id": "cam0", "rate_per_s": 5, "options": [{"node": "edge0", "cost_ms": 3}, {"node": "cloud", "cost_ms": 40}]}],
    "nodes": [{"id": "edge0", "service_rate_per_s": 100}, {"id": "cloud", "service_rate_per_s": 1000}]})");
  json answer = solve(problem);
  EXPECT_TRUE(answer["feasible"].get<bool>());
  EXPECT_DOUBLE_EQ(answer["split"]["cam0"]["edge0"].get<double>(), 1.0);
  EXPECT_NEAR(answer["objective_ms"].get<double>(), 3 + 1000.0 / 95, 1e-9);
}

TEST(RoutingFile, BadInputNamesTheCulprit) {
  json base = json::parse(R"({"kind": "routing",
    "streams": [{"id": "cam0", "rate_per_s": 5, "options": [{"node": "edge0", "cost_ms": 3}]}],
    "nodes": [{"id": "edge0", "service_rate_per_s": 100}]})");
  auto message = [](const json& problem) {
    try {
      solve(problem, "r.json");
    } catch (const hddnn::ConfigError& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  json rate = base;
  rate["streams"][0]["rate_per_s"] = -1;
  EXPECT_NE(message(rate).find("('cam0'): field 'rate_per_s' must be a number >= 0"), std::string::npos)
      << message(rate);
  json node = base;
  node["streams"][0]["options"][0]["node"] = "edge9";
  EXPECT_NE(message(node).find("unknown node 'edge9'"), std::string::npos) << message(node);
  json zero = base;
  zero["nodes"][0]["service_rate_per_s"] = 0;
  EXPECT_NE(message(zero).find("node 'edge0': field 'service_rate_per_s' must be a positive number"), std::string::npos)
      << message(zero);
  json empty = base;
  empty["streams"][0]["options"] = json::array();
  EXPECT_NE(message(empty).find("('cam0'): field 'options' must be a non-empty list"), std::string::npos)
      << message(empty);
  json cost = base;
  cost["streams"][0]["options"][0]["cost_ms"] = -2;
  EXPECT_NE(message(cost).find("field 'cost_ms' must be a number >= 0"), std::string::npos) << message(cost);
}
