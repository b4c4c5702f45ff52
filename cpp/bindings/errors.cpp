// Registers hddnn's C++ exceptions as Python classes. Base classes are registered
// before derived ones: pybind11 tries the newest translator first, so a
// PeerLostError is translated as itself, not as its CommError base.
#include "hddnn/errors.hpp"

#include "registry.hpp"

namespace py = pybind11;

namespace hddnn::bindings {

void register_errors(py::module_& m) {
  auto base = py::register_exception<HddnnError>(m, "HddnnError", PyExc_RuntimeError);
  py::register_exception<ConfigError>(m, "ConfigError", py::make_tuple(base, py::handle(PyExc_ValueError)));
  py::register_exception<DataError>(m, "DataError", base);
  auto comm = py::register_exception<CommError>(m, "CommError", base);
  py::register_exception<PeerLostError>(m, "PeerLostError", comm);
  py::register_exception<CryptoError>(m, "CryptoError", base);
  py::register_exception<RunFailedError>(m, "RunFailedError", base);
}

}  // namespace hddnn::bindings
