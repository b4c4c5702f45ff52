// What this build of hddnn runs on: library versions, BLAS, NCCL, threads, data.
// Every field is read from the running process or the build, never typed in.
#pragma once

#include <string>

namespace hddnn {

struct BuildInfo {
  std::string hddnn_version;
  std::string torch_version;
  std::string mpi_version;
  std::string sodium_version;
  std::string blas;  ///< BLAS library mapped into this process (from /proc/self/maps)
  bool nccl_compiled = false;
  std::string nccl_version;  ///< libnccl's ncclGetVersion when compiled in, else empty
  int cuda_devices = 0;      ///< CUDA devices the runtime sees (0 without NCCL support)
  int torch_threads = 0;
  std::string dataset_dir;
  bool dataset_present = false;
};

BuildInfo build_info();

/// The shared object providing BLAS in this process, e.g. "libopenblasp-r0.3.21.so", or "unknown".
std::string loaded_blas();

}  // namespace hddnn
