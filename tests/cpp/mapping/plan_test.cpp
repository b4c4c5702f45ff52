// Planning lab7: feasible and converged at moderate load, never uses excluded devices,
// reports the largest sustainable scale when overloaded, and beats sending everything
// to the cloud under the planner's own model.
#include <gtest/gtest.h>

#include <cmath>

#include "hddnn/errors.hpp"
#include "hddnn/mapping/plan.hpp"
#include "hddnn/mapping/solve.hpp"

using namespace hddnn::mapping;
using nlohmann::json;

namespace {

json profile_json() {
  return json::parse(R"({"input_bytes": 784, "sections": [
    {"name": "end", "tier": "end", "param_bytes": 20000, "out_bytes": 256,
     "compute_ms": {"batch1": 0.4, "batch32": 3}, "escalate_fraction": 0.4},
    {"name": "edge", "tier": "edge", "param_bytes": 400000, "out_bytes": 512,
     "compute_ms": {"batch1": 1.5, "batch32": 10}, "escalate_fraction": 0.5},
    {"name": "cloud", "tier": "cloud", "param_bytes": 4000000, "out_bytes": 0,
     "compute_ms": {"batch1": 6.0, "batch32": 40}, "escalate_fraction": 0}]})");
}

struct Lab7 : ::testing::Test {
  Topology topology = load_topology(shipped_topology_dir() + "/lab7.json");
  ModelProfile profile = parse_profile(profile_json(), "profile");
};

double routed_to(const Plan& plan, int node) {
  double total = 0;
  for (const DevicePlan& device : plan.devices)
    for (const auto& [n, fraction] : device.routing)
      if (n == node) total += fraction;
  return total;
}

}  // namespace

TEST_F(Lab7, ModerateLoadIsFeasibleAndConverges) {
  Plan result = plan(topology, profile, {60, 60, 60, 60});
  EXPECT_TRUE(result.feasible);
  EXPECT_TRUE(result.converged);
  EXPECT_GE(result.iterations, 2);
  EXPECT_LT(result.iterations, 50);
  for (const DevicePlan& device : result.devices) {
    EXPECT_TRUE(device.active);
    EXPECT_TRUE(std::isfinite(device.latency_ms));
    double sum = 0;
    for (const auto& entry : device.routing) sum += entry.second;
    if (device.escalation_per_s > 0) {
      EXPECT_NEAR(sum, 1.0, 1e-6);
    }
  }
  for (double rho : result.utilisation) EXPECT_LE(rho, 0.95 + 1e-9);
  EXPECT_GT(result.mean_latency_ms, 0);
}

TEST_F(Lab7, ExcludedDevicesAreNeverUsed) {
  PlanOptions options;
  options.exclude = {topology.index_of("edge0"), topology.index_of("end3")};
  Plan result = plan(topology, profile, {60, 60, 60, 60}, options);
  EXPECT_EQ(routed_to(result, topology.index_of("edge0")), 0.0);
  EXPECT_EQ(result.utilisation[topology.index_of("edge0")], 0.0);
  EXPECT_FALSE(result.devices[3].active);
  EXPECT_TRUE(result.feasible);
  for (int d = 0; d < 3; ++d) EXPECT_NE(result.devices[d].edge, topology.index_of("edge0"));
}

TEST_F(Lab7, OverloadReportsSustainableScale) {
  Plan result = plan(topology, profile, {3000, 3000, 3000, 3000});
  EXPECT_FALSE(result.feasible);
  ASSERT_GT(result.max_scale, 0.0);
  ASSERT_LT(result.max_scale, 1.0);
  double scaled = 3000 * result.max_scale * 0.9;
  EXPECT_TRUE(plan(topology, profile, {scaled, scaled, scaled, scaled}).feasible);
}

TEST_F(Lab7, BeatsEverythingToTheCloud) {
  PlanOptions options;
  Plan planned = plan(topology, profile, {40, 40, 40, 40}, options);
  Plan cloud_only = planned;
  for (DevicePlan& device : cloud_only.devices) {
    device.section_tier.assign(profile.sections.size(), Tier::Cloud);
    device.routing = {{topology.cloud(), 1.0}};
  }
  evaluate_plan(topology, profile, options, cloud_only);
  EXPECT_LT(planned.mean_latency_ms, cloud_only.mean_latency_ms);
}

TEST_F(Lab7, MemoryBudgetKeepsSectionsOffSmallDevices) {
  for (int end : topology.of_tier(Tier::End)) topology.devices[end].memory_mb = 0.03;  // end section only (20 kB)
  Plan result = plan(topology, profile, {10, 10, 10, 10});
  for (const DevicePlan& device : result.devices) {
    EXPECT_EQ(device.section_tier[0], Tier::End);
    EXPECT_NE(device.section_tier[1], Tier::End);
    EXPECT_NE(device.section_tier[2], Tier::End);
  }
}

TEST_F(Lab7, RawInputsNeverLeaveTheDevice) {
  // Even where sending the image would be cheaper (a very slow device), the first
  // section stays on it; a device that cannot hold it has no plan.
  for (int end : topology.of_tier(Tier::End)) topology.devices[end].speed = 0.001;
  for (const DevicePlan& device : plan(topology, profile, {1, 1, 1, 1}).devices)
    EXPECT_EQ(device.section_tier[0], Tier::End);
  topology.devices[topology.index_of("end2")].memory_mb = 0.01;  // 10 kB < end section
  try {
    plan(topology, profile, {1, 1, 1, 1});
    FAIL() << "expected ConfigError";
  } catch (const hddnn::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("end2"), std::string::npos) << e.what();
  }
}

TEST_F(Lab7, IdleAndFullyExcludedPlansAreTrivial) {
  Plan idle = plan(topology, profile, {0, 0, 0, 0});
  EXPECT_TRUE(idle.feasible);
  EXPECT_EQ(idle.mean_latency_ms, 0.0);
  PlanOptions options;
  options.exclude = {4, 5, 6};  // every edge node and the cloud: all sections stay on the devices
  for (int end : topology.of_tier(Tier::End)) topology.devices[end].memory_mb = 256;  // room for them
  Plan alone = plan(topology, profile, {10, 10, 10, 10}, options);
  for (const DevicePlan& device : alone.devices) {
    EXPECT_EQ(device.section_tier, std::vector<Tier>(3, Tier::End));
    EXPECT_TRUE(device.routing.empty());
  }
}

TEST_F(Lab7, WrongRateCountIsConfigError) {
  EXPECT_THROW(plan(topology, profile, {1, 2, 3}), hddnn::ConfigError);
  EXPECT_THROW(plan(topology, profile, {1, 2, 3, -4}), hddnn::ConfigError);
}

TEST_F(Lab7, JsonRoundTrip) {
  json answer = plan_json(topology_to_json(topology), profile_json(), json::array({20, 20, 20, 20}),
                          json{{"exclude", {"edge1"}}});
  EXPECT_EQ(answer["devices"].size(), 4u);
  EXPECT_TRUE(answer["feasible"].get<bool>());
  EXPECT_FALSE(answer["devices"][0]["routing"].contains("edge1"));
  EXPECT_THROW(
      plan_json(topology_to_json(topology), profile_json(), json::array({1, 1, 1, 1}), json{{"exclude", {"edge9"}}}),
      hddnn::ConfigError);
}
