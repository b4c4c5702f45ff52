// Runtime bindings: the discrete-event simulator and synthetic topologies. The
// live runtime runs as hddnn-node under mpirun (see python/hddnn/launch.py).
#include <pybind11/stl.h>

#include "hddnn/mapping/profile.hpp"
#include "hddnn/mapping/topology.hpp"
#include "hddnn/sim/simulator.hpp"
#include "registry.hpp"

namespace py = pybind11;

namespace hddnn::bindings {
namespace {

std::string simulate(const std::string& topology_json, const std::string& profile_json,
                     const std::string& config_json) {
  const auto topology = mapping::parse_topology(nlohmann::json::parse(topology_json), "topology");
  const auto profile = mapping::parse_profile(nlohmann::json::parse(profile_json), "profile");
  const auto j = nlohmann::json::parse(config_json);
  sim::SimConfig config;
  config.scheme = j.value("scheme", config.scheme);
  config.rate_per_s = j.value("rate", config.rate_per_s);
  config.duration_s = j.value("duration", config.duration_s);
  config.deadline_ms = j.value("deadline_ms", config.deadline_ms);
  config.seed = j.value("seed", config.seed);
  config.encrypt = j.value("encrypt", config.encrypt);
  config.topology_name = topology.source;
  py::gil_scoped_release release;
  return sim::simulate(topology, profile, config).dump();
}

}  // namespace

void register_runtime(py::module_& m) {
  m.def("simulate", &simulate, py::arg("topology_json"), py::arg("profile_json"), py::arg("config_json"),
        "Runs the discrete-event simulator; returns the results file as JSON text.");
  m.def("synthetic_topology", [](int ends, int edges) {
    return mapping::topology_to_json(sim::synthetic_topology(ends, edges)).dump();
  });
}

}  // namespace hddnn::bindings
