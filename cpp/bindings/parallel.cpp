// Parallel bindings: DistributedGradients for torch tensors from Python (mpi4py or
// hddnn.mpi_init() must have initialised MPI; construction is collective over
// MPI_COMM_WORLD).
#include <pybind11/stl.h>
#include <torch/extension.h>

#include "hddnn/comm/mpi_env.hpp"
#include "hddnn/parallel/distributed_gradients.hpp"
#include "registry.hpp"

namespace py = pybind11;

namespace hddnn::bindings {
namespace {

std::unique_ptr<parallel::DistributedGradients> make_distributed(std::size_t bucket_bytes) {
  comm::ensure_initialized();
  return std::make_unique<parallel::DistributedGradients>(MPI_COMM_WORLD, parallel::DistributedOptions{bucket_bytes});
}

}  // namespace

void register_parallel(py::module_& m) {
  using parallel::DistributedGradients;
  py::class_<DistributedGradients>(
      m, "DistributedGradients", "Averages gradients over MPI_COMM_WORLD in fused buckets (MPI on CPU, NCCL on CUDA).")
      .def(py::init(&make_distributed), py::arg("bucket_bytes") = std::size_t{25} << 20)
      .def_property_readonly("rank", &DistributedGradients::rank)
      .def_property_readonly("size", &DistributedGradients::size)
      .def_property_readonly("last_bucket_count", &DistributedGradients::last_bucket_count)
      .def("average", &DistributedGradients::average, py::arg("parameters"), py::call_guard<py::gil_scoped_release>(),
           "Replaces each parameter's .grad by its mean over ranks (call after backward).")
      .def("average_tensors", &DistributedGradients::average_tensors, py::arg("tensors"),
           py::call_guard<py::gil_scoped_release>(), "Each tensor becomes its mean over ranks, in place.")
      .def("broadcast", &DistributedGradients::broadcast, py::arg("tensors"), py::arg("root") = 0,
           py::call_guard<py::gil_scoped_release>(), "Each tensor becomes root's, in place.");
}

}  // namespace hddnn::bindings
