// DataParallel: how fit() trains as one of several ranks (parallel::data_parallel
// builds it over MPI; the default is a single process).
//
// Contract: every rank runs fit() with the same network spec, seed, data and
// configuration. Each step the global batch (and its augmentation and device
// masks, drawn from the step's seed) is the same on every rank; rank r trains on
// its contiguous share of it, its loss weighted by share/batch so that averaging
// gradients over ranks gives exactly the single-process gradient. Only rank 0
// writes checkpoints. Layers that draw randomness inside forward (dropout) or use
// batch statistics (batchnorm) see only the rank's share, so such networks match
// single-process training only approximately; floating-point buffers (batchnorm
// running statistics) are averaged over ranks at every epoch's end.
#pragma once

#include <torch/types.h>

#include <functional>
#include <vector>

namespace hddnn::nn {

struct DataParallel {
  using TensorsFn = std::function<void(const std::vector<torch::Tensor>&)>;

  int rank = 0;
  int size = 1;
  TensorsFn average_gradients;  ///< each tensor's .grad becomes its mean over ranks
  TensorsFn average;            ///< each tensor becomes its mean over ranks, in place
  TensorsFn broadcast;          ///< each tensor becomes rank 0's, in place

  bool distributed() const { return size > 1; }
  /// [begin, begin + length) of a global batch of `batch` samples that this rank trains on.
  std::pair<int64_t, int64_t> shard(int64_t batch) const {
    const int64_t begin = batch * rank / size;
    return {begin, batch * (rank + 1) / size - begin};
  }
};

}  // namespace hddnn::nn
