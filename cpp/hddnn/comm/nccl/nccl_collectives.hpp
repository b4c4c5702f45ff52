// NcclCollectives: Collectives over NCCL for buffers in CUDA device memory, one
// CUDA device per rank.
//
// Cross-rank contract: the constructor is collective over the MPI communicator it
// is given. Every rank first selects its CUDA device and the ranks agree
// (MPI_Allreduce) that all succeeded, so a rank without its device makes every rank
// throw CommError instead of leaving the others blocked in NCCL's initialisation.
// Then rank 0 of the communicator draws the NCCL unique id (ncclGetUniqueId)
// and MPI_Bcast hands it to the others before every rank calls ncclCommInitRank
// with its MPI rank, so NCCL ranks equal MPI ranks. Each rank must name a distinct
// GPU (NCCL refuses two ranks on one device). Collectives follow the Collectives
// contract; send/recv use ncclSend/ncclRecv (NCCL >= 2.7) and refuse this rank
// as peer (a blocking send to oneself could never complete).
// Ordering: every call first waits for all work already queued on the device
// (cudaDeviceSynchronize, so buffers written by any stream, torch's included, are
// complete), then runs the NCCL operation on the backend's own stream and waits for
// it: calls are blocking, buffers are ready on return, no overlap with compute.
// Errors: NCCL_CHECK / CUDA_CHECK throw CommError with ncclGetErrorString /
// cudaGetErrorString and file:line. MPI thread level: only the constructor calls MPI.
// One thread at a time may use a given instance.
#pragma once

#include <mpi.h>

#include <memory>
#include <string>

#include "hddnn/comm/collectives.hpp"

namespace hddnn::comm::nccl {

/// CUDA devices visible to this process; 0 when the CUDA runtime finds none or
/// reports an error (no driver, no GPU).
int visible_devices();
/// The loaded libnccl's version, e.g. "2.28.9" (ncclGetVersion; needs no GPU).
std::string library_version();

class NcclCollectives final : public Collectives {
 public:
  NcclCollectives(MPI_Comm comm, int cuda_device);
  ~NcclCollectives() override;
  NcclCollectives(const NcclCollectives&) = delete;
  NcclCollectives& operator=(const NcclCollectives&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "nccl"; }
  int cuda_device() const { return device_; }

  void allreduce_sum(void* data, std::size_t count, DType dtype) override;
  void broadcast(void* data, std::size_t count, DType dtype, int root) override;
  void send(const void* data, std::size_t count, DType dtype, int peer) override;
  void recv(void* data, std::size_t count, DType dtype, int source) override;

 private:
  struct State;
  void begin();   // selects the device, waits for queued device work
  void finish();  // waits for the backend's stream
  void check_peer(int peer, const char* what) const;

  std::unique_ptr<State> state_;
  int rank_ = 0;
  int size_ = 1;
  int device_ = 0;
};

}  // namespace hddnn::comm::nccl
