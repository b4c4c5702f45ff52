// hddnn._core: the only code that sees Python. Python must import torch first.
#include <torch/extension.h>

#include "registry.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "hddnn C++ core";
  m.attr("__version__") = HDDNN_VERSION;
  hddnn::bindings::register_errors(m);
  hddnn::bindings::register_data(m);
  hddnn::bindings::register_info(m);
  hddnn::bindings::register_comm(m);
  hddnn::bindings::register_runtime(m);
  hddnn::bindings::register_nn(m);
  hddnn::bindings::register_mapping(m);
  hddnn::bindings::register_parallel(m);
}
