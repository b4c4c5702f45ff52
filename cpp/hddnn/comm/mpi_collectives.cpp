#include "hddnn/comm/mpi_collectives.hpp"

#include <algorithm>
#include <climits>

#include "hddnn/comm/mpi_check.hpp"
#include "hddnn/errors.hpp"

namespace hddnn::comm {

std::size_t dtype_size(DType dtype) { return dtype == DType::Float32 ? 4 : 8; }

MPI_Datatype mpi_datatype(DType dtype) { return dtype == DType::Float32 ? MPI_FLOAT : MPI_DOUBLE; }

namespace {

// Calls op(offset, n) over [0, count) in pieces MPI's int counts can express.
template <typename Op>
void for_each_chunk(std::size_t count, Op op) {
  for (std::size_t offset = 0; offset < count;) {
    int n = static_cast<int>(std::min<std::size_t>(count - offset, INT_MAX));
    op(offset, n);
    offset += static_cast<std::size_t>(n);
  }
}

char* at(void* data, std::size_t offset, DType dtype) { return static_cast<char*>(data) + offset * dtype_size(dtype); }

}  // namespace

MpiCollectives::MpiCollectives(MPI_Comm comm) {
  MPI_CHECK(MPI_Comm_dup(comm, &comm_));
  MPI_CHECK(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN));
  MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
  MPI_CHECK(MPI_Comm_size(comm_, &size_));
}

MpiCollectives::~MpiCollectives() {
  if (!pending_.empty()) MPI_Waitall(static_cast<int>(pending_.size()), pending_.data(), MPI_STATUSES_IGNORE);
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Comm_free(&comm_);
}

void MpiCollectives::start_allreduce_sum(void* data, std::size_t count, DType dtype) {
  for_each_chunk(count, [&](std::size_t offset, int n) {
    MPI_Request request;
    MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, at(data, offset, dtype), n, mpi_datatype(dtype), MPI_SUM, comm_, &request));
    pending_.push_back(request);
  });
}

void MpiCollectives::wait_all() {
  std::vector<MPI_Request> requests;
  requests.swap(pending_);
  if (!requests.empty())
    MPI_CHECK(MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE));
}

void MpiCollectives::allreduce_sum(void* data, std::size_t count, DType dtype) {
  start_allreduce_sum(data, count, dtype);
  wait_all();
}

void MpiCollectives::broadcast(void* data, std::size_t count, DType dtype, int root) {
  if (root < 0 || root >= size_)
    throw CommError("broadcast: root " + std::to_string(root) + " is not a rank of " + std::to_string(size_));
  for_each_chunk(count, [&](std::size_t offset, int n) {
    MPI_Request request;
    MPI_CHECK(MPI_Ibcast(at(data, offset, dtype), n, mpi_datatype(dtype), root, comm_, &request));
    pending_.push_back(request);
  });
  wait_all();
}

void MpiCollectives::send(const void* data, std::size_t count, DType dtype, int peer) {
  for_each_chunk(count, [&](std::size_t offset, int n) {
    MPI_CHECK(MPI_Send(at(const_cast<void*>(data), offset, dtype), n, mpi_datatype(dtype), peer, 0, comm_));
  });
}

void MpiCollectives::recv(void* data, std::size_t count, DType dtype, int source) {
  for_each_chunk(count, [&](std::size_t offset, int n) {
    MPI_CHECK(MPI_Recv(at(data, offset, dtype), n, mpi_datatype(dtype), source, 0, comm_, MPI_STATUS_IGNORE));
  });
}

}  // namespace hddnn::comm
