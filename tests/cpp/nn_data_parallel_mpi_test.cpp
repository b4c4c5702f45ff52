// Under mpirun with 2 or 4 ranks on CPU: fit() with a DataParallel over MPI trains
// on shards of every global batch and ends, after 20 steps, within 1e-5 of a
// single-process fit on the full batches (multi-view net: augmentation, device
// dropout, uneven shards) and reports the same validation accuracy; with
// batchnorm, every rank ends with the same state.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "comm_mpi_main.hpp"
#include "hddnn/nn/network.hpp"
#include "hddnn/nn/trainer.hpp"
#include "hddnn/parallel/data_parallel.hpp"
#include "nn_tiny_spec.hpp"

namespace {

using namespace hddnn;
using namespace hddnn::nn;

// Labelled images whose class shows in their brightness (as in nn_network_test).
data::LabelledImages synthetic(int64_t n, int64_t views, int64_t side, uint64_t seed) {
  torch::manual_seed(seed);
  auto fine = torch::randint(0, 10, {n}, torch::kInt64);
  auto images = torch::rand({n, views, 1, side, side}) * 0.3 + (fine.to(torch::kFloat32) / 10.0).view({n, 1, 1, 1, 1});
  return {images.clamp(0, 1), fine};
}

TrainConfig twenty_steps(int64_t batch) {
  TrainConfig config;
  config.epochs = 4;
  config.batch_size = batch;
  config.threads = 1;
  config.stop_after = 20;
  config.device_dropout = 0.3;
  return config;
}

double largest_difference(Network& a, Network& b) {
  const auto pa = a.state(), pb = b.state();
  double worst = 0;
  for (size_t i = 0; i < pa.size(); ++i)
    worst = std::max(worst, (pa[i].second - pb[i].second).abs().max().item<double>());
  return worst;
}

TEST(DataParallelFit, MatchesSingleProcessTrainingOnTheGlobalBatch) {
  parallel::DistributedGradients gradients(MPI_COMM_WORLD);
  const auto parallel = parallel::data_parallel(gradients);
  const auto train = synthetic(192, 6, 14, 1), val = synthetic(50, 6, 14, 2);
  for (int64_t batch : {32, 30}) {  // 30 over 4 ranks: shards of 7 and 8
    Network distributed(parse_spec(specs::tiny_multiview_spec("concat")), 11);
    Network single(parse_spec(specs::tiny_multiview_spec("concat")), 11);
    const auto sharded = fit(distributed, train, val, twenty_steps(batch), {}, parallel);
    const auto whole = fit(single, train, val, twenty_steps(batch));
    EXPECT_EQ(distributed.training_state().step, 20);
    EXPECT_LT(largest_difference(distributed, single), 1e-5) << "global batch " << batch;
    // Validation is scored on shards (50 over 4 ranks: 12 and 13) and combined.
    ASSERT_EQ(sharded.size(), whole.size());
    for (const auto& [exit, accuracy] : whole.back().val_accuracy)
      EXPECT_NEAR(sharded.back().val_accuracy.at(exit), accuracy, 1e-9) << exit;
  }
}

TEST(DataParallelFit, RanksEndWithTheSameWeightsAndBatchnormStatistics) {
  parallel::DistributedGradients gradients(MPI_COMM_WORLD);
  const auto train = synthetic(256, 1, 28, 3), val = synthetic(64, 1, 28, 4);
  auto config = twenty_steps(32);
  config.stop_after = -1;
  config.epochs = 1;
  Network net(parse_spec(specs::tiny_single_spec()), 5);
  fit(net, train, val, config, {}, parallel::data_parallel(gradients));
  for (const auto& [name, tensor] : net.state()) {
    if (!tensor.is_floating_point()) continue;
    auto mine = tensor.detach().to(torch::kFloat64).flatten();
    auto mean = mine.clone();
    gradients.average_tensors({mean});
    EXPECT_TRUE(torch::allclose(mine, mean, 1e-6, 1e-7)) << name << " differs between ranks";
  }
}

}  // namespace
