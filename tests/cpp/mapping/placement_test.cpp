// Placement by minimum cut against brute force over every assignment, with an
// objective written here independently of the solver; the three max-flow algorithms
// must agree; pins, memory budgets and energy; bad problem files.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <iostream>
#include <random>

#include "hddnn/errors.hpp"
#include "hddnn/mapping/placement.hpp"
#include "hddnn/mapping/solve.hpp"

using namespace hddnn::mapping;
using nlohmann::json;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Random DAG of `n` layers on 3 tiers: a chain with extra skip and branch edges,
// closed by a single sink that consumes every otherwise unconsumed layer.
PlacementProblem random_problem(std::mt19937& rng, int n, bool budgets, bool energy) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  PlacementProblem problem;
  problem.tiers = {"end", "edge", "cloud"};
  problem.hops = {{1 + 9 * unit(rng), 20 + 200 * unit(rng), energy ? 50 + 100 * unit(rng) : 0},
                  {5 + 30 * unit(rng), 100 + 1000 * unit(rng), 0}};
  problem.input_bytes = 500 + 3000 * unit(rng);
  problem.result_bytes = 4 + 60 * unit(rng);
  std::vector<int> consumed(n, 0);
  for (int v = 0; v < n; ++v) {
    PlacementLayer layer;
    layer.id = "L" + std::to_string(v);
    if (v == 0 || unit(rng) < 0.25) layer.inputs.push_back(kInputLayer);
    if (v > 0) layer.inputs.push_back(static_cast<int>(unit(rng) * v));  // branch or skip
    if (v > 1 && unit(rng) < 0.5) {
      int extra = static_cast<int>(unit(rng) * v);
      if (std::find(layer.inputs.begin(), layer.inputs.end(), extra) == layer.inputs.end())
        layer.inputs.push_back(extra);
    }
    if (v == n - 1)
      for (int u = 0; u < n - 1; ++u)
        if (!consumed[u] && std::find(layer.inputs.begin(), layer.inputs.end(), u) == layer.inputs.end())
          layer.inputs.push_back(u);
    for (int p : layer.inputs)
      if (p >= 0) consumed[p] = 1;
    double work = 0.2 + 5 * unit(rng);
    layer.compute_ms = {work * (3 + 3 * unit(rng)), work * (1 + unit(rng)), work * 0.5};
    layer.out_bytes = 50 + 4000 * unit(rng);
    layer.param_bytes = budgets ? 1 + static_cast<int>(100 * unit(rng)) : 0;
    problem.layers.push_back(layer);
  }
  problem.layers.back().return_weight = 1;
  if (budgets) problem.memory_bytes = {60 + 100 * unit(rng), 80 + 100 * unit(rng), kNoBudget};
  if (energy) {
    problem.end_power_w = 1 + 3 * unit(rng);
    problem.energy_weight = 500 * unit(rng);
  }
  return problem;
}

// The objective from the model's text, independent of the solver's code: compute on
// its tier, each tensor once per hop up to its highest consumer, the result's way
// back, beta x (end compute x power + bytes sent on hop 0 x radio); infinite when
// a producer sits above a consumer, a pin is broken or a budget is exceeded.
double reference_cost(const PlacementProblem& p, const std::vector<int>& t) {
  double cost = 0, joules = 0;
  std::vector<double> memory(3, 0);
  for (std::size_t v = 0; v < p.layers.size(); ++v) {
    const auto& layer = p.layers[v];
    if (layer.pinned >= 0 && layer.pinned != t[v]) return kInf;
    cost += layer.compute_ms[t[v]];
    if (t[v] == 0) joules += layer.compute_ms[0] * p.end_power_w * 1e-3;
    memory[t[v]] += layer.param_bytes;
    for (int h = 0; h < t[v]; ++h)
      cost += layer.return_weight * (p.hops[h].latency_ms + p.result_bytes / p.hops[h].bytes_per_ms);
  }
  for (std::size_t k = 0; k < p.memory_bytes.size(); ++k)
    if (memory[k] > p.memory_bytes[k]) return kInf;
  for (int producer = -1; producer < static_cast<int>(p.layers.size()); ++producer) {
    int from = producer < 0 ? 0 : t[producer], to = from;
    for (std::size_t v = 0; v < p.layers.size(); ++v)
      for (int input : p.layers[v].inputs)
        if (input == producer) {
          if (t[v] < from) return kInf;
          to = std::max(to, t[v]);
        }
    double bytes = producer < 0 ? p.input_bytes : p.layers[producer].out_bytes;
    for (int h = from; h < to; ++h) {
      cost += p.hops[h].latency_ms + bytes / p.hops[h].bytes_per_ms;
      if (h == 0) joules += bytes * p.hops[0].radio_nj_per_byte * 1e-9;
    }
  }
  return cost + p.energy_weight * joules;
}

double brute_force(const PlacementProblem& problem) {
  std::size_t n = problem.layers.size();
  std::vector<int> t(n, 0);
  double best = kInf;
  std::function<void(std::size_t)> visit = [&](std::size_t v) {
    if (v == n) {
      best = std::min(best, reference_cost(problem, t));
      return;
    }
    for (int tier = 0; tier < 3; ++tier) {
      t[v] = tier;
      visit(v + 1);
    }
  };
  visit(0);
  return best;
}

void expect_matches_brute_force(const PlacementProblem& problem, int instance) {
  double reference = brute_force(problem);
  PlacementResult result = solve_placement(problem);
  EXPECT_NEAR(result.objective_ms, reference, 1e-6 * reference) << "instance " << instance;
  EXPECT_NEAR(reference_cost(problem, result.tier), reference, 1e-6 * reference) << "instance " << instance;
}

}  // namespace

TEST(Placement, RandomDagsMatchBruteForce) {
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) expect_matches_brute_force(random_problem(rng, 1 + i % 8, false, false), i);
}

TEST(Placement, RandomDagsWithMemoryBudgetsMatchBruteForce) {
  std::mt19937 rng(11);
  int checked = 0, branched = 0;
  for (int i = 0; i < 300; ++i) {
    PlacementProblem problem = random_problem(rng, 1 + i % 8, true, false);
    if (brute_force(problem) == kInf) {  // budgets admit nothing: the solver must say so
      EXPECT_THROW(solve_placement(problem), hddnn::ConfigError) << "instance " << i;
      continue;
    }
    expect_matches_brute_force(problem, i);
    ++checked;
    branched += solve_placement(problem).cuts_solved > 1;
  }
  EXPECT_GE(checked, 200);
  EXPECT_GE(branched, 50);  // the budgets bind: branch and bound is exercised
  std::cout << "budgeted placement instances checked against brute force: " << checked << " (" << branched
            << " needed branch and bound)\n";
}

TEST(Placement, RandomDagsWithEnergyMatchBruteForce) {
  std::mt19937 rng(13);
  for (int i = 0; i < 200; ++i) expect_matches_brute_force(random_problem(rng, 1 + i % 8, i % 2 == 0, true), i);
}

TEST(Placement, ThreeMaxFlowAlgorithmsAgree) {
  std::mt19937 rng(17);
  for (int i = 0; i < 100; ++i) {
    PlacementProblem problem = random_problem(rng, 2 + i % 30, false, i % 3 == 0);
    double bk = solve_placement(problem, MaxFlowAlgorithm::BoykovKolmogorov).max_flow_ms;
    double pr = solve_placement(problem, MaxFlowAlgorithm::PushRelabel).max_flow_ms;
    double ek = solve_placement(problem, MaxFlowAlgorithm::EdmondsKarp).max_flow_ms;
    EXPECT_DOUBLE_EQ(bk, pr) << "instance " << i;
    EXPECT_DOUBLE_EQ(bk, ek) << "instance " << i;
  }
}

TEST(Placement, PinsAreHonoured) {
  std::mt19937 rng(19);
  for (int i = 0; i < 100; ++i) {
    PlacementProblem problem = random_problem(rng, 2 + i % 7, false, false);
    int layer = i % static_cast<int>(problem.layers.size());
    problem.layers[layer].pinned = i % 3;
    PlacementResult result = solve_placement(problem);
    EXPECT_EQ(result.tier[layer], i % 3);
    EXPECT_NEAR(result.objective_ms, brute_force(problem), 1e-6 * result.objective_ms);
  }
}

TEST(Placement, ImpossibleBudgetIsConfigError) {
  std::mt19937 rng(23);
  PlacementProblem problem = random_problem(rng, 4, true, false);
  problem.memory_bytes = {0, 0, 0};
  EXPECT_THROW(solve_placement(problem), hddnn::ConfigError);
}

TEST(Placement, EnergyWeightMovesWorkOffTheDevice) {
  // One heavy layer, cheap on the device in time but costly in energy.
  PlacementProblem problem;
  problem.tiers = {"end", "edge", "cloud"};
  problem.hops = {{1, 1000, 1.0}, {1, 1000, 0}};
  problem.input_bytes = 100;
  problem.result_bytes = 10;
  problem.layers.push_back({"conv", {kInputLayer}, 10, {3.0, 4.5, 4.5}, 0, -1, 1, 1});
  problem.end_power_w = 5;
  EXPECT_EQ(solve_placement(problem).tier[0], 0);
  problem.energy_weight = 1000;  // 3 ms x 5 W = 15 mJ -> 15 ms of penalty
  PlacementResult result = solve_placement(problem);
  EXPECT_GT(result.tier[0], 0);
  EXPECT_NEAR(result.end_energy_mj, 100 * 1.0 * 1e-6, 1e-12);
}

TEST(PlacementFile, SolvesAndNamesTiers) {
  json problem = json::parse(R"({"kind": "placement", "input_bytes": 3000, "result_bytes": 8,
    "layers": [
      {"id": "a", "inputs": ["input"], "out_bytes": 100, "compute_ms": {"end": 1, "edge": 0.5, "cloud": 0.2}},
      {"id": "b", "inputs": ["a"], "out_bytes": 100, "compute_ms": {"end": 50, "edge": 5, "cloud": 1}},
      {"id": "c", "inputs": ["a", "b"], "out_bytes": 4, "compute_ms": {"end": 50, "edge": 5, "cloud": 1}}],
    "hops": [{"from": "end", "to": "edge", "latency_ms": 2, "bytes_per_ms": 1000},
             {"from": "edge", "to": "cloud", "latency_ms": 20, "bytes_per_ms": 10000}]})");
  json answer = solve(problem);
  EXPECT_EQ(answer["tier"]["a"], "end");
  EXPECT_EQ(answer["tier"]["b"], "edge");
  EXPECT_EQ(answer["tier"]["c"], "edge");
  // 1 + 5 + 5 compute, a's output once over hop 0 (2.1), result back (2.008)
  EXPECT_NEAR(answer["objective_ms"].get<double>(), 11 + 2.1 + 2.008, 1e-9);
  EXPECT_FALSE(answer.contains("end_energy_mj"));
}

TEST(PlacementFile, BadInputNamesTheCulprit) {
  json base = json::parse(R"({"kind": "placement", "input_bytes": 10, "result_bytes": 1,
    "layers": [
      {"id": "a", "inputs": ["input", "b"], "out_bytes": 1, "compute_ms": {"end": 1, "edge": 1, "cloud": 1}},
      {"id": "b", "inputs": ["a"], "out_bytes": 1, "compute_ms": {"end": 1, "edge": 1, "cloud": 1}},
      {"id": "c", "inputs": ["b"], "out_bytes": 1, "compute_ms": {"end": 1, "edge": 1, "cloud": 1}}],
    "hops": [{"from": "end", "to": "edge", "latency_ms": 1, "bytes_per_ms": 1},
             {"from": "edge", "to": "cloud", "latency_ms": 1, "bytes_per_ms": 1}]})");
  auto message = [](const json& problem) {
    try {
      solve(problem, "p.json");
    } catch (const hddnn::ConfigError& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(base).find("is on a cycle"), std::string::npos) << message(base);
  json unknown = base;
  unknown["layers"][0]["inputs"] = {"input", "zzz"};
  EXPECT_NE(message(unknown).find("layer 'a': unknown input id 'zzz'"), std::string::npos) << message(unknown);
  json negative = unknown;
  negative["layers"][0]["inputs"] = {"input"};
  negative["layers"][1]["compute_ms"]["edge"] = -1;
  EXPECT_NE(message(negative).find("layers[1].compute_ms: field 'edge' must be a number >= 0"), std::string::npos)
      << message(negative);
  json kind = negative;
  kind["kind"] = "scheduling";
  EXPECT_NE(message(kind).find("field 'kind'"), std::string::npos) << message(kind);
}
