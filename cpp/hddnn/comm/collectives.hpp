// Collectives: the transport interface for dense numeric buffers (gradients,
// parameters, features) between the ranks of one communicator. Framework-free:
// raw pointers, element counts and a dtype; the torch adapter lives in
// hddnn/parallel/distributed_gradients.hpp.
//
// Cross-rank contract (every backend):
// - Construction is collective over the communicator it is given.
// - allreduce_sum and broadcast are collective: every rank calls them in the same
//   order with the same count and dtype. send/recv pair up like MPI point-to-point
//   calls: a send(peer) on one rank with a recv(source) of the same count and dtype
//   on the other, in the same order per pair.
// - Calls complete before returning: the buffer may be read or reused at once.
// - Buffers live where the backend expects them (host memory for MPI, device memory
//   of the backend's CUDA device for NCCL); a backend refuses what it cannot do with
//   CommError rather than guessing.
// - Errors are CommError naming the call, the library's message and file:line.
#pragma once

#include <cstddef>
#include <string>

namespace hddnn::comm {

enum class DType { Float32, Float64 };

std::size_t dtype_size(DType dtype);

class Collectives {
 public:
  virtual ~Collectives() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;

  /// In place: data[i] becomes the sum of data[i] over all ranks.
  virtual void allreduce_sum(void* data, std::size_t count, DType dtype) = 0;
  /// In place: every rank's data becomes root's.
  virtual void broadcast(void* data, std::size_t count, DType dtype, int root) = 0;
  virtual void send(const void* data, std::size_t count, DType dtype, int peer) = 0;
  virtual void recv(void* data, std::size_t count, DType dtype, int source) = 0;
};

}  // namespace hddnn::comm
