#include "instances.hpp"

#include <algorithm>
#include <numeric>

namespace hddnn::mapping::bench {

RoutingProblem random_routing(std::mt19937& rng, int streams, int nodes, double load) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  RoutingProblem problem;
  double capacity = 0;
  for (int j = 0; j < nodes; ++j) {
    problem.nodes.push_back({"n" + std::to_string(j), 50 + 450 * unit(rng)});
    capacity += problem.nodes.back().service_rate_per_s;
  }
  // Streams live near nodes in proportion to their capacity, so every neighbourhood
  // can carry its share of the load.
  std::vector<double> capacities;
  for (const auto& node : problem.nodes) capacities.push_back(node.service_rate_per_s);
  std::discrete_distribution<int> pick_home(capacities.begin(), capacities.end());
  std::vector<double> weight(streams);
  for (double& w : weight) w = 0.2 + unit(rng);
  double total = std::accumulate(weight.begin(), weight.end(), 0.0);
  for (int i = 0; i < streams; ++i) {
    RoutingStream stream{"s" + std::to_string(i), load * capacity * weight[i] / total, {}};
    int home = static_cast<int>(pick_home(rng));
    for (int j : {home, (home + 1) % nodes, (home + nodes - 1) % nodes, nodes - 1}) {
      bool listed = std::any_of(stream.options.begin(), stream.options.end(), [&](auto& o) { return o.node == j; });
      if (!listed) stream.options.push_back({j, 1 + 49 * unit(rng)});
    }
    problem.streams.push_back(stream);
  }
  return problem;
}

PlacementProblem random_dag(std::mt19937& rng, int layers) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  PlacementProblem problem;
  problem.tiers = {"end", "edge", "cloud"};
  problem.hops = {{5, 2500, 0}, {25, 12500, 0}};
  problem.input_bytes = 784;
  problem.result_bytes = 8;
  std::vector<char> consumed(layers, 0);
  for (int v = 0; v < layers; ++v) {
    PlacementLayer layer;
    layer.id = "L" + std::to_string(v);
    if (v == 0) layer.inputs.push_back(kInputLayer);
    if (v > 0) layer.inputs.push_back(v - 1);
    if (v > 2 && unit(rng) < 0.3) layer.inputs.push_back(v - 2 - static_cast<int>(unit(rng) * std::min(v - 2, 8)));
    if (v == layers - 1)
      for (int u = 0; u < v; ++u)
        if (!consumed[u] && std::find(layer.inputs.begin(), layer.inputs.end(), u) == layer.inputs.end())
          layer.inputs.push_back(u);
    for (int p : layer.inputs)
      if (p >= 0) consumed[p] = 1;
    double work = 0.05 + unit(rng);
    layer.compute_ms = {4 * work, 1.3 * work, 0.6 * work};
    layer.out_bytes = 64 + 8000 * unit(rng);
    problem.layers.push_back(layer);
  }
  problem.layers.back().return_weight = 1;
  return problem;
}

ModelProfile representative_profile() {
  ModelProfile profile;
  profile.input_bytes = 784;
  profile.sections = {{"end", Tier::End, 20000, 256, 0.4, 3.0, 0.4},
                      {"edge", Tier::Edge, 400000, 512, 1.5, 10.0, 0.5},
                      {"cloud", Tier::Cloud, 4000000, 0, 6.0, 40.0, 0.0}};
  return profile;
}

Topology perturbed(const Topology& base, std::mt19937& rng, double spread) {
  std::uniform_real_distribution<double> factor(1.0 - spread, 1.0 + spread);
  Topology topology = base;
  for (Device& device : topology.devices) {
    device.speed *= factor(rng);
    for (Link& link : device.links) {
      link.latency_ms *= factor(rng);
      link.bandwidth_mbps *= factor(rng);
    }
  }
  return topology;
}

}  // namespace hddnn::mapping::bench
