// Device-generic training: device names, the batch prefetcher, loss scaling, and the
// trainer and a serving rank's deployed sections run with torch::Device parameters (the
// CPU always; CUDA devices this torch shows, skipped otherwise) against the CPU.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <atomic>
#include <filesystem>
#include <limits>
#include <stdexcept>

#include "hddnn/errors.hpp"
#include "hddnn/nn/batch_prefetcher.hpp"
#include "hddnn/nn/checkpoint.hpp"
#include "hddnn/nn/device.hpp"
#include "hddnn/nn/export.hpp"
#include "hddnn/nn/mixed_precision.hpp"
#include "hddnn/nn/trainer.hpp"
#include "hddnn/runtime/deployed_model.hpp"
#include "nn_tiny_spec.hpp"

namespace {

using namespace hddnn;
using namespace hddnn::nn;

std::string error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

TEST(NnDevice, NamesParseAndUnknownOnesAreRefused) {
  EXPECT_EQ(parse_device("cpu", "f"), torch::Device(torch::kCPU));
  EXPECT_EQ(parse_device("cuda", "f"), torch::Device(torch::kCUDA, 0));
  EXPECT_EQ(parse_device("cuda:2", "f"), torch::Device(torch::kCUDA, 2));
  for (const char* bad : {"gpu", "cuda:", "CUDA", "cuda:x", "mps"})
    EXPECT_NE(error_of([&] {
                parse_device(bad, "training.device");
              }).find(std::string("training.device: unknown device '") + bad + "'"),
              std::string::npos)
        << bad;
}

TEST(NnDevice, CudaIsRefusedWhereThisTorchHasNone) {
  EXPECT_EQ(error_of([] { require_device_available(torch::kCPU, "x"); }), "");
  const int visible = cuda_device_count();
  const std::string beyond = "cuda:" + std::to_string(visible);
  const std::string error = error_of([&] { training_device(beyond, 0); });
  EXPECT_NE(error.find("training.device is \"" + beyond + "\""), std::string::npos) << error;
  if (visible == 0) {
    EXPECT_NE(error.find("this torch has no usable CUDA"), std::string::npos) << error;
    EXPECT_NE(error_of([] { training_device("cuda", 1); }), "");
  } else {
    EXPECT_EQ(training_device("cuda", visible + 1), torch::Device(torch::kCUDA, 1 % visible));
  }
}

TEST(NnDevice, AmpNeedsCuda) {
  const auto error = error_of([] { train_config_from_json({{"amp", true}}); });
  EXPECT_NE(error.find("training.amp: mixed precision needs a CUDA device (training.device is \"cpu\")"),
            std::string::npos)
      << error;
  EXPECT_NE(error_of([] {
              train_config_from_json({{"device", "tpu"}});
            }).find("unknown device 'tpu'"),
            std::string::npos);
  const auto config = train_config_from_json({{"device", "cuda:1"}, {"amp", true}});
  EXPECT_EQ(to_json(config)["device"], "cuda:1");
  EXPECT_EQ(to_json(config)["amp"], true);
}

TEST(NnBatchPrefetcher, MakesEveryStepOnceInOrderAndAhead) {
  std::atomic<int64_t> made{0};
  BatchPrefetcher<int64_t> prefetcher(
      [&made](int64_t step) {
        ++made;
        return step * step;
      },
      3, 9, 2);
  for (int64_t step = 3; step < 9; ++step) {
    EXPECT_EQ(prefetcher.next(), step * step);
    EXPECT_LE(made.load(), step - 3 + 1 + 2);  // never more than `depth` ahead of the consumer
  }
  EXPECT_EQ(made.load(), 6);
  EXPECT_THROW(prefetcher.next(), std::logic_error);
}

TEST(NnBatchPrefetcher, RethrowsTheFailureWhereItsItemWasDue) {
  BatchPrefetcher<int> prefetcher(
      [](int64_t step) {
        if (step == 2) throw DataError("step 2 failed");
        return static_cast<int>(step);
      },
      0, 5);
  EXPECT_EQ(prefetcher.next(), 0);
  EXPECT_EQ(prefetcher.next(), 1);
  EXPECT_THROW(prefetcher.next(), DataError);
}

TEST(NnBatchPrefetcher, StopsWhenDroppedEarly) {
  std::atomic<int64_t> made{0};
  {
    BatchPrefetcher<int64_t> prefetcher([&made](int64_t step) { return ++made + step; }, 0, 1000, 3);
    prefetcher.next();
  }
  EXPECT_LE(made.load(), 5);
}

TEST(NnGradScaler, StepsOnFiniteGradientsAndBacksOffOnOverflow) {
  auto weight = torch::ones({2}, torch::requires_grad());
  torch::optim::SGD sgd({weight}, torch::optim::SGDOptions(0.5));
  GradScaler scaler(GradScalerOptions{1024.0, 2.0, 0.5, 2});
  for (int step = 0; step < 2; ++step) {
    sgd.zero_grad();
    scaler.scale((weight * torch::tensor({1.0f, 2.0f})).sum()).backward();
    EXPECT_TRUE(scaler.step(sgd, {weight}));
  }
  // unscaled gradients (1, 2) applied twice with lr 0.5; two finite steps doubled the scale
  EXPECT_TRUE(torch::allclose(weight, torch::tensor({0.0f, -1.0f})));
  EXPECT_DOUBLE_EQ(scaler.current_scale(), 2048.0);

  sgd.zero_grad();
  scaler.scale((weight * std::numeric_limits<float>::infinity()).sum()).backward();
  EXPECT_FALSE(scaler.step(sgd, {weight}));
  EXPECT_TRUE(torch::allclose(weight, torch::tensor({0.0f, -1.0f})));  // the step was skipped
  EXPECT_DOUBLE_EQ(scaler.current_scale(), 1024.0);
  EXPECT_EQ(scaler.skipped_steps(), 1);
  EXPECT_THROW(GradScaler(GradScalerOptions{0.0}), ConfigError);
}

data::LabelledImages synthetic(int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  auto fine = torch::randint(0, 10, {n}, torch::kInt64);
  auto images = torch::rand({n, 1, 1, 28, 28}) * 0.3 + (fine.to(torch::kFloat32) / 10.0).view({n, 1, 1, 1, 1});
  return {images.clamp(0, 1), fine};
}

struct Trained {
  std::vector<EpochRecord> history;
  std::vector<std::pair<std::string, torch::Tensor>> state;
};

Trained train_on(const torch::Device& device, const std::string& checkpoint = "") {
  TrainConfig config;
  config.epochs = 2;
  config.batch_size = 64;
  config.threads = 1;
  config.device = device.str();
  config.checkpoint = checkpoint;
  Network net(parse_spec(specs::tiny_single_spec()), 11);
  auto history = fit(net, synthetic(384, 1), synthetic(96, 2), config);
  EXPECT_EQ(net.device(), torch::Device(torch::kCPU));  // fit hands the network back on the CPU
  return {history, net.state()};
}

class NnTrainOnDevice : public ::testing::TestWithParam<torch::Device> {
 protected:
  void SetUp() override {
    if (GetParam().is_cuda() && GetParam().index() >= cuda_device_count())
      GTEST_SKIP() << GetParam().str() << " is not available to this torch";
  }
};

TEST_P(NnTrainOnDevice, MatchesTheCpuRunAndItsCheckpointLoadsOnTheCpu) {
  const std::string checkpoint =
      (std::filesystem::temp_directory_path() / ("hddnn_device_" + GetParam().str() + ".pt")).string();
  const Trained here = train_on(GetParam(), checkpoint), cpu = train_on(torch::kCPU);
  ASSERT_EQ(here.history.size(), 2u);
  EXPECT_LT(here.history[1].loss, here.history[0].loss);
  // The CPU run repeats itself bit for bit; a GPU's kernels round differently.
  const double tolerance = GetParam().is_cuda() ? 2e-3 : 0.0;
  for (size_t e = 0; e < 2; ++e) EXPECT_NEAR(here.history[e].loss, cpu.history[e].loss, tolerance) << e;
  ASSERT_EQ(here.state.size(), cpu.state.size());
  for (size_t i = 0; i < here.state.size(); ++i) {
    EXPECT_TRUE(here.state[i].second.device().is_cpu()) << here.state[i].first;
    EXPECT_TRUE(torch::allclose(here.state[i].second, cpu.state[i].second, tolerance, tolerance))
        << here.state[i].first;
  }
  Network loaded = load_network(checkpoint);
  EXPECT_EQ(loaded.training_state().step, here.history.back().step);
  for (const auto& [name, tensor] : loaded.state()) EXPECT_TRUE(tensor.device().is_cpu()) << name;
  std::filesystem::remove(checkpoint);
}

TEST_P(NnTrainOnDevice, MixedPrecisionTrainsOnCudaOnly) {
  TrainConfig config;
  config.epochs = 1;
  config.batch_size = 64;
  config.threads = 1;
  config.device = GetParam().str();
  config.amp = true;
  Network net(parse_spec(specs::tiny_single_spec()), 11);
  if (!GetParam().is_cuda()) {
    EXPECT_NE(error_of([&] { train_config_from_json(to_json(config)); }).find("training.amp"), std::string::npos);
    return;
  }
  const auto history = fit(net, synthetic(384, 1), synthetic(96, 2), config);
  EXPECT_TRUE(std::isfinite(history.back().loss));
  EXPECT_GT(history.back().val_accuracy.at("cloud/fine"), 0.0);
}

// A serving rank's sections on the device: host tensors in and out, the CPU's answers.
TEST_P(NnTrainOnDevice, DeployedSectionsServeOnTheDevice) {
  Network net(parse_spec(specs::tiny_single_spec()), 9);
  const auto dir = (std::filesystem::temp_directory_path() / ("hddnn_deployed_" + GetParam().str())).string();
  export_network(net, dir, {"end/fine", "edge/fine", "cloud/fine"});
  const std::vector<runtime::Tier> tiers = {runtime::Tier::kEnd, runtime::Tier::kEdge, runtime::Tier::kCloud};
  runtime::DeployedModel here(dir, tiers, -1, GetParam()), cpu(dir, tiers);
  EXPECT_EQ(here.device(), GetParam());
  const auto image = torch::rand({1, 1, 28, 28});
  const auto a = here.run(runtime::Tier::kEnd, image), b = cpu.run(runtime::Tier::kEnd, image);
  EXPECT_TRUE(a.logits.at(0).device().is_cpu() && a.features.device().is_cpu());
  EXPECT_TRUE(torch::allclose(a.logits.at(0), b.logits.at(0), 1e-4, 1e-4));
  EXPECT_EQ(here.pack(runtime::Tier::kEnd, a.features), cpu.pack(runtime::Tier::kEnd, b.features));
  const auto features = cpu.unpack(runtime::Tier::kEdge, cpu.pack(runtime::Tier::kEnd, b.features));
  const auto c = here.run(runtime::Tier::kEdge, features), d = cpu.run(runtime::Tier::kEdge, features);
  EXPECT_TRUE(torch::allclose(c.logits.at(0), d.logits.at(0), 1e-4, 1e-4));
  for (const char* file : {"end.pt", "edge.pt", "cloud.pt", "manifest.json"}) std::filesystem::remove(dir + "/" + file);
  std::filesystem::remove(dir);
}

INSTANTIATE_TEST_SUITE_P(Devices, NnTrainOnDevice,
                         ::testing::Values(torch::Device(torch::kCPU), torch::Device(torch::kCUDA, 0)),
                         [](const auto& info) { return info.param.is_cuda() ? std::string("cuda0") : "cpu"; });

}  // namespace
