// bench_parallel: data-parallel SGD steps of a small CNN on CPU under mpirun.
// Every rank takes global_batch / ranks samples of each step's global batch,
// runs forward and backward with one intra-op thread, averages the gradients with
// DistributedGradients and applies SGD. Rank 0 prints one JSON line: steps per
// second (slowest rank), and the split of a step into compute, waiting for the
// slowest rank (a barrier before the allreduce, there only to attribute time) and
// the allreduce itself.
//
// Usage: mpirun -n R bench_parallel STEPS GLOBAL_BATCH BUCKET_BYTES
#include <mpi.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "hddnn/comm/mpi_env.hpp"
#include "hddnn/parallel/distributed_gradients.hpp"

namespace {

using Clock = std::chrono::steady_clock;

torch::nn::Sequential small_cnn() {
  namespace nn = torch::nn;
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 16, 3).padding(1)), nn::ReLU(), nn::MaxPool2d(2),
                        nn::Conv2d(nn::Conv2dOptions(16, 32, 3).padding(1)), nn::ReLU(), nn::MaxPool2d(2),
                        nn::Flatten(), nn::Linear(32 * 7 * 7, 128), nn::ReLU(), nn::Linear(128, 10));
}

struct StepTimes {
  double compute_s = 0;
  double wait_s = 0;
  double allreduce_s = 0;
};

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

void step(torch::nn::Sequential& model, hddnn::parallel::DistributedGradients& gradients, const torch::Tensor& x,
          const torch::Tensor& y, StepTimes& times) {
  auto start = Clock::now();
  model->zero_grad();
  torch::cross_entropy_loss(model->forward(x), y).backward();
  auto computed = Clock::now();
  MPI_Barrier(MPI_COMM_WORLD);
  auto aligned = Clock::now();
  gradients.average(model->parameters());
  auto reduced = Clock::now();
  {
    torch::NoGradGuard no_grad;
    for (auto& parameter : model->parameters()) parameter.sub_(0.05 * parameter.grad());
  }
  times.compute_s += seconds_between(start, computed) + seconds_between(reduced, Clock::now());
  times.wait_s += seconds_between(computed, aligned);
  times.allreduce_s += seconds_between(aligned, reduced);
}

double slowest(double seconds) {
  double worst = 0;
  MPI_Allreduce(&seconds, &worst, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return worst;
}

double mean_over_ranks(double value, int size) {
  double sum = 0;
  MPI_Allreduce(&value, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  return sum / size;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: bench_parallel STEPS GLOBAL_BATCH BUCKET_BYTES\n");
    return 2;
  }
  const int steps = std::stoi(argv[1]);
  const int64_t global_batch = std::stoll(argv[2]);
  hddnn::comm::ensure_initialized();
  torch::set_num_threads(1);
  hddnn::parallel::DistributedGradients gradients(MPI_COMM_WORLD, {std::stoul(argv[3])});
  const int rank = gradients.rank(), size = gradients.size();
  if (global_batch % size != 0) {
    if (rank == 0)
      std::fprintf(stderr, "GLOBAL_BATCH %lld is not divisible by %d ranks\n", static_cast<long long>(global_batch),
                   size);
    hddnn::comm::finalize();
    return 2;
  }
  const int64_t shard = global_batch / size;

  auto model = small_cnn();
  gradients.broadcast(model->parameters());
  torch::manual_seed(1);
  auto x = torch::randn({global_batch, 1, 28, 28}).narrow(0, rank * shard, shard);
  auto y = torch::randint(10, {global_batch}).narrow(0, rank * shard, shard);
  StepTimes warmup, times;
  for (int i = 0; i < 3; ++i) step(model, gradients, x, y, warmup);
  MPI_Barrier(MPI_COMM_WORLD);
  auto start = Clock::now();
  for (int i = 0; i < steps; ++i) step(model, gradients, x, y, times);
  double elapsed = slowest(std::chrono::duration<double>(Clock::now() - start).count());
  double compute = mean_over_ranks(times.compute_s, size), wait = mean_over_ranks(times.wait_s, size);
  double allreduce = mean_over_ranks(times.allreduce_s, size);

  int64_t gradient_bytes = 0;
  for (auto& parameter : model->parameters()) gradient_bytes += parameter.numel() * parameter.element_size();
  if (rank == 0)
    std::printf(
        "{\"ranks\": %d, \"steps\": %d, \"global_batch\": %lld, \"elapsed_s\": %.6f, \"steps_per_s\": %.4f, "
        "\"compute_ms_per_step\": %.4f, \"wait_ms_per_step\": %.4f, \"allreduce_ms_per_step\": %.4f, "
        "\"gradient_bytes\": %lld, \"buckets\": %zu}\n",
        size, steps, static_cast<long long>(global_batch), elapsed, steps / elapsed, 1e3 * compute / steps,
        1e3 * wait / steps, 1e3 * allreduce / steps, static_cast<long long>(gradient_bytes),
        gradients.last_bucket_count());
  hddnn::comm::finalize();
  return 0;
}
