// DistributedGradients: the torch adapter of data-parallel training. After each
// backward pass, average(parameters) replaces every parameter's gradient by the
// mean of that gradient over all ranks; broadcast(parameters) makes every rank
// start from rank 0's weights.
//
// Tensors are fused into buckets of at most `bucket_bytes` (bucket_plan.hpp), each
// flattened into one contiguous buffer, reduced with one collective and copied
// back. CPU tensors go through MPI (MpiCollectives: one MPI_Iallreduce per bucket,
// all in flight together, then a single wait). CUDA tensors go through NCCL
// (NcclCollectives, created on first use for the tensors' device) when built with
// HDDNN_WITH_NCCL and every rank has a GPU of its own; otherwise (no NCCL in the build,
// or ranks sharing a GPU, which NCCL refuses: shared_devices.hpp) each bucket is copied
// to the host, reduced by MPI and copied back ("host-staged"). The choice is made once,
// collectively, at the first call with a CUDA tensor. float32 and float64 only.
//
// Cross-rank contract: construction is collective over `comm` (it duplicates it).
// Every rank calls average/broadcast in the same order with the same list of
// tensors: same count, shapes, dtypes and device kinds (the bucket plans must
// agree). A missing gradient is taken as zeros (and allocated), so ranks whose
// batch did not reach a parameter still pair up. MPI must be initialised
// (comm::ensure_initialized, MPI_THREAD_MULTIPLE). One thread at a time.
#pragma once

#include <mpi.h>
#include <torch/torch.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "hddnn/comm/collectives.hpp"
#include "hddnn/comm/mpi_collectives.hpp"
#include "hddnn/parallel/bucket_plan.hpp"

namespace hddnn::parallel {

struct DistributedOptions {
  std::size_t bucket_bytes = 25u << 20;  ///< fuse tensors into buckets of at most this many bytes
};

class DistributedGradients {
 public:
  explicit DistributedGradients(MPI_Comm comm, DistributedOptions options = {});
  ~DistributedGradients();

  int rank() const { return mpi_.rank(); }
  int size() const { return mpi_.size(); }

  /// Gradients of `parameters` become their mean over ranks (call after backward).
  void average(const std::vector<torch::Tensor>& parameters);
  /// Each tensor becomes its mean over ranks, in place.
  void average_tensors(const std::vector<torch::Tensor>& tensors);
  /// Each tensor becomes root's, in place (parameters at start-up).
  void broadcast(const std::vector<torch::Tensor>& tensors, int root = 0);

  /// Buckets used by the last average/broadcast (for tests and benchmarks).
  std::size_t last_bucket_count() const { return last_buckets_; }
  /// How CUDA tensors are reduced: "nccl", "host-staged mpi", or "none yet".
  std::string cuda_path() const;

 private:
  enum class CudaPath { kUndecided, kNccl, kHostStaged };
  void choose_cuda_path(const std::vector<torch::Tensor>& tensors);  // collective, once
  torch::Tensor host_buffer(const torch::Tensor& flat) const;
  std::vector<Bucket> plan(const std::vector<torch::Tensor>& tensors);
  void reduce_mean(const std::vector<torch::Tensor>& tensors);

  comm::MpiCollectives mpi_;
  DistributedOptions options_;
  std::unique_ptr<comm::Collectives> nccl_;
  CudaPath cuda_path_ = CudaPath::kUndecided;
  std::size_t last_buckets_ = 0;
};

}  // namespace hddnn::parallel
