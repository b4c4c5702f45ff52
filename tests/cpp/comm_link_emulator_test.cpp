// Link emulator: the release-time arithmetic on a virtual clock, and fidelity
// against a real clock (latency and bandwidth within 5% of the target).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "hddnn/comm/link_emulator.hpp"
#include "hddnn/errors.hpp"

namespace {

using namespace hddnn;
using namespace hddnn::comm;
using Clock = LinkEmulator::Clock;
using std::chrono::microseconds;
using std::chrono::milliseconds;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

TEST(LinkEmulator, ReleaseIsSerialisationPlusLatency) {
  LinkEmulator emulator({{1, LinkSpec{10.0, 8.0}}});  // 8 Mbit/s: 1000 bytes take 1 ms
  Clock::time_point t0{};
  EXPECT_NEAR(ms_between(t0, emulator.submit(1, std::vector<uint8_t>(1000), t0)), 11.0, 1e-6);
  // The link is busy until t0+1ms: the next frame queues behind it.
  EXPECT_NEAR(ms_between(t0, emulator.submit(1, std::vector<uint8_t>(2000), t0)), 13.0, 1e-6);
  // Submitted after the link went idle: starts at once.
  Clock::time_point later = t0 + milliseconds(100);
  EXPECT_NEAR(ms_between(t0, emulator.submit(1, std::vector<uint8_t>(1000), later)), 111.0, 1e-6);
}

TEST(LinkEmulator, MeasurementFramesTakeLatencyButNoLinkTime) {
  LinkEmulator emulator({{1, LinkSpec{10.0, 8.0}}});
  Clock::time_point t0{};
  emulator.submit(1, std::vector<uint8_t>(1000), t0);  // link busy until 1 ms
  // 3 MB of report: queued behind the busy link, released after the latency only.
  EXPECT_NEAR(ms_between(t0, emulator.submit(1, std::vector<uint8_t>(3000000), t0, false)), 11.0, 1e-6);
  // The next frame is not held back by the report, nor released before it.
  EXPECT_NEAR(ms_between(t0, emulator.submit(1, std::vector<uint8_t>(1000), t0)), 12.0, 1e-6);
}

TEST(LinkEmulator, PeersWithoutSpecAreNotDelayed) {
  LinkEmulator emulator({{1, LinkSpec{10.0, 8.0}}});
  Clock::time_point t0{};
  EXPECT_EQ(emulator.submit(2, std::vector<uint8_t>(1000), t0), t0);
  EXPECT_TRUE(emulator.emulates(1));
  EXPECT_FALSE(emulator.emulates(2));
}

TEST(LinkEmulator, TakesDueFramesInOrderAndDrops) {
  LinkEmulator emulator({{1, LinkSpec{5.0, 8.0}}, {2, LinkSpec{1.0, 8.0}}});
  Clock::time_point t0{};
  emulator.submit(1, {1}, t0);
  emulator.submit(1, {2}, t0);
  emulator.submit(2, {3}, t0);
  EXPECT_EQ(emulator.queued(), 3u);
  EXPECT_TRUE(emulator.take_due(t0).empty());
  auto due = emulator.take_due(t0 + milliseconds(2));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].peer, 2);
  EXPECT_EQ(*emulator.next_release(), t0 + microseconds(5001));
  due = emulator.take_due(t0 + milliseconds(6));
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].wire[0], 1);
  EXPECT_EQ(due[1].wire[0], 2);
  emulator.submit(1, {4}, t0);
  EXPECT_EQ(emulator.drop(1), 1u);
  EXPECT_EQ(emulator.queued(), 0u);
  EXPECT_FALSE(emulator.next_release().has_value());
}

TEST(LinkEmulator, RejectsInvalidSpecsNamingThePeer) {
  try {
    LinkEmulator emulator({{4, LinkSpec{1.0, 0.0}}});
    FAIL();
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("rank 4"), std::string::npos);
  }
  EXPECT_THROW(LinkEmulator({{1, LinkSpec{-1.0, 10.0}}}), ConfigError);
}

// Drives the emulator with the real clock, as the transport's progress thread does,
// and returns the time each frame came out.
std::vector<Clock::time_point> drain_real_time(LinkEmulator& emulator) {
  std::vector<Clock::time_point> out;
  while (emulator.queued() > 0) {
    std::this_thread::sleep_until(*emulator.next_release());
    size_t due = emulator.take_due(Clock::now()).size();
    out.insert(out.end(), due, Clock::now());
  }
  return out;
}

// On a shared host, noise only ever delays a frame and the emulator never releases one
// early, so the least-delayed of a few trials is the emulator's own figure.

TEST(LinkEmulator, RealClockLatencyWithinFivePercent) {
  const double target = 20.0 + 100 * 8 / 1e6 * 1e3 / 1000.0;  // latency + serialising 100 bytes
  double fastest = 1e9;
  for (int trial = 0; trial < 5; ++trial) {
    LinkEmulator emulator({{1, LinkSpec{20.0, 1000.0}}});
    auto start = Clock::now();
    emulator.submit(1, std::vector<uint8_t>(100), start);
    fastest = std::min(fastest, ms_between(start, drain_real_time(emulator).at(0)));
  }
  EXPECT_GE(fastest, target);  // never early
  EXPECT_NEAR(fastest, target, target * 0.05) << fastest;
}

TEST(LinkEmulator, RealClockBandwidthWithinFivePercent) {
  const double mbps = 100.0, latency_ms = 2.0;
  const size_t frame = 64 * 1024, frames = 20;  // 10.5 Mbit: ~105 ms
  double best = 0;
  for (int trial = 0; trial < 3; ++trial) {
    LinkEmulator emulator({{1, LinkSpec{latency_ms, mbps}}});
    auto start = Clock::now();
    for (size_t i = 0; i < frames; ++i) emulator.submit(1, std::vector<uint8_t>(frame), start);
    auto out = drain_real_time(emulator);
    ASSERT_EQ(out.size(), frames);
    double serialising_s = (ms_between(start, out.back()) - latency_ms) / 1e3;
    best = std::max(best, frames * frame * 8 / serialising_s / 1e6);
  }
  EXPECT_NEAR(best, mbps, mbps * 0.05) << best;
}

}  // namespace
