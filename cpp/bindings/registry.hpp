// Each file in cpp/bindings registers one concern of hddnn._core.
#pragma once

#include <pybind11/pybind11.h>

namespace hddnn::bindings {

void register_errors(pybind11::module_& m);
void register_data(pybind11::module_& m);
void register_info(pybind11::module_& m);
void register_comm(pybind11::module_& m);
void register_runtime(pybind11::module_& m);
void register_nn(pybind11::module_& m);
void register_mapping(pybind11::module_& m);
void register_parallel(pybind11::module_& m);

}  // namespace hddnn::bindings
