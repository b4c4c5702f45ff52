// Runtime bindings: the discrete-event simulator, synthetic topologies, and the run
// config check the launcher makes before starting hddnn-node under mpirun (see
// python/hddnn/launch.py).
#include <pybind11/stl.h>

#include "hddnn/mapping/profile.hpp"
#include "hddnn/mapping/topology.hpp"
#include "hddnn/runtime/request_check.hpp"
#include "hddnn/runtime/run_config.hpp"
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

void check_run_config(const std::string& config_json) {
  const auto config = nlohmann::json::parse(config_json).get<runtime::RunConfig>();
  runtime::check_tamper_ranks(config, mapping::load_topology(config.topology).devices.size());
  if (!config.data_file.empty()) runtime::check_request_data(config.model_dir, config.data_file);
}

}  // namespace

void register_runtime(py::module_& m) {
  m.def("simulate", &simulate, py::arg("topology_json"), py::arg("profile_json"), py::arg("config_json"),
        "Runs the discrete-event simulator; returns the results file as JSON text.");
  m.def("check_run_config", &check_run_config, py::arg("config_json"),
        "Checks a run config as every hddnn-node rank will; ConfigError names the bad field, DataError a data "
        "file that does not fit the model.");
  m.def("synthetic_topology",
        [](int ends, int edges) { return mapping::topology_to_json(sim::synthetic_topology(ends, edges)).dump(); });
}

}  // namespace hddnn::bindings
