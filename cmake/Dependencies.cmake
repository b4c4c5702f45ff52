# Finds the core's dependencies: LibTorch, MPI, libsodium, zlib, nlohmann-json,
# Python + pybind11, and (optionally) CUDA with NCCL.

find_package(Python3 REQUIRED COMPONENTS Interpreter Development.Module)

# Any LibTorch: ask the configured Python's torch where its CMake package is (a pip
# wheel ships one under torch/share/cmake); Debian's lives in the system prefix.
# The C++ ABI flag must match the torch that Python imports.
execute_process(
  COMMAND ${Python3_EXECUTABLE} -c
    "import torch, torch.utils; print(torch.utils.cmake_prefix_path); print(int(torch._C._GLIBCXX_USE_CXX11_ABI))"
  OUTPUT_VARIABLE HDDNN_PY_TORCH OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE HDDNN_PY_TORCH_RC ERROR_QUIET)
if(HDDNN_PY_TORCH_RC EQUAL 0)
  string(REPLACE "\n" ";" HDDNN_PY_TORCH "${HDDNN_PY_TORCH}")
  list(GET HDDNN_PY_TORCH 0 HDDNN_TORCH_CMAKE_PREFIX)
  list(GET HDDNN_PY_TORCH 1 HDDNN_TORCH_CXX11_ABI)
  if(EXISTS "${HDDNN_TORCH_CMAKE_PREFIX}/Torch/TorchConfig.cmake")
    list(PREPEND CMAKE_PREFIX_PATH "${HDDNN_TORCH_CMAKE_PREFIX}")
  endif()
  add_compile_definitions(_GLIBCXX_USE_CXX11_ABI=${HDDNN_TORCH_CXX11_ABI})
else()
  message(WARNING "hddnn: ${Python3_EXECUTABLE} cannot import torch; using the system LibTorch")
endif()
find_package(Torch REQUIRED)
message(STATUS "hddnn: LibTorch from ${TORCH_INSTALL_PREFIX}")
find_package(MPI REQUIRED COMPONENTS CXX)
find_package(ZLIB REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)

# A pip torch's CMake package finds `Python` (the interpreter only); pybind11 3 then
# builds its modules with `Python` and needs that package's module files as well.
if(Python_FOUND)
  set(Python_EXECUTABLE ${Python3_EXECUTABLE})
  find_package(Python REQUIRED COMPONENTS Interpreter Development.Module)
endif()
find_package(pybind11 CONFIG REQUIRED)

# NCCL defaults on only where CUDA and nccl.h are both present.
find_path(HDDNN_NCCL_INCLUDE nccl.h HINTS /usr/local/cuda/include /usr/include)
set(HDDNN_NCCL_DEFAULT OFF)
if(HDDNN_NCCL_INCLUDE AND EXISTS /usr/local/cuda/include/cuda_runtime.h)
  set(HDDNN_NCCL_DEFAULT ON)
endif()
option(HDDNN_WITH_NCCL "Build the NCCL backend (needs CUDA and nccl.h)" ${HDDNN_NCCL_DEFAULT})
if(HDDNN_WITH_NCCL)
  # The CUDA runtime and libnccl; no GPU is needed to build or to load them.
  if(NOT DEFINED CUDAToolkit_ROOT AND EXISTS /usr/local/cuda)
    set(CUDAToolkit_ROOT /usr/local/cuda)
  endif()
  find_package(CUDAToolkit REQUIRED)
  find_library(HDDNN_NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR} /usr/local/cuda/lib64)
  if(NOT HDDNN_NCCL_INCLUDE OR NOT HDDNN_NCCL_LIBRARY)
    message(FATAL_ERROR "HDDNN_WITH_NCCL=ON needs nccl.h and libnccl (found: '${HDDNN_NCCL_INCLUDE}', "
                        "'${HDDNN_NCCL_LIBRARY}'); set HDDNN_NCCL_INCLUDE / HDDNN_NCCL_LIBRARY or turn it OFF")
  endif()
  message(STATUS "hddnn: NCCL ${HDDNN_NCCL_LIBRARY}, CUDA runtime ${CUDAToolkit_VERSION}")
endif()
message(STATUS "hddnn: NCCL backend ${HDDNN_WITH_NCCL}")

set(HDDNN_DATASET_DIR "/usr/share/datasets/fashion-mnist" CACHE PATH
    "Default folder of the Fashion-MNIST IDX files")
