// Feature wire format and the exit policy on hand-made logits.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "hddnn/errors.hpp"
#include "hddnn/nn/exit_policy.hpp"
#include "hddnn/nn/feature_codec.hpp"

namespace {

using namespace hddnn;
using namespace hddnn::nn;

TEST(NnCodec, BinaryPacksEightPerByteMsbFirst) {
  const auto f = torch::tensor({1.f, -1.f, -1.f, -1.f, -1.f, -1.f, -1.f, 1.f, 1.f, -1.f}).view({1, 10});
  const auto bytes = pack_features(f, Quantization::kBinary);
  ASSERT_EQ(bytes.size(), 2u);
  EXPECT_EQ(bytes[0], 0x81);
  EXPECT_EQ(bytes[1], 0x80);
  const auto back = unpack_features(bytes.data(), bytes.size(), {1, 10}, Quantization::kBinary);
  EXPECT_TRUE(torch::equal(back, f));
}

TEST(NnCodec, RoundTripsEveryQuantization) {
  torch::manual_seed(1);
  const auto x = torch::randn({3, 4, 4, 4});
  const auto binary = torch::where(x >= 0, torch::ones_like(x), -torch::ones_like(x));
  auto packed = pack_features(binary, Quantization::kBinary);
  EXPECT_EQ(packed.size(), 3u * 64 / 8);
  EXPECT_TRUE(torch::equal(unpack_features(packed.data(), packed.size(), x.sizes(), Quantization::kBinary), binary));
  const double step = 2.0 * kRange8 / 255.0;
  const auto grid = torch::round((x.clamp(-kRange8, kRange8) + kRange8) / step) * step - kRange8;
  packed = pack_features(grid, Quantization::kInt8);
  EXPECT_EQ(packed.size(), 192u);
  EXPECT_TRUE(
      torch::allclose(unpack_features(packed.data(), packed.size(), x.sizes(), Quantization::kInt8), grid, 0, 1e-5));
  packed = pack_features(x, Quantization::kFloat32);
  EXPECT_EQ(packed.size(), 768u);
  EXPECT_TRUE(torch::equal(unpack_features(packed.data(), packed.size(), x.sizes(), Quantization::kFloat32), x));
}

TEST(NnCodec, WrongByteCountIsDataError) {
  std::vector<uint8_t> bytes(3);
  EXPECT_THROW(unpack_features(bytes.data(), bytes.size(), {1, 32}, Quantization::kBinary), DataError);
}

TEST(NnExitPolicy, NormalizedEntropyOfHandMadeLogits) {
  const auto logits = torch::tensor({{0.f, 0.f, 0.f, 0.f}, {100.f, 0.f, 0.f, 0.f}, {std::log(3.f), 0.f, 0.f, 0.f}});
  const auto h = normalized_entropy(logits);
  EXPECT_NEAR(h[0].item<float>(), 1.0, 1e-6);
  EXPECT_NEAR(h[1].item<float>(), 0.0, 1e-6);
  // p = (1/2, 1/6, 1/6, 1/6): H = (1/2 ln 2 + 1/2 ln 6) / ln 4
  EXPECT_NEAR(h[2].item<float>(), (0.5 * std::log(2.0) + 0.5 * std::log(6.0)) / std::log(4.0), 1e-6);
}

TEST(NnExitPolicy, SamplesLeaveAtFirstConfidentExit) {
  const auto end = torch::tensor({0.1f, 0.5f, 0.9f, 0.2f});
  const auto edge = torch::tensor({0.9f, 0.1f, 0.9f, 0.0f});
  const auto cloud = torch::tensor({0.5f, 0.5f, 0.5f, 0.5f});
  const auto where = exit_index({end, edge, cloud}, {0.3, 0.2});
  EXPECT_TRUE(torch::equal(where, torch::tensor({0, 1, 2, 0}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(exit_index({end, edge, cloud}, {0.0, 0.0}), torch::full({4}, 2, torch::kInt64)));
  EXPECT_THROW(exit_index({end, edge}, {0.1, 0.1}), ConfigError);
}

}  // namespace
