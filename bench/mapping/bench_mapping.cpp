// hddnn mapping benchmark: solve times against size (routing, placement, re-planning)
// and plan quality against two baselines on lab7-like instances. Prints one JSON
// document on stdout; bench/mapping/run.py turns it into a table and a results file.
//
// Usage: bench_mapping TOPOLOGY_DIR [--quick | --full | --no-routing]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "baselines.hpp"
#include "instances.hpp"

using namespace hddnn::mapping;
using nlohmann::json;

namespace {

// Median wall time (ms) of `run`, repeated until `budget_s` is spent (at least 3 runs
// unless one run alone exceeds the budget, at most 31).
template <class F>
json time_ms(F&& run, double budget_s) {
  std::vector<double> samples;
  auto start = std::chrono::steady_clock::now();
  while (samples.size() < 31) {
    auto t0 = std::chrono::steady_clock::now();
    run();
    auto t1 = std::chrono::steady_clock::now();
    samples.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    double spent = std::chrono::duration<double>(t1 - start).count();
    if (spent > budget_s && (samples.size() >= 3 || spent > 3 * budget_s)) break;
  }
  std::sort(samples.begin(), samples.end());
  return {{"median_ms", samples[samples.size() / 2]}, {"runs", samples.size()}};
}

// Sizes above `limit` stream-nodes are skipped (the flow's cost grows with streams
// times filled pieces; 10,000 x 256 takes minutes).
json routing_times(long limit) {
  json rows = json::array();
  std::mt19937 rng(1);
  for (int streams : {10, 100, 1000, 10000})
    for (int nodes : {4, 16, 64, 256}) {
      if (static_cast<long>(streams) * nodes > limit) continue;
      RoutingProblem problem = bench::random_routing(rng, streams, nodes, 0.7);
      RoutingResult result;
      json timing = time_ms([&] { result = solve_routing(problem); }, streams >= 10000 ? 0.1 : 0.5);
      timing.update({{"streams", streams},
                     {"nodes", nodes},
                     {"feasible", result.feasible},
                     {"objective_ms", result.objective_ms},
                     {"pieces_per_node", result.pieces}});
      rows.push_back(timing);
      std::cerr << "routing " << streams << "x" << nodes << ": " << timing["median_ms"] << " ms\n";
    }
  return rows;
}

json placement_times() {
  json rows = json::array();
  std::mt19937 rng(2);
  for (int layers : {10, 50, 100, 200, 500}) {
    PlacementProblem problem = bench::random_dag(rng, layers);
    PlacementResult result;
    json timing = time_ms([&] { result = solve_placement(problem); }, 0.5);
    std::vector<int> cloud(problem.layers.size(), 2);
    timing.update({{"layers", layers},
                   {"tiers", 3},
                   {"objective_ms", result.objective_ms},
                   {"cloud_only_ms", placement_cost(problem, cloud)}});
    rows.push_back(timing);
    std::cerr << "placement " << layers << ": " << timing["median_ms"] << " ms\n";
  }
  return rows;
}

// Re-planning lab7: from scratch, after an edge node leaves, after the load grows.
json replan_times(const Topology& lab7, const ModelProfile& profile) {
  std::vector<double> rates(4, 60.0), grown(4, 90.0);
  PlanOptions options, without_edge;
  without_edge.exclude = {lab7.index_of("edge0")};
  json rows = json::array();
  for (auto [name, r, o] : {std::tuple{"lab7 plan", rates, options}, std::tuple{"edge0 excluded", rates, without_edge},
                            std::tuple{"rates x1.5", grown, options}}) {
    Plan result;
    json timing = time_ms([&, &r = r, &o = o] { result = plan(lab7, profile, r, o); }, 0.3);
    timing.update({{"case", name},
                   {"iterations", result.iterations},
                   {"mean_latency_ms", result.mean_latency_ms},
                   {"feasible", result.feasible}});
    rows.push_back(timing);
  }
  return rows;
}

json finite(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

// Plan vs baselines on lab7 at several loads and on perturbed lab7 variants.
json quality(const Topology& lab7, const ModelProfile& profile) {
  json rows = json::array();
  std::mt19937 rng(3);
  PlanOptions options;
  for (int instance = 0; instance < 24; ++instance) {
    Topology topology = instance < 6 ? lab7 : bench::perturbed(lab7, rng, 0.3);
    double per_device = 20.0 + 20.0 * (instance % 6);
    std::vector<double> rates;
    std::uniform_real_distribution<double> jitter(0.6, 1.4);
    for (int e = 0; e < 4; ++e) rates.push_back(instance < 6 ? per_device : per_device * jitter(rng));
    Plan planned = plan(topology, profile, rates, options);
    Plan cloud = bench::cloud_only_plan(topology, profile, rates, options);
    Plan metis = bench::metis_balanced_plan(topology, profile, rates, options);
    rows.push_back({{"instance", instance},
                    {"variant", instance < 6 ? "lab7" : "perturbed lab7"},
                    {"total_rate_per_s", rates[0] + rates[1] + rates[2] + rates[3]},
                    {"plan_ms", finite(planned.mean_latency_ms)},
                    {"plan_feasible", planned.feasible},
                    {"plan_iterations", planned.iterations},
                    {"cloud_only_ms", finite(cloud.mean_latency_ms)},
                    {"metis_ms", finite(metis.mean_latency_ms)},
                    {"cloud_only_utilisation", cloud.utilisation[topology.cloud()]}});
  }
  return rows;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: bench_mapping TOPOLOGY_DIR [--quick | --full | --no-routing]\n";
    return 2;
  }
  std::string mode = argc > 2 ? argv[2] : "";
  long limit = mode == "--quick" ? 64000 : mode == "--full" ? 10000L * 256 : 256000;
  Topology lab7 = load_topology(std::string(argv[1]) + "/lab7.json");
  ModelProfile profile = bench::representative_profile();
  json out = {{"routing", mode == "--no-routing" ? json::array() : routing_times(limit)},
              {"placement", placement_times()},
              {"replan", replan_times(lab7, profile)},
              {"quality", quality(lab7, profile)}};
  std::cout << out.dump(2) << "\n";
  return 0;
}
