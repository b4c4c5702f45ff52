# Finds the core's dependencies: LibTorch, MPI, libsodium, zlib, nlohmann-json,
# Python + pybind11, and (optionally) CUDA with NCCL.

find_package(Torch REQUIRED)
find_package(MPI REQUIRED COMPONENTS CXX)
find_package(ZLIB REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)

find_package(Python3 REQUIRED COMPONENTS Interpreter Development.Module)
find_package(pybind11 CONFIG REQUIRED)

# NCCL defaults on only where CUDA and nccl.h are both present.
find_path(HDDNN_NCCL_INCLUDE nccl.h HINTS /usr/local/cuda/include /usr/include)
set(HDDNN_NCCL_DEFAULT OFF)
if(HDDNN_NCCL_INCLUDE AND EXISTS /usr/local/cuda/include/cuda_runtime.h)
  set(HDDNN_NCCL_DEFAULT ON)
endif()
option(HDDNN_WITH_NCCL "Build the NCCL backend (needs CUDA and nccl.h)" ${HDDNN_NCCL_DEFAULT})
message(STATUS "hddnn: NCCL backend ${HDDNN_WITH_NCCL}")

set(HDDNN_DATASET_DIR "/usr/share/datasets/fashion-mnist" CACHE PATH
    "Default folder of the Fashion-MNIST IDX files")
