#include <pybind11/stl.h>

#include "hddnn/comm/mpi_env.hpp"
#include "hddnn/info.hpp"
#include "registry.hpp"

namespace py = pybind11;

namespace hddnn::bindings {

void register_info(py::module_& m) {
  m.def("build_info", [] {
    BuildInfo info = build_info();
    py::dict d;
    d["hddnn"] = info.hddnn_version;
    d["torch"] = info.torch_version;
    d["mpi"] = info.mpi_version;
    d["libsodium"] = info.sodium_version;
    d["blas"] = info.blas;
    d["nccl_compiled"] = info.nccl_compiled;
    d["nccl_version"] = info.nccl_version;
    d["cuda_devices"] = info.cuda_devices;
    d["torch_threads"] = info.torch_threads;
    d["dataset_dir"] = info.dataset_dir;
    d["dataset_present"] = info.dataset_present;
    return d;
  });
  m.def("mpi_init", &comm::ensure_initialized, "Initialises MPI (once); returns the thread level provided.");
  m.def("mpi_initialized", &comm::is_initialized);
  m.def("mpi_finalize", &comm::finalize, "Finalises MPI if hddnn initialised it and no peer died.");
  m.def("mpi_rank", &comm::world_rank);
  m.def("mpi_size", &comm::world_size);
}

}  // namespace hddnn::bindings
