// Roles over the in-memory transport, without MPI: the end devices, edge node and
// cloud (with its coordinator) of tests/python/data/tiny4.json run in one process, one
// thread each, on a tiny untrained model exported once, made-up request samples and a
// hand-written profile, over emulated links. The runs are short (0.4 s of requests at
// 20/s per device); heartbeats keep the run's default period (100 ms), so a rank is
// declared dead after 300 ms of silence: a busy test host does not starve a role that long.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "hddnn/comm/memory_transport.hpp"
#include "hddnn/data/labels.hpp"
#include "hddnn/errors.hpp"
#include "hddnn/nn/export.hpp"
#include "hddnn/nn/spec.hpp"
#include "hddnn/runtime/emulated_links.hpp"
#include "hddnn/runtime/roles.hpp"
#include "nn_tiny_spec.hpp"

namespace hddnn::runtime {
namespace {

constexpr int kEnd0 = 0, kEnd1 = 1, kEdge = 2, kCloud = 3;  // tiny4.json's ranks

std::string temp_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("hddnn_roles_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

// The model every role loads its sections from: the tiny spec, untrained, exported once.
class RolesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    torch::set_num_threads(1);
    model_dir_ = new std::string(temp_dir("model"));
    nn::Network net(nn::parse_spec(nn::specs::tiny_single_spec()), 3);
    nn::export_network(net, *model_dir_, {"end/fine", "edge/fine", "cloud/fine"});
  }
  static void TearDownTestSuite() {
    // File by file (see nn_network_test.cpp: a pip torch's remove_all may crash).
    for (const char* file : {"end.pt", "edge.pt", "cloud.pt", "manifest.json"})
      std::filesystem::remove(*model_dir_ + "/" + file);
    std::filesystem::remove(*model_dir_);
    delete model_dir_;
  }

  RunConfig config(const std::string& scheme, double threshold) {
    RunConfig c;
    c.model_dir = *model_dir_;
    c.topology = "tiny4.json";
    c.scheme = scheme;
    c.rate_per_s = 20;
    c.duration_s = 0.4;
    c.seed = 1;
    c.threshold = threshold;  // 0: no exit below the cloud is confident; 2: every exit is
    c.out = out_dir_ + "/results.json";
    c.encrypt = false;
    c.compute = "profile";  // sections cost their profiled time, not a busy host's CPU time
    c.startup_timeout_s = 10;
    c.drain_timeout_s = 10;
    c.record_requests = true;
    return c;
  }

  void TearDown() override {
    std::error_code ignored;  // a failed run may leave more files there
    std::filesystem::remove(out_dir_ + "/results.json", ignored);
    std::filesystem::remove(out_dir_, ignored);
  }

  static std::string* model_dir_;
  std::string out_dir_ = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
};

std::string* RolesTest::model_dir_ = nullptr;

// The planner's view of the tiny model: tiny4's end devices (2 kB) hold the end section only.
mapping::ModelProfile tiny_profile() {
  mapping::ModelProfile profile;
  profile.input_bytes = 784;
  profile.sections = {{"end", mapping::Tier::End, 1900, 13, 0.2, 0.4, 0.5},
                      {"edge", mapping::Tier::Edge, 6000, 200, 0.3, 0.6, 0.5},
                      {"cloud", mapping::Tier::Cloud, 40000, 0, 0.5, 1.0, 0}};
  return profile;
}

data::LabelledImages made_up_samples(int64_t n) {
  torch::manual_seed(7);
  data::LabelledImages samples;
  samples.images = torch::rand({n, 1, 1, 28, 28});
  samples.fine = torch::randint(0, 10, {n}, torch::kInt64);
  return samples;
}

// Every rank of tiny4.json as a role on one MemoryNetwork, each run by its own thread.
class Cluster {
 public:
  explicit Cluster(const RunConfig& config)
      : config_(config),
        topology_(mapping::load_topology(HDDNN_TEST_DATA_DIR "/tiny4.json")),
        network_(std::make_shared<comm::MemoryNetwork>(static_cast<int>(topology_.devices.size()))),
        errors_(topology_.devices.size()) {
    for (int rank = 0; rank < network_size(); ++rank) roles_.push_back(make_role(setup(rank)));
  }
  ~Cluster() { join(); }

  comm::MemoryNetwork& network() { return *network_; }
  int network_size() const { return static_cast<int>(topology_.devices.size()); }

  void start() {
    for (int rank = 0; rank < network_size(); ++rank) {
      threads_.emplace_back([this, rank] {
        try {
          roles_[rank]->run();
        } catch (...) {
          errors_[rank] = std::current_exception();
        }
      });
    }
  }

  /// Waits for every role to end; the results file the coordinator wrote.
  nlohmann::json results() {
    join();
    if (errors_[kCloud]) std::rethrow_exception(errors_[kCloud]);
    std::ifstream in(config_.out);
    return nlohmann::json::parse(in);
  }

  /// Runs until `after` has passed, kills `rank`, and waits for the results.
  nlohmann::json results_with_kill(int rank, std::chrono::milliseconds after) {
    start();
    std::this_thread::sleep_for(after);
    network_->kill(rank);
    return results();
  }

  /// What `rank`'s role ended with ("": it ended normally).
  std::string error_of(int rank) {
    join();
    try {
      if (errors_[rank]) std::rethrow_exception(errors_[rank]);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  }

  /// Whether `rank`'s role ended with an exception of type E.
  template <typename E>
  bool ended_with(int rank) {
    join();
    try {
      if (errors_[rank]) std::rethrow_exception(errors_[rank]);
    } catch (const E&) {
      return true;
    } catch (...) {
    }
    return false;
  }

 private:
  NodeSetup setup(int rank) {
    NodeSetup setup;
    setup.config = config_;
    setup.topology = topology_;
    setup.coordinator = topology_.cloud();
    setup.transport = network_->endpoint(rank, emulated_links(topology_, rank, 1.0));
    const bool cloud = rank == setup.coordinator;
    setup.model = std::make_unique<DeployedModel>(config_.model_dir,
                                                  sections_of(role_of(topology_, rank), config_, cloud), -1);
    setup.profile = tiny_profile();
    if (role_of(topology_, rank) == Role::kEndDevice) setup.requests = made_up_samples(32);
    return setup;
  }

  void join() {
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

  RunConfig config_;
  mapping::Topology topology_;
  std::shared_ptr<comm::MemoryNetwork> network_;
  std::vector<std::unique_ptr<Node>> roles_;
  std::vector<std::thread> threads_;
  std::vector<std::exception_ptr> errors_;
};

uint64_t answered_by(const nlohmann::json& results, int rank) {
  for (const auto& device : results.at("per_device")) {
    if (device.at("rank") == rank) return device.at("answered_here").get<uint64_t>();
  }
  return 0;
}

std::vector<std::string> membership_events(const nlohmann::json& results, int rank) {
  std::vector<std::string> events;
  for (const auto& change : results.at("membership")) {
    if (change.at("rank") == rank) events.push_back(change.at("event"));
  }
  return events;
}

void expect_every_request_answered(const nlohmann::json& results) {
  EXPECT_GT(results.at("offered").get<uint64_t>(), 0u);
  EXPECT_EQ(results.at("answered"), results.at("offered"));
  EXPECT_EQ(results.at("lost"), 0);
  EXPECT_FALSE(results.contains("error")) << results.value("error", nlohmann::json()).dump();
}

TEST_F(RolesTest, EndSchemeAnswersEveryRequestOnItsDevice) {
  Cluster cluster(config("end", 0.0));
  cluster.start();
  const auto results = cluster.results();
  expect_every_request_answered(results);
  EXPECT_DOUBLE_EQ(results.at("exit_fraction").at("end"), 1.0);
  EXPECT_EQ(answered_by(results, kEnd0) + answered_by(results, kEnd1), results.at("answered").get<uint64_t>());
  EXPECT_EQ(results.at("plans").size(), 0u);  // nothing to route
}

TEST_F(RolesTest, EndCloudEscalatesUnsureRequestsToTheCloud) {
  Cluster cluster(config("end-cloud", 0.0));
  cluster.start();
  const auto results = cluster.results();
  expect_every_request_answered(results);
  EXPECT_DOUBLE_EQ(results.at("exit_fraction").at("cloud"), 1.0);
  EXPECT_EQ(answered_by(results, kCloud), results.at("answered").get<uint64_t>());
  EXPECT_EQ(answered_by(results, kEdge), 0u);  // end-cloud has no edge tier
  for (const auto& request : results.at("requests")) EXPECT_GT(request.at("bytes_up").get<uint64_t>(), 0u);
}

TEST_F(RolesTest, ConfidentEndExitAnswersWithoutEscalating) {
  Cluster cluster(config("end-cloud", 2.0));
  cluster.start();
  const auto results = cluster.results();
  expect_every_request_answered(results);
  EXPECT_DOUBLE_EQ(results.at("exit_fraction").at("end"), 1.0);
  EXPECT_EQ(answered_by(results, kCloud), 0u);
  for (const auto& request : results.at("requests")) EXPECT_EQ(request.at("bytes_up"), 0);
}

TEST_F(RolesTest, MappingPlansRouteEscalationsOverTheEdge) {
  Cluster cluster(config("mapping", 0.0));
  cluster.start();
  const auto results = cluster.results();
  expect_every_request_answered(results);
  ASSERT_GE(results.at("plans").size(), 1u);
  const auto& plan = results.at("plans").at(0);
  EXPECT_EQ(plan.at("online"), nlohmann::json({0, 1, 2, 3}));
  // The end devices hold the end section only; the edge takes part of their escalations.
  EXPECT_EQ(plan.at("sections").at("0").at(0), "end");
  EXPECT_NE(plan.at("sections").at("0").at(1), "end");
  EXPECT_EQ(results.at("exit_fraction").at("end"), 0.0);
  EXPECT_DOUBLE_EQ(results.at("exit_fraction").at("cloud"), 1.0);  // threshold 0: only the cloud answers
}

TEST_F(RolesTest, MappingReplansFromObservedLoad) {
  auto c = config("mapping", 0.0);
  c.replan_interval_s = 0.1;
  Cluster cluster(c);
  cluster.start();
  const auto results = cluster.results();
  expect_every_request_answered(results);
  const auto& plans = results.at("plans");
  ASSERT_GE(plans.size(), 3u);  // the first, then one per 100 ms of a run of about 0.5 s
  for (size_t i = 1; i < plans.size(); ++i) {
    EXPECT_GT(plans[i].at("at_ms").get<double>(), plans[i - 1].at("at_ms").get<double>());
    EXPECT_TRUE(plans[i].contains("predicted_ms"));
  }
}

TEST_F(RolesTest, LostWorkFrameIsSentAgainAndAnswered) {
  Cluster cluster(config("end-cloud", 0.0));
  cluster.network().drop_next(kEnd0, kCloud, comm::MessageType::kWork);
  cluster.start();
  const auto results = cluster.results();
  expect_every_request_answered(results);
  EXPECT_EQ(cluster.network().lost(), 1u);
  EXPECT_EQ(results.at("crypto").at("resent"), 1);
  uint64_t resent_by_end0 = 0;
  for (const auto& request : results.at("requests")) {
    if (request.at("origin") == kEnd0) resent_by_end0 += request.at("resends").get<uint64_t>();
  }
  EXPECT_EQ(resent_by_end0, 1u);
}

TEST_F(RolesTest, LostAnswerIsRecoveredByResendingTheWork) {
  Cluster cluster(config("end-cloud", 0.0));
  cluster.network().drop_next(kCloud, kEnd1, comm::MessageType::kAnswer);
  cluster.start();
  const auto results = cluster.results();
  expect_every_request_answered(results);
  EXPECT_EQ(results.at("crypto").at("resent"), 1);
  EXPECT_EQ(results.at("duplicates"), 0);
}

TEST_F(RolesTest, DeadEdgeLeavesAndItsWorkIsReassigned) {
  Cluster cluster(config("mapping", 0.0));
  const auto results = cluster.results_with_kill(kEdge, std::chrono::milliseconds(150));
  EXPECT_TRUE(cluster.ended_with<CommError>(kEdge));
  EXPECT_EQ(cluster.error_of(kEnd0), "");
  EXPECT_EQ(cluster.error_of(kEnd1), "");
  expect_every_request_answered(results);
  ASSERT_EQ(results.at("failures").size(), 1u);
  EXPECT_EQ(results.at("failures").at(0).at("rank"), kEdge);
  EXPECT_EQ(membership_events(results, kEdge), std::vector<std::string>{"leave"});
  // The plan made on its death routes around it.
  const auto& last_plan = results.at("plans").back();
  EXPECT_EQ(last_plan.at("online"), nlohmann::json({0, 1, 3}));
  for (const auto& [device, routing] : last_plan.at("routing").items()) EXPECT_FALSE(routing.contains("2"));
}

TEST_F(RolesTest, CutOffEdgeLeavesAndRejoins) {
  auto c = config("mapping", 0.0);
  c.duration_s = 1.2;  // still offering when it comes back
  Cluster cluster(c);
  cluster.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  cluster.network().cut(kEdge);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // > 3 heartbeat periods
  cluster.network().heal(kEdge);
  const auto results = cluster.results();
  expect_every_request_answered(results);
  EXPECT_EQ(membership_events(results, kEdge), (std::vector<std::string>{"leave", "join"}));
  ASSERT_EQ(results.at("failures").size(), 1u);
  EXPECT_GT(results.at("failures").at(0).at("rejoined_at_ms").get<double>(),
            results.at("failures").at(0).at("detected_at_ms").get<double>());
  EXPECT_EQ(results.at("plans").back().at("online"), nlohmann::json({0, 1, 2, 3}));
}

TEST_F(RolesTest, DeadEndDeviceRequestsAreCountedLostWithIt) {
  auto c = config("end-cloud", 0.0);
  c.duration_s = 1;  // it dies while offering, after heartbeats counted its arrivals
  Cluster cluster(c);
  const auto results = cluster.results_with_kill(kEnd1, std::chrono::milliseconds(500));
  EXPECT_TRUE(cluster.ended_with<CommError>(kEnd1));
  EXPECT_FALSE(results.contains("error"));  // end0 still served
  EXPECT_GT(results.at("lost_with_device").get<uint64_t>(), 0u);
  EXPECT_EQ(results.at("lost"), 0);
  for (const auto& request : results.at("requests")) {
    EXPECT_EQ(request.at("lost_with_device").get<bool>(), request.at("origin") == kEnd1);
  }
}

TEST_F(RolesTest, RunWithEveryEndDeviceLostIsAFailure) {
  Cluster cluster(config("end", 0.0));
  cluster.network().kill(kEnd0);
  cluster.network().kill(kEnd1);
  cluster.start();
  const auto results = cluster.results();
  ASSERT_TRUE(results.contains("error"));
  EXPECT_EQ(results.at("error").at("type"), "RunFailedError");
  EXPECT_EQ(results.at("failures").size(), 2u);
}

TEST_F(RolesTest, RoleWithoutAModelIsRefused) {
  NodeSetup setup;
  setup.config = config("end", 0.0);
  setup.topology = mapping::load_topology(HDDNN_TEST_DATA_DIR "/tiny4.json");
  setup.coordinator = setup.topology.cloud();
  auto network = std::make_shared<comm::MemoryNetwork>(4);
  setup.transport = network->endpoint(kEnd0);
  EXPECT_THROW(make_role(std::move(setup)), ConfigError);
}

}  // namespace
}  // namespace hddnn::runtime
