#include "hddnn/nn/trainer.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <optional>
#include <sstream>
#include <thread>

#include "hddnn/nn/batch_prefetcher.hpp"
#include "hddnn/nn/checkpoint.hpp"
#include "hddnn/nn/device.hpp"
#include "hddnn/nn/evaluation.hpp"
#include "hddnn/nn/mixed_precision.hpp"
#include "hddnn/nn/spec_data.hpp"

namespace hddnn::nn {
namespace {

constexpr int kShift = 2;  ///< augmentation: largest translation in pixels

std::unique_ptr<torch::optim::Optimizer> make_optimizer(Network& network, const TrainConfig& c) {
  if (c.optimizer == "sgd")
    return std::make_unique<torch::optim::SGD>(
        network.parameters(), torch::optim::SGDOptions(c.lr).momentum(0.9).nesterov(true).weight_decay(c.weight_decay));
  return std::make_unique<torch::optim::AdamW>(network.parameters(),
                                               torch::optim::AdamWOptions(c.lr).weight_decay(c.weight_decay));
}

void restore_optimizer(torch::optim::Optimizer& optimizer, const torch::Tensor& blob, const torch::Device& device) {
  if (!blob.defined()) return;
  std::istringstream in(std::string(reinterpret_cast<const char*>(blob.data_ptr<uint8_t>()), blob.numel()));
  torch::serialize::InputArchive archive;
  archive.load_from(in, device);  // the state follows the parameters, whichever device wrote it
  optimizer.load(archive);
}

torch::Tensor snapshot_optimizer(torch::optim::Optimizer& optimizer) {
  torch::serialize::OutputArchive archive;
  optimizer.save(archive);
  std::ostringstream out;
  archive.save_to(out);
  const std::string bytes = out.str();
  return torch::from_blob(const_cast<char*>(bytes.data()), {static_cast<int64_t>(bytes.size())}, torch::kUInt8).clone();
}

double learning_rate(const TrainConfig& c, int64_t step, int64_t total) {
  const double t = static_cast<double>(step) / std::max<int64_t>(total, 1);
  if (c.schedule == "constant") return c.lr;
  if (c.schedule == "cosine") return c.lr * 0.5 * (1.0 + std::cos(M_PI * t));
  if (t < c.warmup) return c.lr / 25.0 + (c.lr - c.lr / 25.0) * t / c.warmup;
  const double u = (t - c.warmup) / std::max(1.0 - c.warmup, 1e-9);
  return c.lr * 1e-3 + (c.lr - c.lr * 1e-3) * 0.5 * (1.0 + std::cos(M_PI * u));
}

// Random shifts of up to kShift pixels (zero fill) per sample, and for one-view
// networks random horizontal flips.
torch::Tensor augment(const torch::Tensor& images, bool flips, at::Generator& generator) {
  const int64_t h = images.size(-2), w = images.size(-1);
  const auto padded = torch::constant_pad_nd(images, {kShift, kShift, kShift, kShift});
  const auto offsets = torch::randint(0, 2 * kShift + 1, {images.size(0), 2}, generator, torch::kInt64);
  auto out = torch::empty_like(images);
  const auto* o = offsets.data_ptr<int64_t>();
  for (int64_t n = 0; n < images.size(0); ++n)
    out[n].copy_(padded[n].narrow(-2, o[2 * n], h).narrow(-1, o[2 * n + 1], w));
  if (!flips) return out;
  const auto flip = torch::rand({images.size(0)}, generator) < 0.5;
  auto shape = std::vector<int64_t>(images.dim(), 1);  // whole images (4 dims) or views (5)
  shape[0] = images.size(0);
  return torch::where(flip.view(shape), out.flip({-1}), out);
}

torch::Tensor device_mask(int64_t batch, int64_t views, double dropout, at::Generator& generator) {
  auto mask = (torch::rand({batch, views}, generator) >= dropout).to(torch::kFloat32);
  const auto none = mask.sum(1) == 0;
  return torch::where(none.unsqueeze(1), torch::ones_like(mask), mask);
}

uint64_t seed_of(uint64_t seed, int64_t salt) { return seed * 1000003ULL + static_cast<uint64_t>(salt); }
void seed_for(uint64_t seed, int64_t salt) { torch::manual_seed(seed_of(seed, salt)); }

struct Run {
  Network& network;
  const data::LabelledImages& train;
  const data::LabelledImages& val;
  const TrainConfig& config;
  const ProgressCallback& progress;
  const DataParallel& parallel;
  torch::optim::Optimizer& optimizer;
  int64_t steps_per_epoch;
  int64_t total_steps;
  torch::Device device;
  std::optional<GradScaler> scaler;  ///< with config.amp
};

// --- device-generic steps: batches made ahead on the host, trained on run.device ---

// This rank's share of one global batch, made by the prefetcher's thread in host memory
// (pinned when the device is CUDA), and the CPU random state the step's draws leave.
struct StepBatch {
  torch::Tensor images, mask;
  std::vector<torch::Tensor> targets;  ///< one per label set, in the spec's order
  torch::Tensor rng_state;
  int64_t global_size = 0;
};

// Augmentation and masks are drawn for the whole global batch from a generator seeded
// by the step, so every rank sees the samples a single process would, and the default
// generator continues from the same state (dropout) as if it had drawn them itself.
StepBatch make_batch(const Run& run, const torch::Tensor& order, int64_t s, int64_t step) {
  const auto& spec = run.network.spec();
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed_of(run.config.seed, step));
  const auto batch_index = order.slice(0, s * run.config.batch_size, (s + 1) * run.config.batch_size);
  auto images = run.train.images.index_select(0, batch_index);
  if (run.config.augment) images = augment(images, spec.view_count == 1, generator);
  torch::Tensor mask;
  if (spec.view_count > 1 && run.config.device_dropout > 0.0)
    mask = device_mask(images.size(0), spec.view_count, run.config.device_dropout, generator);
  const auto [begin, length] = run.parallel.shard(batch_index.size(0));
  const auto mine = batch_index.narrow(0, begin, length);
  StepBatch batch{images.narrow(0, begin, length), mask.defined() ? mask.narrow(0, begin, length) : mask,
                  label_targets(spec, run.train.fine.index_select(0, mine)), generator.get_state(),
                  batch_index.size(0)};
  if (run.device.is_cuda()) {
    for (auto* t : {&batch.images, &batch.mask})
      if (t->defined()) *t = t->pin_memory();
    for (auto& t : batch.targets) t = t.pin_memory();
  }
  return batch;
}

void continue_random_state(const Run& run, const StepBatch& batch, int64_t step) {
  seed_for(run.config.seed, step);  // CUDA generators too (dropout on the device)
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(batch.rng_state);
}

torch::Tensor to_device_async(const torch::Tensor& tensor, const torch::Device& device) {
  return tensor.defined() ? tensor.to(device, /*non_blocking=*/true) : tensor;
}

// One step on this rank's share of a global batch. The loss is weighted by the share's
// size so that the mean of the ranks' gradients is the global batch's gradient.
double train_step(Run& run, const StepBatch& batch) {
  auto& net = run.network;
  net.train(true);
  torch::Tensor loss;
  {
    const AutocastScope autocast(run.scaler.has_value());
    const auto exits = net.forward(to_device_async(batch.images, run.device), to_device_async(batch.mask, run.device));
    const double share = static_cast<double>(batch.images.size(0) * run.parallel.size) / batch.global_size;
    std::vector<torch::Tensor> targets;
    for (const auto& t : batch.targets) targets.push_back(to_device_async(t, run.device));
    loss = share * joint_loss(exits, targets);
  }
  run.optimizer.zero_grad();
  (run.scaler ? run.scaler->scale(loss) : loss).backward();
  if (run.parallel.distributed()) run.parallel.average_gradients(net.parameters());
  if (run.scaler) run.scaler->step(run.optimizer, net.parameters());
  else run.optimizer.step();
  return loss.item<double>();
}

// Per-exit accuracy on the validation split; each rank scores its shard, and the
// share-weighted mean over ranks is the whole split's accuracy.
std::map<std::string, double> validation_accuracy(Run& run) {
  const int64_t total = run.val.fine.size(0);
  if (total < run.parallel.size)
    return exit_accuracies(predict(run.network, run.val.images), label_targets(run.network.spec(), run.val.fine));
  const auto [begin, length] = run.parallel.shard(total);
  auto accuracy = exit_accuracies(predict(run.network, run.val.images.narrow(0, begin, length)),
                                  label_targets(run.network.spec(), run.val.fine.narrow(0, begin, length)));
  if (!run.parallel.distributed()) return accuracy;
  const double share = static_cast<double>(length * run.parallel.size) / total;
  std::vector<double> values;
  for (const auto& [name, value] : accuracy) values.push_back(value * share);
  auto shared = torch::tensor(values, torch::kFloat64);
  run.parallel.average({shared});
  size_t i = 0;
  for (auto& [name, value] : accuracy) value = shared[i++].item<double>();
  return accuracy;
}

EpochRecord close_epoch(Run& run, int64_t epoch, double seconds) {
  auto& state = run.network.training_state();
  if (run.parallel.distributed()) {
    auto loss_sum = torch::tensor({state.loss_sum}, torch::kFloat64);
    run.parallel.average({loss_sum});
    state.loss_sum = loss_sum.item<double>();
    run.parallel.average(run.network.float_buffers());
  }
  EpochRecord record;
  record.epoch = epoch;
  record.step = state.step;
  record.loss = state.loss_sum / run.steps_per_epoch;
  record.lr = learning_rate(run.config, state.step - 1, run.total_steps);
  record.seconds = seconds;
  if (run.val.fine.numel() > 0) record.val_accuracy = validation_accuracy(run);
  state.loss_sum = 0.0;
  state.history.push_back(record);
  return record;
}

void save_checkpoint(Run& run) {
  if (run.config.checkpoint.empty() || run.parallel.rank != 0) return;
  run.network.training_state().optimizer = snapshot_optimizer(run.optimizer);
  save_network(run.network, run.config.checkpoint);
}

void run_epoch(Run& run, int64_t epoch) {
  auto& state = run.network.training_state();
  seed_for(run.config.seed, -1 - epoch);
  const auto order = torch::randperm(run.train.fine.size(0), torch::kInt64);
  const auto started = std::chrono::steady_clock::now();
  const int64_t first = state.step % run.steps_per_epoch, epoch_start = state.step - first;
  BatchPrefetcher<StepBatch> batches(
      [&run, &order, epoch_start](int64_t s) { return make_batch(run, order, s, epoch_start + s); }, first,
      run.steps_per_epoch);
  for (int64_t s = first; s < run.steps_per_epoch; ++s) {
    if (run.config.stop_after >= 0 && state.step >= run.config.stop_after) return;
    for (auto& group : run.optimizer.param_groups())
      group.options().set_lr(learning_rate(run.config, state.step, run.total_steps));
    const StepBatch batch = batches.next();
    continue_random_state(run, batch, state.step);
    const double loss = train_step(run, batch);
    state.loss_sum += loss;
    ++state.step;
    const bool closes = s + 1 == run.steps_per_epoch;
    std::optional<EpochRecord> record;
    if (closes)
      record = close_epoch(run, epoch,
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (closes || (run.config.checkpoint_every > 0 && state.step % run.config.checkpoint_every == 0))
      save_checkpoint(run);
    if (run.progress) run.progress({state.step, run.total_steps, epoch, loss, record ? &*record : nullptr});
  }
}

void set_input_statistics(Network& network, const torch::Tensor& images) {
  const auto sample = images.slice(0, 0, std::min<int64_t>(images.size(0), 10000));
  network.set_input_normalization(sample.mean().item<double>(), sample.std().item<double>());
}

}  // namespace

torch::Tensor joint_loss(const std::vector<ExitOutput>& exits, const std::vector<torch::Tensor>& targets) {
  torch::Tensor total = torch::zeros({});
  for (const auto& e : exits) total = total + e.weight * torch::cross_entropy_loss(e.logits, targets.at(e.labels));
  return total;
}

std::vector<EpochRecord> fit(Network& network, const data::LabelledImages& train, const data::LabelledImages& val,
                             const TrainConfig& config, const ProgressCallback& progress,
                             const DataParallel& parallel) {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  torch::set_num_threads(config.threads > 0 ? static_cast<int>(config.threads) : std::max(1, cores / parallel.size));
  // The sections' TorchScript runs without graph-executor optimization while training:
  // its profiling and differentiable-graph passes cost more than they save on these
  // small nets (steps measured ~1.5x faster without them).
  const torch::jit::GraphOptimizerEnabledGuard unoptimized(false);
  const torch::Device device = training_device(config.device,
                                               parallel.distributed() ? local_rank_from_environment() : 0);
  check_dataset(network.spec(), train, "train");
  check_dataset(network.spec(), val, "val");
  auto& state = network.training_state();
  if (state.step == 0) set_input_statistics(network, train.images);
  network.to(device);
  const data::LabelledImages val_here = on_device(val, device);
  if (parallel.distributed()) {
    parallel.broadcast(network.parameters());
    parallel.broadcast(network.float_buffers());
  }
  auto optimizer = make_optimizer(network, config);
  restore_optimizer(*optimizer, state.optimizer, device);
  const int64_t steps_per_epoch = std::max<int64_t>(1, train.fine.size(0) / config.batch_size);
  Run run{network,
          train,
          val_here,
          config,
          progress,
          parallel,
          *optimizer,
          steps_per_epoch,
          steps_per_epoch * config.epochs,
          device,
          {}};
  if (config.amp) run.scaler.emplace();
  for (int64_t epoch = state.step / steps_per_epoch; epoch < config.epochs; ++epoch) {
    if (config.stop_after >= 0 && state.step >= config.stop_after) break;
    run_epoch(run, epoch);
  }
  state.optimizer = snapshot_optimizer(*optimizer);
  network.train(false);
  network.to(torch::kCPU);
  return state.history;
}

}  // namespace hddnn::nn
