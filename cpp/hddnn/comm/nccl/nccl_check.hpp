// NCCL_CHECK(call) / CUDA_CHECK(call): run an NCCL or CUDA runtime call and throw
// CommError naming the call, the library's error string (ncclGetErrorString,
// cudaGetErrorString) and file:line when it does not succeed.
#pragma once

#include <cuda_runtime.h>
#include <nccl.h>

#include <string>

#include "hddnn/errors.hpp"

namespace hddnn::comm::detail {

[[noreturn]] inline void throw_library_error(const char* library, const char* message, const char* call,
                                             const char* file, int line) {
  throw CommError(std::string(call) + " failed: " + library + ": " + message + " (" + file + ":" +
                  std::to_string(line) + ")");
}

}  // namespace hddnn::comm::detail

#define NCCL_CHECK(call)                                                                                      \
  do {                                                                                                        \
    ncclResult_t hddnn_nccl_rc_ = (call);                                                                     \
    if (hddnn_nccl_rc_ != ncclSuccess)                                                                        \
      ::hddnn::comm::detail::throw_library_error("NCCL", ncclGetErrorString(hddnn_nccl_rc_), #call, __FILE__, \
                                                 __LINE__);                                                   \
  } while (0)

#define CUDA_CHECK(call)                                                                                      \
  do {                                                                                                        \
    cudaError_t hddnn_cuda_rc_ = (call);                                                                      \
    if (hddnn_cuda_rc_ != cudaSuccess)                                                                        \
      ::hddnn::comm::detail::throw_library_error("CUDA", cudaGetErrorString(hddnn_cuda_rc_), #call, __FILE__, \
                                                 __LINE__);                                                   \
  } while (0)
