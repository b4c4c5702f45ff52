// Joint training of every exit of a network: loss = sum_e w_e * CE_e over the exits of
// every label set, AdamW or SGD under a one-cycle / cosine / constant schedule.
//
// Contract: a run is deterministic for a given seed and thread count. Randomness is
// re-seeded from (seed, epoch) for the shuffle and (seed, step) for each step
// (augmentation, device dropout, dropout), so a run resumed from a checkpoint takes
// the same steps as an uninterrupted one. fit continues from the network's
// training_state().step up to epochs x steps-per-epoch. Checkpoints are written
// atomically (temp file, then rename). The progress callback runs on the calling
// thread between steps; exceptions it throws end the run and propagate.
// With a distributed DataParallel, fit is collective: see data_parallel.hpp.
// Devices: fit trains on config.device (nn/device.hpp; "cuda" gives each rank the GPU
// of its local rank) and leaves the network on the CPU when it returns. A background
// thread makes each step's batch one step ahead (indexing, augmentation, pinned host
// memory on CUDA; batch_prefetcher.hpp), copied to the device without blocking; its
// draws come from a generator seeded by the step, so a CPU run takes the same steps,
// bit for bit, as one without prefetching. config.amp (CUDA only) runs forward under
// autocast with dynamic loss scaling (mixed_precision.hpp); the scale starts afresh
// on resume.
#pragma once

#include <functional>

#include "hddnn/data/labelled_images.hpp"
#include "hddnn/nn/data_parallel.hpp"
#include "hddnn/nn/network.hpp"
#include "hddnn/nn/train_config.hpp"

namespace hddnn::nn {

struct Progress {
  int64_t step = 0;
  int64_t total_steps = 0;
  int64_t epoch = 0;
  double loss = 0.0;
  const EpochRecord* finished_epoch = nullptr;  ///< set on the call that closes an epoch
};

using ProgressCallback = std::function<void(const Progress&)>;

/// The joint loss of one batch's exit outputs; `targets` holds each label set's labels.
torch::Tensor joint_loss(const std::vector<ExitOutput>& exits, const std::vector<torch::Tensor>& targets);

/// Trains `network` on `train`; `val` (may have no samples) is scored after each epoch.
/// Both are checked against the spec first (DataError: see spec_data.hpp).
/// Returns the full history (including epochs before a resume). Torch threads: config.threads,
/// or (0) the machine's cores shared among the ranks.
std::vector<EpochRecord> fit(Network& network, const data::LabelledImages& train, const data::LabelledImages& val,
                             const TrainConfig& config, const ProgressCallback& progress = {},
                             const DataParallel& parallel = {});

}  // namespace hddnn::nn
