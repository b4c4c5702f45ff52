// The runtime's bookkeeping for request streams and multi-view settings (torch-free):
// arrival schedules, request ledgers, view gathering, who aggregates whom, run clocks.
#include <gtest/gtest.h>

#include "hddnn/errors.hpp"
#include "hddnn/mapping/topology.hpp"
#include "hddnn/runtime/arrivals.hpp"
#include "hddnn/runtime/multi_view.hpp"
#include "hddnn/runtime/request_ledger.hpp"
#include "hddnn/runtime/run_clock.hpp"
#include "hddnn/runtime/view_gathering.hpp"

namespace {

using namespace hddnn;
using namespace hddnn::runtime;

TEST(ArrivalSchedule, ReleasesInOrderAsTheClockPasses) {
  ArrivalSchedule schedule({{10, 0}, {20, 1}, {30, 2}, {40, 3}});
  EXPECT_TRUE(schedule.release(5).empty());
  EXPECT_DOUBLE_EQ(schedule.wait_ms(5, 100), 5);
  EXPECT_EQ(schedule.release(20), (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(schedule.release_through(2), (std::vector<uint32_t>{2}));  // a peer saw it first
  EXPECT_TRUE(schedule.release(30).empty());
  EXPECT_FALSE(schedule.done());
  EXPECT_EQ(schedule.release(1000), (std::vector<uint32_t>{3}));
  EXPECT_TRUE(schedule.done());
  EXPECT_EQ(schedule.released(), 4u);
  EXPECT_DOUBLE_EQ(schedule.wait_ms(1000, 7), 7);
}

TEST(RequestLedger, FirstAnswerCountsAndDuplicatesAreDropped) {
  RequestLedger ledger(3, 250);
  ledger.open(0, 12.5, 4711, 9);
  ledger.open(1, 20, 12, 1);
  EXPECT_THROW(ledger.open(3, 30, 13, 1), HddnnError);  // out of order
  EXPECT_FALSE(ledger.all_answered());
  EXPECT_TRUE(ledger.answer({0, 1, 1, 9, 2}, 40));
  EXPECT_FALSE(ledger.answer({0, 2, 0, 7, 7}, 50));  // duplicate
  EXPECT_FALSE(ledger.answer({5, 2, 0, 7, 7}, 50));  // never offered
  const auto& r = ledger.at(0);
  EXPECT_EQ(r.id, (uint64_t(3) << 32) | 0);
  EXPECT_EQ(r.origin, 3);
  EXPECT_EQ(r.sample, 4711);
  EXPECT_EQ(r.answers, 2);
  EXPECT_EQ(r.fine_pred, 9);
  EXPECT_EQ(r.fine_label, 9);
  EXPECT_EQ(r.answer_set, 1);
  EXPECT_EQ(r.answer_pred, 2);
  EXPECT_EQ(r.exit, Tier::kEdge);
  EXPECT_DOUBLE_EQ(r.answered_ms, 40);
  EXPECT_DOUBLE_EQ(r.deadline_ms, 250);
  EXPECT_TRUE(ledger.answer({1, 2, 0, 1, 1}, 60));
  EXPECT_TRUE(ledger.all_answered());
  EXPECT_EQ(ledger.records().size(), 2u);
}

TEST(ViewGathering, ReadyWhenEveryExpectedViewCame) {
  ViewGathering gathering(3, {0, 1, 2}, 50);
  gathering.add(7, 0, {1}, 0);
  gathering.add(7, 2, {3}, 1);
  EXPECT_TRUE(gathering.take_ready(2).empty());
  gathering.add(7, 1, {2}, 3);
  auto ready = gathering.take_ready(3);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].request, 7u);
  EXPECT_EQ(ready[0].present, 3u);
  EXPECT_EQ(ready[0].views[1], std::vector<uint8_t>{2});
  EXPECT_TRUE(gathering.empty());
  gathering.add(7, 1, {2}, 4);  // after release: late, dropped
  EXPECT_EQ(gathering.late_views(), 1u);
  EXPECT_TRUE(gathering.take_ready(100).empty());
}

TEST(ViewGathering, MissingViewsAreAbsentAfterTheWait) {
  ViewGathering gathering(3, {0, 1, 2}, 50);
  gathering.add(1, 0, {1}, 10);
  gathering.add(2, 0, {1}, 30);
  gathering.add(1, 0, {9}, 31);  // a second copy keeps the first
  EXPECT_TRUE(gathering.take_ready(59).empty());
  auto ready = gathering.take_ready(60);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].request, 1u);
  EXPECT_EQ(ready[0].present, 1u);
  EXPECT_EQ(ready[0].views[0], std::vector<uint8_t>{1});
  EXPECT_TRUE(ready[0].views[1].empty() && ready[0].views[2].empty());
}

TEST(ViewGathering, ADeadDeviceIsNoLongerAwaited) {
  ViewGathering gathering(2, {0, 1}, 1000);
  gathering.add(4, 0, {1}, 0);
  gathering.add(5, 0, {1}, 1);
  EXPECT_TRUE(gathering.take_ready(2).empty());
  gathering.drop_view(1);
  auto ready = gathering.take_ready(3);
  ASSERT_EQ(ready.size(), 2u);
  EXPECT_EQ(ready[0].request, 4u);
  EXPECT_EQ(ready[1].request, 5u);
  EXPECT_EQ(gathering.expected(), std::set<int>{0});
}

TEST(ViewGathering, ViewsOutOfRangeAreRejected) {
  EXPECT_THROW(ViewGathering(2, {0, 2}, 10), ConfigError);
  ViewGathering gathering(2, {0, 1}, 10);
  EXPECT_THROW(gathering.add(1, 2, {1}, 0), CommError);
}

TEST(MultiView, Ddnn6CamerasSendToTheEdgeOrTheCloud) {
  const auto topology = mapping::load_topology(mapping::shipped_topology_dir() + "/ddnn6.json");
  ASSERT_TRUE(is_multi_view(topology));
  const int edge = topology.index_of("edge"), cloud = topology.cloud();
  const auto at_edge = cameras_of(topology, "mapping", edge);
  ASSERT_EQ(at_edge.size(), 6u);
  for (auto [rank, view] : at_edge) EXPECT_EQ(topology.devices[rank].views.front(), view);
  EXPECT_EQ(record_owners(topology, "mapping"), std::vector<int>{edge});
  EXPECT_EQ(record_owners(topology, "end-cloud"), std::vector<int>{cloud});
  EXPECT_EQ(cameras_of(topology, "end-cloud", cloud).size(), 6u);
  EXPECT_TRUE(cameras_of(topology, "end-cloud", edge).empty());
}

TEST(MultiView, Lab7IsSingleViewAndMixedOrRepeatedViewsAreRejected) {
  const auto lab7 = mapping::load_topology(mapping::shipped_topology_dir() + "/lab7.json");
  EXPECT_FALSE(is_multi_view(lab7));
  EXPECT_EQ(record_owners(lab7, "mapping"), lab7.of_tier(mapping::Tier::End));
  auto mixed = mapping::load_topology(mapping::shipped_topology_dir() + "/ddnn6.json");
  mixed.devices[0].views.clear();
  EXPECT_THROW(is_multi_view(mixed), ConfigError);
  auto repeated = mapping::load_topology(mapping::shipped_topology_dir() + "/ddnn6.json");
  repeated.devices[1].views = repeated.devices[0].views;
  EXPECT_THROW(cameras_of(repeated, "mapping", repeated.index_of("edge")), ConfigError);
}

}  // namespace

namespace {

TEST(RunClock, DilatedTimeRunsSlowerAndConvertsBetweenZeros) {
  using hddnn::runtime::RunClock;
  RunClock clock(10.0);
  EXPECT_THROW(RunClock(0.5), hddnn::ConfigError);
  EXPECT_DOUBLE_EQ(clock.unix_ms_at(50), clock.zero_unix_ms() + 500);
  // A peer whose zero was 200 wall ms later: its run time 30 is 30 + 20 here.
  EXPECT_DOUBLE_EQ(clock.from_clock_at(clock.zero_unix_ms() + 200, 30), 50);
  EXPECT_EQ(clock.wall_duration(2),
            std::chrono::duration_cast<RunClock::Clock::duration>(std::chrono::milliseconds(20)));
  clock.align(clock.zero_unix_ms() - 1000);  // the zero one wall second ago: 100 emulated ms
  EXPECT_NEAR(clock.now_ms(), 100, 20);
}

}  // namespace
