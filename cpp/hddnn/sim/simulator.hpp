// hddnn's discrete-event simulator. It models what the live runtime does with
// the same pieces: the topology (mapping::Topology), the model's profile
// (per-section compute time, feature bytes, escalation fractions), the same
// Poisson arrivals (runtime/arrivals), the same routing (mapping::plan and
// runtime::Router), the same wire sizes, and writes the same results file
// (runtime::summarize). Every device is a FIFO single server whose service time
// is the section's profiled batch-1 time / speed; every link a FIFO serialiser
// (bytes / bandwidth) followed by its latency. A request exits at a tier with
// the profile's probability, and is correct with that exit's measured accuracy
// when the profile gives one. Under `mapping` the plan is solved once, at the
// start: the simulated arrival rates are stationary, so re-planning would not move it.
//
// Deterministic for a seed. No torch, no MPI: it runs 10,000 end devices.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "hddnn/mapping/plan.hpp"
#include "hddnn/mapping/topology.hpp"

namespace hddnn::sim {

struct SimConfig {
  std::string scheme = "mapping";  ///< end | end-cloud | mapping
  double rate_per_s = 10;          ///< per end device
  double duration_s = 5;
  double deadline_ms = 0;
  uint64_t seed = 0;
  bool encrypt = true;  ///< adds the seal to every message's size
  std::string topology_name, model_name;
};

/// Runs the simulation and returns the results file (the format of docs/design.md).
nlohmann::json simulate(const mapping::Topology& topology, const mapping::ModelProfile& profile,
                        const SimConfig& config);

/// A synthetic topology: `ends` end devices spread over `edges` edge nodes, one cloud,
/// with lab7's speeds and links.
mapping::Topology synthetic_topology(int ends, int edges);

}  // namespace hddnn::sim
