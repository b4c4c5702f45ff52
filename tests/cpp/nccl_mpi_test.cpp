// The NCCL backend under mpirun. Without a visible CUDA device the device tests
// skip, or fail when HDDNN_TEST_GPU=1 (a GPU machine must run them); the version
// and failed-construction tests need no GPU and always run.
#include <cuda_runtime.h>
#include <gtest/gtest.h>
#include <nccl.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "comm_mpi_main.hpp"
#include "hddnn/comm/mpi_env.hpp"
#include "hddnn/comm/nccl/nccl_check.hpp"
#include "hddnn/comm/nccl/nccl_collectives.hpp"

namespace {

using hddnn::comm::DType;
using hddnn::comm::nccl::NcclCollectives;
namespace nccl = hddnn::comm::nccl;

bool gpu_required() {
  const char* value = std::getenv("HDDNN_TEST_GPU");
  return value && std::string(value) == "1";
}

// One GPU per rank is needed; none visible skips (fails under HDDNN_TEST_GPU=1),
// fewer than ranks skips (this host cannot run the test at this rank count).
#define REQUIRE_ONE_GPU_PER_RANK()                                                                                    \
  do {                                                                                                                \
    int devices_ = nccl::visible_devices(), ranks_ = hddnn::comm::world_size();                                       \
    if (devices_ == 0 && gpu_required()) FAIL() << "HDDNN_TEST_GPU=1 but no CUDA device is visible";                  \
    if (devices_ == 0) GTEST_SKIP() << "no CUDA device visible (set HDDNN_TEST_GPU=1 to require one)";                \
    if (devices_ < ranks_) GTEST_SKIP() << ranks_ << " ranks need " << ranks_ << " GPUs; " << devices_ << " visible"; \
  } while (0)

// A device buffer filled from / read back into host vectors.
struct DeviceBuffer {
  explicit DeviceBuffer(const std::vector<float>& values) : count(values.size()) {
    CUDA_CHECK(cudaMalloc(&data, count * sizeof(float)));
    CUDA_CHECK(cudaMemcpy(data, values.data(), count * sizeof(float), cudaMemcpyHostToDevice));
  }
  ~DeviceBuffer() { cudaFree(data); }
  std::vector<float> read() const {
    std::vector<float> values(count);
    CUDA_CHECK(cudaMemcpy(values.data(), data, count * sizeof(float), cudaMemcpyDeviceToHost));
    return values;
  }
  void* data = nullptr;
  std::size_t count;
};

std::vector<float> stamped(int rank, std::size_t count) {
  std::vector<float> values(count);
  for (std::size_t i = 0; i < count; ++i) values[i] = static_cast<float>((rank + 1) * 1000 + i);
  return values;
}

TEST(Nccl, VersionIsTheLinkedLibrarys) {
  EXPECT_EQ(nccl::library_version(),
            std::to_string(NCCL_MAJOR) + "." + std::to_string(NCCL_MINOR) + "." + std::to_string(NCCL_PATCH));
}

TEST(Nccl, MissingDeviceIsACommErrorOnEveryRankWithoutHanging) {
  int absent = nccl::visible_devices();  // one past the last visible device
  try {
    NcclCollectives backend(MPI_COMM_WORLD, absent);
    FAIL() << "constructed on CUDA device " << absent;
  } catch (const hddnn::CommError& error) {
    std::string text = error.what();
    EXPECT_NE(text.find("CUDA device " + std::to_string(absent)), std::string::npos) << text;
  }
}

TEST(Nccl, AllreduceBroadcastAndSendRecvOnDevices) {
  REQUIRE_ONE_GPU_PER_RANK();
  const int rank = hddnn::comm::world_rank(), size = hddnn::comm::world_size();
  NcclCollectives backend(MPI_COMM_WORLD, rank);
  const std::size_t count = 4099;

  DeviceBuffer summed(stamped(rank, count));
  backend.allreduce_sum(summed.data, count, DType::Float32);
  std::vector<float> sum = summed.read();
  for (std::size_t i = 0; i < count; i += 97)
    ASSERT_FLOAT_EQ(sum[i], size * (size + 1) / 2 * 1000.0f + size * static_cast<float>(i)) << i;

  DeviceBuffer broadcast(stamped(rank, count));
  backend.broadcast(broadcast.data, count, DType::Float32, 0);
  EXPECT_EQ(broadcast.read(), stamped(0, count));

  if (size < 2) return;  // point-to-point needs a peer
  DeviceBuffer outgoing(stamped(rank, count)), incoming(std::vector<float>(count, -1.0f));
  int right = (rank + 1) % size, left = (rank + size - 1) % size;
  if (rank % 2 == 0) {
    backend.send(outgoing.data, count, DType::Float32, right);
    backend.recv(incoming.data, count, DType::Float32, left);
  } else {
    backend.recv(incoming.data, count, DType::Float32, left);
    backend.send(outgoing.data, count, DType::Float32, right);
  }
  EXPECT_EQ(incoming.read(), stamped(left, count));
}

}  // namespace
