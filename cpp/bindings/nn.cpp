// hddnn._core.Network: the C++ multi-exit network, trained, scored, profiled and
// exported from Python. JSON results cross as strings (python/hddnn/network.py
// decodes them); training releases the GIL and re-takes it only for progress calls.
// fit(distributed=True) trains data-parallel over MPI_COMM_WORLD (under mpirun).
#include <torch/extension.h>

#include "hddnn/comm/mpi_env.hpp"
#include "hddnn/nn/checkpoint.hpp"
#include "hddnn/nn/evaluation.hpp"
#include "hddnn/nn/export.hpp"
#include "hddnn/nn/profile.hpp"
#include "hddnn/nn/spec_data.hpp"
#include "hddnn/nn/trainer.hpp"
#include "hddnn/parallel/data_parallel.hpp"
#include "registry.hpp"

namespace py = pybind11;

namespace hddnn::bindings {
namespace {

using nn::Network;

data::LabelledImages labelled(const torch::Tensor& images, const torch::Tensor& labels) { return {images, labels}; }

// data_image_shape: C x H x W of the data the network is for (empty: the spec's "input").
Network from_spec_file(const std::string& path, uint64_t seed, const std::vector<int64_t>& data_image_shape) {
  return Network(nn::load_spec(path, data_image_shape), seed);
}

Network from_spec_json(const std::string& text, uint64_t seed, const std::vector<int64_t>& data_image_shape) {
  return Network(nn::spec_for_data(nlohmann::json::parse(text), "spec", data_image_shape), seed);
}

// Python passes an empty tensor for "no mask".
torch::Tensor optional_mask(const torch::Tensor& mask) {
  return mask.defined() && mask.numel() > 0 ? mask : torch::Tensor();
}

// distributed: every rank of MPI_COMM_WORLD calls fit together (data parallel).
std::string fit(Network& network, const data::LabelledImages& train, const data::LabelledImages& val,
                const std::string& config_json, py::object progress, bool distributed) {
  const auto base = network.spec().source.value("training", nlohmann::json::object());
  const auto config = nn::train_config_from_json(nlohmann::json::parse(config_json), nn::train_config_from_json(base));
  nn::ProgressCallback callback;
  if (!progress.is_none())
    callback = [&progress](const nn::Progress& p) {
      py::gil_scoped_acquire gil;
      py::object record = py::none();
      if (p.finished_epoch) record = py::str(nn::to_json(*p.finished_epoch).dump());
      progress(p.step, p.total_steps, p.epoch, p.loss, record);
    };
  std::vector<nn::EpochRecord> history;
  {
    py::gil_scoped_release release;
    std::unique_ptr<parallel::DistributedGradients> gradients;
    nn::DataParallel single;
    if (distributed) {
      comm::ensure_initialized();
      gradients = std::make_unique<parallel::DistributedGradients>(MPI_COMM_WORLD);
    }
    history = nn::fit(network, train, val, config, callback, gradients ? parallel::data_parallel(*gradients) : single);
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : history) out.push_back(nn::to_json(r));
  return out.dump();
}

py::dict forward(Network& network, const torch::Tensor& images, const torch::Tensor& mask) {
  torch::NoGradGuard no_grad;
  network.train(false);
  py::dict out;
  for (const auto& e : network.forward(images, optional_mask(mask))) out[py::str(e.name)] = e.logits;
  return out;
}

std::vector<double> choose(Network& network, const data::LabelledImages& val, double tolerance) {
  nn::check_dataset(network.spec(), val, "val");
  const auto exits = nn::predict(network, val.images);
  auto thresholds = nn::choose_thresholds(exits, nn::policy_exit_indices(network, exits), val.fine, tolerance);
  network.set_thresholds(thresholds);
  return thresholds;
}

std::string profile(Network& network, const data::LabelledImages& test) {
  nn::check_dataset(network.spec(), test, "data");
  const auto exits = nn::predict(network, test.images);
  const auto policy = nn::policy_exit_indices(network, exits);
  std::vector<size_t> sections;
  for (size_t p : policy) sections.push_back(exits[p].section);
  const auto thresholds = network.thresholds().size() + 1 == policy.size()
                              ? network.thresholds()
                              : std::vector<double>(policy.size() - 1, 0.0);
  return nn::profile_network(network, nn::apply_policy(exits, policy, test.fine, thresholds), sections).dump();
}

std::vector<std::string> policy_exits(Network& network) {
  const auto& in = network.spec().input_shape;
  const auto exits = nn::predict(network, torch::zeros({1, network.spec().view_count, in[0], in[1], in[2]}));
  std::vector<std::string> names;
  for (size_t p : nn::policy_exit_indices(network, exits)) names.push_back(exits[p].name);
  return names;
}

}  // namespace

void register_nn(py::module_& m) {
  py::class_<data::LabelledImages>(m, "LabelledSet").def(py::init(&labelled));
  py::class_<Network>(m, "Network")
      .def_static("from_spec_file", &from_spec_file, py::arg("path"), py::arg("seed") = 0,
                  py::arg("data_image_shape") = std::vector<int64_t>())
      .def_static("from_spec_json", &from_spec_json, py::arg("text"), py::arg("seed") = 0,
                  py::arg("data_image_shape") = std::vector<int64_t>())
      .def_static("load", &nn::load_network)
      .def("save", &nn::save_network)
      .def("spec_json", [](const Network& n) { return n.spec().source.dump(); })
      .def("label_sets_json", [](const Network& n) { return n.spec().labels.to_json().dump(); })
      .def("fit", &fit, py::arg("train"), py::arg("val"), py::arg("config_json"), py::arg("progress"),
           py::arg("distributed") = false)
      .def("forward", &forward, py::arg("images"), py::arg("mask") = torch::Tensor())
      .def("choose_thresholds", &choose)
      .def("thresholds", &Network::thresholds)
      .def("policy_exits", &policy_exits)
      .def(
          "evaluate",
          [](Network& n, const data::LabelledImages& s, const torch::Tensor& mask) {
            py::gil_scoped_release release;
            nn::check_dataset(n.spec(), s, "data");
            return nn::evaluate_split(n, s.images, s.fine, optional_mask(mask)).dump();
          },
          py::arg("data"), py::arg("mask") = torch::Tensor())
      .def("profile",
           [](Network& n, const data::LabelledImages& s) {
             py::gil_scoped_release release;
             return profile(n, s);
           })
      .def("export",
           [](Network& n, const std::string& dir) { return nn::export_network(n, dir, policy_exits(n)).dump(); })
      .def("step", [](Network& n) { return n.training_state().step; });
}

}  // namespace hddnn::bindings
