// Under mpirun with 2 or 4 ranks on CPU: DistributedGradients averages bucketed
// tensors of mixed sizes and dtypes exactly, broadcasts rank 0's parameters, and
// data-parallel SGD over sharded batches matches single-rank SGD on the full batch.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "comm_mpi_main.hpp"
#include "hddnn/errors.hpp"
#include "hddnn/parallel/distributed_gradients.hpp"
#include "hddnn/parallel/shared_devices.hpp"

namespace {

using hddnn::parallel::DistributedGradients;
using hddnn::parallel::DistributedOptions;

// Tensor i on rank r holds (r + 1) * (i + 1) + arange: its mean over ranks is known.
std::vector<torch::Tensor> rank_tensors(int rank) {
  std::vector<int64_t> sizes = {1, 7, 16, 3, 1000, 5, 16};
  std::vector<torch::Tensor> tensors;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    auto dtype = i == 3 || i == 5 ? torch::kFloat64 : torch::kFloat32;
    tensors.push_back(torch::arange(sizes[i], torch::TensorOptions().dtype(dtype)) + (rank + 1.0) * (i + 1.0));
  }
  tensors.push_back(torch::arange(12, torch::kFloat32).reshape({3, 4}).t() * (rank + 1.0));  // not contiguous
  return tensors;
}

std::vector<torch::Tensor> expected_means(int size) {
  std::vector<torch::Tensor> sum = rank_tensors(0);
  for (int r = 1; r < size; ++r) {
    auto next = rank_tensors(r);
    for (std::size_t i = 0; i < sum.size(); ++i) sum[i] = sum[i] + next[i];
  }
  for (auto& tensor : sum) tensor = tensor / size;
  return sum;
}

TEST(DistributedGradients, MixedSizesAreAveragedForEveryBucketSize) {
  // 4 bytes: every tensor alone. 64: float32 {1, 7} | {16} | {1000} | {16} | {12},
  // float64 {3, 5} (24 + 40 bytes: an exact fill). 1 MiB: one bucket per dtype.
  for (std::size_t bucket_bytes : {std::size_t{4}, std::size_t{64}, std::size_t{1} << 20}) {
    DistributedGradients gradients(MPI_COMM_WORLD, DistributedOptions{bucket_bytes});
    auto tensors = rank_tensors(gradients.rank());
    gradients.average_tensors(tensors);
    auto expected = expected_means(gradients.size());
    for (std::size_t i = 0; i < tensors.size(); ++i)
      EXPECT_TRUE(torch::equal(tensors[i], expected[i])) << "tensor " << i << ", bucket_bytes " << bucket_bytes;
    std::size_t expected_buckets = bucket_bytes == 4 ? tensors.size() : bucket_bytes == 64 ? 6 : 2;
    EXPECT_EQ(gradients.last_bucket_count(), expected_buckets) << "bucket_bytes " << bucket_bytes;
  }
}

TEST(DistributedGradients, RanksOnOneHostShareADeviceOnlyWhenTheyNameTheSameOne) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  EXPECT_TRUE(hddnn::parallel::ranks_share_a_device(MPI_COMM_WORLD, 0));  // every rank on this host, device 0
  EXPECT_FALSE(hddnn::parallel::ranks_share_a_device(MPI_COMM_WORLD, rank));
  DistributedGradients gradients(MPI_COMM_WORLD);
  gradients.average_tensors({torch::ones({3})});
  EXPECT_EQ(gradients.cuda_path(), "none yet");  // decided at the first CUDA tensor only
}

TEST(DistributedGradients, RefusesIntegerTensors) {
  DistributedGradients gradients(MPI_COMM_WORLD);
  EXPECT_THROW(gradients.average_tensors({torch::ones({3}), torch::ones({2}, torch::kInt32)}), hddnn::CommError);
}

torch::nn::Sequential make_model(uint64_t seed) {
  torch::manual_seed(seed);
  return torch::nn::Sequential(torch::nn::Linear(8, 16), torch::nn::Tanh(), torch::nn::Linear(16, 3));
}

void sgd_step(torch::nn::Sequential& model, const torch::Tensor& x, const torch::Tensor& y,
              DistributedGradients* gradients) {
  model->zero_grad();
  torch::mse_loss(model->forward(x), y).backward();
  if (gradients) gradients->average(model->parameters());
  torch::NoGradGuard no_grad;
  for (auto& parameter : model->parameters()) parameter.sub_(0.1 * parameter.grad());
}

double max_difference(torch::nn::Sequential& a, torch::nn::Sequential& b) {
  double worst = 0;
  auto pa = a->parameters(), pb = b->parameters();
  for (std::size_t i = 0; i < pa.size(); ++i) worst = std::max(worst, (pa[i] - pb[i]).abs().max().item<double>());
  return worst;
}

TEST(DistributedGradients, DataParallelSgdMatchesSingleRankTraining) {
  DistributedGradients gradients(MPI_COMM_WORLD, DistributedOptions{256});  // several buckets per step
  const int rank = gradients.rank(), size = gradients.size();
  const int64_t global_batch = 32, steps = 20, shard = global_batch / size;
  ASSERT_EQ(global_batch % size, 0);

  auto distributed = make_model(100 + rank);       // each rank starts elsewhere...
  gradients.broadcast(distributed->parameters());  // ...until rank 0's weights are broadcast
  auto reference = make_model(100);
  ASSERT_EQ(max_difference(distributed, reference), 0.0) << "broadcast did not give rank 0's weights";
  auto local_only = make_model(100);  // same start, shard only, no averaging: must drift

  torch::manual_seed(7);  // the same data on every rank
  auto teacher = torch::randn({8, 3});
  for (int64_t step = 0; step < steps; ++step) {
    auto x = torch::randn({global_batch, 8});
    auto y = torch::tanh(x.mm(teacher)) + 0.1 * torch::randn({global_batch, 3});
    auto xs = x.narrow(0, rank * shard, shard), ys = y.narrow(0, rank * shard, shard);
    sgd_step(distributed, xs, ys, &gradients);
    sgd_step(reference, x, y, nullptr);
    sgd_step(local_only, xs, ys, nullptr);
  }
  EXPECT_LT(max_difference(distributed, reference), 1e-5);
  EXPECT_GT(max_difference(local_only, reference), 1e-3) << "the check above could not tell averaging apart";
}

}  // namespace
