// require_placement_available: CPU placements always pass; a CUDA placement passes
// only in a build with CUDA support on a host that shows that device.
#include <gtest/gtest.h>

#include "hddnn/errors.hpp"
#include "hddnn/parallel/device_placement.hpp"
#ifdef HDDNN_WITH_NCCL
#include "hddnn/comm/nccl/nccl_collectives.hpp"
#endif

namespace {

using namespace hddnn;

mapping::Topology two_devices(const std::string& cloud_device) {
  return mapping::parse_topology(nlohmann::json::parse(R"({"devices": [
    {"name": "e0", "tier": "end", "speed": 0.5, "parent": "cloud",
     "links": [{"to": "cloud", "latency_ms": 2, "bandwidth_mbps": 10}]},
    {"name": "cloud", "tier": "cloud", "speed": 1.0, "device": ")" +
                                                       cloud_device + R"("}]})"),
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

TEST(DevicePlacement, IndexOfEachSpelling) {
  EXPECT_EQ(parallel::cuda_index(two_devices("cpu").devices[1]), -1);
  EXPECT_EQ(parallel::cuda_index(two_devices("cpu").devices[0]), -1);
  EXPECT_EQ(parallel::cuda_index(two_devices("cuda").devices[1]), 0);
  EXPECT_EQ(parallel::cuda_index(two_devices("cuda:3").devices[1]), 3);
}

TEST(DevicePlacement, CpuAlwaysAvailableAndRankMustExist) {
  EXPECT_EQ(placement_error(two_devices("cpu"), 1), "");
  EXPECT_EQ(placement_error(two_devices("cuda:0"), 0), "");  // rank 0 has no device field
  EXPECT_NE(placement_error(two_devices("cpu"), 2).find("rank 2 has no device (2 listed)"), std::string::npos);
}

TEST(DevicePlacement, CudaNeedsTheBuildAndTheDevice) {
  auto topology = two_devices("cuda:0");
  std::string error = placement_error(topology, 1);
#ifdef HDDNN_WITH_NCCL
  int visible = comm::nccl::visible_devices();
  if (visible > 0) {
    EXPECT_EQ(error, "");
    error = placement_error(two_devices("cuda:" + std::to_string(visible)), 1);
  }
  EXPECT_NE(error.find("CUDA device(s) are visible on this host"), std::string::npos) << error;
#else
  EXPECT_NE(error.find("no CUDA support (configure with -DHDDNN_WITH_NCCL=ON)"), std::string::npos) << error;
#endif
  EXPECT_NE(error.find("t.json: device 'cloud' (rank 1).device is \"cuda:"), std::string::npos) << error;
}

}  // namespace
