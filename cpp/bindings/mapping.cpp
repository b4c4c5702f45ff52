// hddnn._core mapping functions. JSON crosses the boundary as text: Python's json
// module on one side, nlohmann-json on the other; hddnn.mapping wraps these with dicts.
#include <pybind11/stl.h>

#include "hddnn/errors.hpp"
#include "hddnn/mapping/solve.hpp"
#include "hddnn/mapping/topology.hpp"
#include "hddnn/nn/threshold_profile.hpp"
#include "registry.hpp"

namespace py = pybind11;

namespace hddnn::bindings {
namespace {

using nlohmann::json;

json parse_text(const std::string& text, const std::string& what) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& error) {
    throw ConfigError(what + ": not valid JSON: " + error.what());
  }
}

std::string solve_text(const std::string& problem, const std::string& source) {
  json document = parse_text(problem, source);
  py::gil_scoped_release release;
  return mapping::solve(document, source).dump();
}

std::string plan_text(const std::string& topology, const std::string& profile, const std::string& rates,
                      const std::string& options, const std::string& topology_name, const std::string& profile_name) {
  json t = parse_text(topology, topology_name), p = parse_text(profile, profile_name);
  json r = parse_text(rates, "rates"), o = parse_text(options, "plan options");
  py::gil_scoped_release release;
  return mapping::plan_json(t, p, r, o, topology_name, profile_name).dump();
}

std::string load_topology_text(const std::string& path) {
  return mapping::topology_to_json(mapping::load_topology(path)).dump();
}

std::string validate_topology_text(const std::string& topology, const std::string& source) {
  return mapping::topology_to_json(mapping::parse_topology(parse_text(topology, source), source)).dump();
}

}  // namespace

void register_mapping(py::module_& m) {
  m.def("mapping_solve", &solve_text, py::arg("problem_json"), py::arg("source") = "problem",
        "Solves a placement or routing problem (JSON text); returns the answer as JSON text.");
  m.def("mapping_plan", &plan_text, py::arg("topology_json"), py::arg("profile_json"), py::arg("rates_json"),
        py::arg("options_json"), py::arg("topology_name") = "topology", py::arg("profile_name") = "profile",
        "Plans a topology for a model profile and per-end-device rates; returns the plan as JSON text.");
  m.def("mapping_load_topology", &load_topology_text, py::arg("path"),
        "Loads and validates a topology file; returns it as JSON text (references by name).");
  m.def("mapping_validate_topology", &validate_topology_text, py::arg("topology_json"), py::arg("source") = "topology",
        "Validates a topology given as JSON text; returns it normalised.");
  m.def(
      "profile_at_threshold",
      [](const std::string& model, double threshold) { return nn::profile_at_threshold(model, threshold).dump(); },
      py::arg("model"), py::arg("threshold"),
      "The model folder's profile.json as a run overriding every exit threshold with `threshold` sees it "
      "(threshold < 0: as trained); JSON text.");
  m.attr("mapping_topology_dir") = mapping::shipped_topology_dir();
}

}  // namespace hddnn::bindings
