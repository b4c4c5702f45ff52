// Cluster keys for the sealed transport: generate a key file, validate one.
#include <pybind11/stl.h>

#include "hddnn/crypto/cluster_key.hpp"
#include "registry.hpp"

namespace py = pybind11;

namespace hddnn::bindings {

void register_comm(py::module_& m) {
  m.def(
      "crypto_keygen",
      [](const std::string& path, bool overwrite) { crypto::ClusterKey::generate().save(path, overwrite); },
      py::arg("path"), py::arg("overwrite") = false,
      "Writes a fresh cluster secret to path with mode 0600 (refuses to replace a file unless overwrite).");
  m.def(
      "crypto_check_key", [](const std::string& path) { crypto::ClusterKey::load(path); }, py::arg("path"),
      "Loads and validates a cluster key file; raises CryptoError naming the file when it is unusable.");
}

}  // namespace hddnn::bindings
