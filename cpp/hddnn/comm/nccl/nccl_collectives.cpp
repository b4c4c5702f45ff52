#include "hddnn/comm/nccl/nccl_collectives.hpp"

#include "hddnn/comm/mpi_check.hpp"
#include "hddnn/comm/nccl/nccl_check.hpp"

namespace hddnn::comm::nccl {

struct NcclCollectives::State {
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;
};

namespace {

ncclDataType_t nccl_datatype(DType dtype) { return dtype == DType::Float32 ? ncclFloat32 : ncclFloat64; }

// Rank 0 draws the id; the others receive it with the outcome, so a failure on
// rank 0 is reported everywhere instead of leaving the others waiting.
ncclUniqueId shared_unique_id(MPI_Comm comm, int rank) {
  struct {
    int rc = ncclSuccess;
    ncclUniqueId id{};
  } shared;
  if (rank == 0) shared.rc = ncclGetUniqueId(&shared.id);
  MPI_CHECK(MPI_Bcast(&shared, static_cast<int>(sizeof(shared)), MPI_BYTE, 0, comm));
  if (shared.rc != ncclSuccess)
    throw CommError(std::string("ncclGetUniqueId on rank 0 failed: ") +
                    ncclGetErrorString(static_cast<ncclResult_t>(shared.rc)));
  return shared.id;
}

// Whether every rank of comm set up its device; ncclCommInitRank blocks until all
// ranks join, so no rank may enter it while another has failed.
void agree_all_ready(MPI_Comm comm, bool ready, const std::string& failure) {
  int mine = ready ? 1 : 0, all = 0;
  MPI_CHECK(MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, comm));
  if (!ready) throw CommError(failure);
  if (!all) throw CommError("NCCL backend: another rank could not set up its CUDA device");
}

}  // namespace

int visible_devices() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky error for later callers
    return 0;
  }
  return count;
}

std::string library_version() {
  int code = 0;
  NCCL_CHECK(ncclGetVersion(&code));
  // Since NCCL 2.9 the code is major*10000 + minor*100 + patch (before: *1000, *100).
  int major = code >= 10000 ? code / 10000 : code / 1000;
  int minor = code >= 10000 ? (code % 10000) / 100 : (code % 1000) / 100;
  int patch = code % 100;
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

NcclCollectives::NcclCollectives(MPI_Comm comm, int cuda_device) : state_(std::make_unique<State>()) {
  MPI_CHECK(MPI_Comm_rank(comm, &rank_));
  MPI_CHECK(MPI_Comm_size(comm, &size_));
  device_ = cuda_device;
  std::string failure;
  try {
    int devices = visible_devices();
    if (cuda_device < 0 || cuda_device >= devices)
      throw CommError("NCCL backend on rank " + std::to_string(rank_) + ": CUDA device " + std::to_string(cuda_device) +
                      " requested but " + std::to_string(devices) + " visible");
    CUDA_CHECK(cudaSetDevice(device_));
    CUDA_CHECK(cudaStreamCreateWithFlags(&state_->stream, cudaStreamNonBlocking));
  } catch (const CommError& error) {
    failure = error.what();
  }
  agree_all_ready(comm, failure.empty(), failure);
  ncclUniqueId id = shared_unique_id(comm, rank_);
  NCCL_CHECK(ncclCommInitRank(&state_->comm, size_, id, rank_));
}

NcclCollectives::~NcclCollectives() {
  if (state_->comm) ncclCommDestroy(state_->comm);
  if (state_->stream) cudaStreamDestroy(state_->stream);
}

void NcclCollectives::begin() {
  CUDA_CHECK(cudaSetDevice(device_));
  CUDA_CHECK(cudaDeviceSynchronize());
}

void NcclCollectives::finish() { CUDA_CHECK(cudaStreamSynchronize(state_->stream)); }

void NcclCollectives::check_peer(int peer, const char* what) const {
  if (peer == rank_) throw CommError(std::string("NCCL ") + what + ": rank " + std::to_string(peer) + " is this rank");
  if (peer < 0 || peer >= size_)
    throw CommError(std::string("NCCL ") + what + ": rank " + std::to_string(peer) + " is not a rank of " +
                    std::to_string(size_));
}

void NcclCollectives::allreduce_sum(void* data, std::size_t count, DType dtype) {
  begin();
  NCCL_CHECK(ncclAllReduce(data, data, count, nccl_datatype(dtype), ncclSum, state_->comm, state_->stream));
  finish();
}

void NcclCollectives::broadcast(void* data, std::size_t count, DType dtype, int root) {
  if (root < 0 || root >= size_)
    throw CommError("NCCL broadcast: root " + std::to_string(root) + " is not a rank of " + std::to_string(size_));
  begin();
  NCCL_CHECK(ncclBroadcast(data, data, count, nccl_datatype(dtype), root, state_->comm, state_->stream));
  finish();
}

void NcclCollectives::send(const void* data, std::size_t count, DType dtype, int peer) {
  check_peer(peer, "send");
  begin();
  NCCL_CHECK(ncclSend(data, count, nccl_datatype(dtype), peer, state_->comm, state_->stream));
  finish();
}

void NcclCollectives::recv(void* data, std::size_t count, DType dtype, int source) {
  check_peer(source, "recv");
  begin();
  NCCL_CHECK(ncclRecv(data, count, nccl_datatype(dtype), source, state_->comm, state_->stream));
  finish();
}

}  // namespace hddnn::comm::nccl
