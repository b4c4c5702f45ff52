// Topology and model-profile files: the shipped ones load; each kind of bad input is
// a ConfigError that names the device or field.
#include <gtest/gtest.h>

#include "hddnn/errors.hpp"
#include "hddnn/mapping/profile.hpp"
#include "hddnn/mapping/topology.hpp"

using namespace hddnn::mapping;
using nlohmann::json;

namespace {

json small_topology() {
  return json::parse(R"({"devices": [
    {"name": "e0", "tier": "end", "speed": 0.25, "parent": "edge",
     "links": [{"to": "edge", "latency_ms": 2, "bandwidth_mbps": 10}]},
    {"name": "edge", "tier": "edge", "speed": 0.5, "parent": "cloud",
     "links": [{"to": "cloud", "latency_ms": 20, "bandwidth_mbps": 100}]},
    {"name": "cloud", "tier": "cloud", "speed": 1.0}]})");
}

void expect_config_error(const json& document, const std::string& fragment) {
  try {
    parse_topology(document, "t.json");
    FAIL() << "expected ConfigError mentioning " << fragment;
  } catch (const hddnn::ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
  }
}

}  // namespace

TEST(Topology, ShippedLab7HasFourEndTwoEdgeOneCloud) {
  Topology topology = load_topology(shipped_topology_dir() + "/lab7.json");
  EXPECT_EQ(topology.of_tier(Tier::End).size(), 4u);
  EXPECT_EQ(topology.of_tier(Tier::Edge).size(), 2u);
  EXPECT_EQ(topology.cloud(), 6);
  for (int end : topology.of_tier(Tier::End)) {
    EXPECT_LT(topology.devices[end].speed, topology.devices[topology.cloud()].speed / 2);
    for (int node : {4, 5, 6}) EXPECT_NE(topology.link_between(end, node), nullptr);
  }
}

TEST(Topology, ShippedDdnn6HasSixViews) {
  Topology topology = load_topology(shipped_topology_dir() + "/ddnn6.json");
  std::vector<int> ends = topology.of_tier(Tier::End);
  ASSERT_EQ(ends.size(), 6u);
  for (int v = 0; v < 6; ++v) EXPECT_EQ(topology.devices[ends[v]].views, std::vector<int>{v});
  EXPECT_EQ(topology.of_tier(Tier::Edge).size(), 1u);
}

TEST(Topology, LinkTransferTime) {
  Link link{1, 2.0, 8.0};
  EXPECT_DOUBLE_EQ(link.transfer_ms(1000), 2.0 + 1.0);  // 8000 bits at 8000 bits/ms
}

TEST(Topology, RejectsUnknownParent) {
  json t = small_topology();
  t["devices"][0]["parent"] = "nowhere";
  expect_config_error(t, "unknown device \"nowhere\"");
}

TEST(Topology, RejectsMissingLinkToParent) {
  json t = small_topology();
  t["devices"][1]["links"] = json::array();
  expect_config_error(t, "'edge': no link to its parent 'cloud'");
}

TEST(Topology, RejectsNoCloudAndTwoClouds) {
  json none = small_topology();
  none["devices"][2]["tier"] = "edge";
  none["devices"][2]["parent"] = "edge";
  none["devices"][2]["links"] = json::parse(R"([{"to": "edge", "latency_ms": 1, "bandwidth_mbps": 1}])");
  expect_config_error(none, "no device with tier 'cloud'");
  json two = small_topology();
  two["devices"][1]["tier"] = "cloud";
  expect_config_error(two, "more than one device with tier 'cloud'");
}

TEST(Topology, RejectsBadFields) {
  json tier = small_topology();
  tier["devices"][0]["tier"] = "fog";
  expect_config_error(tier, "unknown tier 'fog'");
  json speed = small_topology();
  speed["devices"][1]["speed"] = 0;
  expect_config_error(speed, "field 'speed' must be a positive number");
  json bandwidth = small_topology();
  bandwidth["devices"][0]["links"][0]["bandwidth_mbps"] = -3;
  expect_config_error(bandwidth, "field 'bandwidth_mbps' must be a positive number");
  json latency = small_topology();
  latency["devices"][0]["links"][0]["latency_ms"] = -1;
  expect_config_error(latency, "('e0').links[0]: field 'latency_ms' must be a number >= 0");
  json duplicate = small_topology();
  duplicate["devices"].push_back(duplicate["devices"][0]);
  expect_config_error(duplicate, "duplicate name");
}

TEST(Profile, ParsesAndComputesReach) {
  json document = json::parse(R"({"input_bytes": 784, "sections": [
    {"name": "end", "tier": "end", "param_bytes": 1000, "out_bytes": 64,
     "compute_ms": {"batch1": 0.5, "batch32": 4}, "escalate_fraction": 0.4},
    {"name": "edge", "tier": "edge", "param_bytes": 9000, "out_bytes": 32,
     "compute_ms": {"batch1": 1.0, "batch32": 8}, "escalate_fraction": 0.5},
    {"name": "cloud", "tier": "cloud", "param_bytes": 90000, "out_bytes": 0,
     "compute_ms": {"batch1": 3.0, "batch32": 20}, "escalate_fraction": 0}]})");
  ModelProfile profile = parse_profile(document, "p.json");
  EXPECT_DOUBLE_EQ(profile.reach(0), 1.0);
  EXPECT_DOUBLE_EQ(profile.reach(2), 0.2);
  EXPECT_DOUBLE_EQ(profile.reach(3), 0.0);
  document["sections"][1]["escalate_fraction"] = 1.5;
  EXPECT_THROW(parse_profile(document, "p.json"), hddnn::ConfigError);
  document["sections"][1]["escalate_fraction"] = 0.5;
  document["sections"][2]["out_bytes"] = 10;
  try {
    parse_profile(document, "p.json");
    FAIL();
  } catch (const hddnn::ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("sections[2]: field 'out_bytes'"), std::string::npos) << error.what();
  }
}

TEST(Topology, AcceleratorIsCpuOrCuda) {
  json t = small_topology();
  t["devices"][2]["accelerator"] = "cuda:1";
  EXPECT_EQ(parse_topology(t, "t.json").devices[2].accelerator, std::optional<std::string>("cuda:1"));
  EXPECT_EQ(topology_to_json(parse_topology(t, "t.json"))["devices"][2]["accelerator"], "cuda:1");
  t["devices"][2]["accelerator"] = "gpu0";
  expect_config_error(t, "'cloud').accelerator: unknown accelerator 'gpu0' (expected \"cpu\", \"cuda\" or \"cuda:N\")");
}
