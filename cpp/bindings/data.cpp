#include <torch/extension.h>

#include <pybind11/stl.h>

#include "hddnn/data/fashion_mnist.hpp"
#include "hddnn/data/labelled_images.hpp"
#include "hddnn/data/labels.hpp"
#include "registry.hpp"

namespace py = pybind11;

namespace hddnn::bindings {
namespace {

py::tuple load_fashion_mnist(const std::string& root, const std::string& split, const std::string& views, uint64_t seed,
                             int64_t val_size, int64_t limit) {
  data::LabelledImages loaded;
  {
    py::gil_scoped_release release;
    loaded = data::load_fashion_mnist({root, split, views, seed, val_size, limit});
  }
  return py::make_tuple(loaded.images, loaded.fine);
}

void save_data_file(const std::string& path, const std::map<std::string, py::tuple>& splits) {
  std::map<std::string, data::LabelledImages> sets;
  for (const auto& [name, pair] : splits) sets[name] = {pair[0].cast<torch::Tensor>(), pair[1].cast<torch::Tensor>()};
  py::gil_scoped_release release;
  data::save_data_file(path, sets);
}

py::tuple load_data_file(const std::string& path, const std::string& split) {
  data::LabelledImages loaded;
  {
    py::gil_scoped_release release;
    loaded = data::load_data_file(path, split);
  }
  return py::make_tuple(loaded.images, loaded.fine);
}

void check_labelled(const torch::Tensor& images, const torch::Tensor& labels, const std::string& where) {
  data::check_labelled({images, labels}, where);
}

}  // namespace

void register_data(py::module_& m) {
  m.def("load_fashion_mnist", &load_fashion_mnist, py::arg("root") = "", py::arg("split") = "train",
        py::arg("views") = "single", py::arg("seed") = 0, py::arg("val_size") = 5000, py::arg("limit") = -1,
        "Loads a Fashion-MNIST split as (images N x V x 1 x H x W, fine labels).");
  m.def("save_data_file", &save_data_file, py::arg("path"), py::arg("splits"),
        "Writes {split: (images, labels)} to one data file (checked first).");
  m.def("load_data_file", &load_data_file, py::arg("path"), py::arg("split"),
        "Reads one split of a data file as (images, labels), checked.");
  m.def("data_file_splits", &data::data_file_splits, py::arg("path"));
  m.def("check_labelled", &check_labelled, py::arg("images"), py::arg("labels"), py::arg("where"),
        "DataError naming `where` and the fault when the tensors are not a labelled image set.");
  m.def("default_dataset_dir", &data::default_dataset_dir);
  m.def("fine_label_names", [] {
    const auto& n = data::fine_label_names();
    return std::vector<std::string>(n.begin(), n.end());
  });
  m.def("coarse_label_names", [] {
    const auto& n = data::coarse_label_names();
    return std::vector<std::string>(n.begin(), n.end());
  });
  m.def("coarse_of_fine", [] {
    const auto& map = data::coarse_of_fine();
    return std::vector<int64_t>(map.begin(), map.end());
  });
}

}  // namespace hddnn::bindings
