#include <torch/extension.h>

#include "hddnn/data/fashion_mnist.hpp"
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
  return py::make_tuple(loaded.images, loaded.fine, loaded.coarse);
}

}  // namespace

void register_data(py::module_& m) {
  m.def("load_fashion_mnist", &load_fashion_mnist, py::arg("root") = "", py::arg("split") = "train",
        py::arg("views") = "single", py::arg("seed") = 0, py::arg("val_size") = 5000, py::arg("limit") = -1,
        "Loads a Fashion-MNIST split as (images N x V x 1 x H x W, fine, coarse).");
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
