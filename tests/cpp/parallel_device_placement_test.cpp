// require_placement_available: CPU placements always pass; a CUDA accelerator passes
// only where this torch has CUDA and the host shows that device.
#include <gtest/gtest.h>

#include "hddnn/errors.hpp"
#include "hddnn/nn/device.hpp"
#include "hddnn/parallel/device_placement.hpp"
#include "hddnn/parallel/shared_devices.hpp"

namespace {

using namespace hddnn;

mapping::Topology two_devices(const std::string& cloud_accelerator) {
  return mapping::parse_topology(nlohmann::json::parse(R"({"devices": [
    {"name": "e0", "tier": "end", "speed": 0.5, "parent": "cloud",
     "links": [{"to": "cloud", "latency_ms": 2, "bandwidth_mbps": 10}]},
    {"name": "cloud", "tier": "cloud", "speed": 1.0, "accelerator": ")" +
                                                       cloud_accelerator + R"("}]})"),
                                 "t.json");
}

std::string placement_error(const mapping::Topology& topology, int rank) {
  try {
    parallel::require_placement_available(topology, rank);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

TEST(DevicePlacement, DeviceOfEachSpelling) {
  EXPECT_EQ(parallel::accelerator_of(two_devices("cpu").devices[1]), torch::Device(torch::kCPU));
  EXPECT_EQ(parallel::accelerator_of(two_devices("cpu").devices[0]), torch::Device(torch::kCPU));
  EXPECT_EQ(parallel::accelerator_of(two_devices("cuda").devices[1]), torch::Device(torch::kCUDA, 0));
  EXPECT_EQ(parallel::accelerator_of(two_devices("cuda:3").devices[1]), torch::Device(torch::kCUDA, 3));
}

TEST(DevicePlacement, CpuAlwaysAvailableAndRankMustExist) {
  EXPECT_EQ(placement_error(two_devices("cpu"), 1), "");
  EXPECT_EQ(placement_error(two_devices("cuda:0"), 0), "");  // rank 0 names no accelerator
  EXPECT_NE(placement_error(two_devices("cpu"), 2).find("rank 2 has no device (2 listed)"), std::string::npos);
}

TEST(DevicePlacement, CudaNeedsTorchCudaAndTheDevice) {
  const int visible = nn::cuda_device_count();
  std::string error = placement_error(two_devices("cuda:0"), 1);
  if (visible > 0) {
    EXPECT_EQ(error, "");
    error = placement_error(two_devices("cuda:" + std::to_string(visible)), 1);
    EXPECT_NE(error.find("CUDA device(s) are visible on this host"), std::string::npos) << error;
  } else {
    EXPECT_NE(error.find("this torch has no usable CUDA"), std::string::npos) << error;
  }
  EXPECT_NE(error.find("t.json: device 'cloud' (rank 1).accelerator is \"cuda:"), std::string::npos) << error;
}

}  // namespace

namespace {

TEST(SharedDevices, AnyRepeatedHostAndDeviceIsShared) {
  using hddnn::parallel::any_placement_shared;
  EXPECT_FALSE(any_placement_shared({"a#0", "a#1", "b#0"}));
  EXPECT_TRUE(any_placement_shared({"a#0", "b#0", "a#0"}));
  EXPECT_FALSE(any_placement_shared({}));
}

}  // namespace
