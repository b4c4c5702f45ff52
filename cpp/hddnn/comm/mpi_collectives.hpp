// MpiCollectives: Collectives over MPI for buffers in host memory.
//
// Contract: the constructor duplicates the communicator (collective), so this
// traffic never matches the transport's or the caller's. allreduce_sum posts one
// MPI_Iallreduce per chunk of at most INT_MAX elements and waits for all of them;
// broadcast likewise with MPI_Ibcast; send/recv are MPI_Send/MPI_Recv on the
// duplicate. Needs MPI initialised (comm::ensure_initialized: MPI_THREAD_MULTIPLE,
// since the transport's progress thread may make MPI calls at the same time); one
// thread at a time may use a given instance.
#pragma once

#include <mpi.h>

#include <vector>

#include "hddnn/comm/collectives.hpp"

namespace hddnn::comm {

MPI_Datatype mpi_datatype(DType dtype);

class MpiCollectives final : public Collectives {
 public:
  explicit MpiCollectives(MPI_Comm comm);
  ~MpiCollectives() override;
  MpiCollectives(const MpiCollectives&) = delete;
  MpiCollectives& operator=(const MpiCollectives&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }
  /// The duplicate this instance owns (e.g. to set up another backend over the same ranks).
  MPI_Comm communicator() const { return comm_; }

  void allreduce_sum(void* data, std::size_t count, DType dtype) override;
  void broadcast(void* data, std::size_t count, DType dtype, int root) override;
  void send(const void* data, std::size_t count, DType dtype, int peer) override;
  void recv(void* data, std::size_t count, DType dtype, int source) override;

  /// Starts a sum-allreduce of one buffer and returns at once; wait_all() completes
  /// every one started. Lets the caller overlap the reductions of several buckets.
  void start_allreduce_sum(void* data, std::size_t count, DType dtype);
  void wait_all();

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
  std::vector<MPI_Request> pending_;
};

}  // namespace hddnn::comm
