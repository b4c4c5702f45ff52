#include "hddnn/info.hpp"

#include <sodium.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <filesystem>
#include <fstream>

#include "hddnn/comm/mpi_env.hpp"
#include "hddnn/data/fashion_mnist.hpp"
#ifdef HDDNN_WITH_NCCL
#include "hddnn/comm/nccl/nccl_collectives.hpp"
#endif

namespace hddnn {

std::string loaded_blas() {
  // Make sure BLAS is actually loaded (Debian's torch loads it lazily on first use).
  auto a = torch::ones({2, 2});
  (void)torch::mm(a, a);
  std::ifstream maps("/proc/self/maps");
  std::string fallback = "unknown";
  for (std::string line; std::getline(maps, line);) {
    auto start = line.find('/');
    if (start == std::string::npos) continue;
    std::string path = line.substr(start);
    if (path.find("openblas") != std::string::npos || path.find("libmkl") != std::string::npos) return path;
    if (path.find("libblas") != std::string::npos) fallback = path;
  }
  return fallback;
}

BuildInfo build_info() {
  BuildInfo info;
  info.hddnn_version = HDDNN_VERSION;
  info.torch_version = TORCH_VERSION;
  info.mpi_version = comm::library_version();
  info.sodium_version = sodium_version_string();
  info.blas = loaded_blas();
#ifdef HDDNN_WITH_NCCL
  info.nccl_compiled = true;
  info.nccl_version = comm::nccl::library_version();
  info.cuda_devices = comm::nccl::visible_devices();
#endif
  info.torch_threads = torch::get_num_threads();
  info.dataset_dir = data::default_dataset_dir();
  info.dataset_present = std::filesystem::exists(info.dataset_dir + "/t10k-images-idx3-ubyte.gz");
  return info;
}

}  // namespace hddnn
