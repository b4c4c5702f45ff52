// Emulated compute as one FIFO server: the schedule's arithmetic, and its fidelity on a
// real clock (a section lasts its emulated time within 10%, back to back in a queue).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include "hddnn/comm/service_schedule.hpp"
#include "hddnn/errors.hpp"

namespace {

using namespace hddnn;
using comm::ServiceSchedule;
using Clock = std::chrono::steady_clock;

TEST(ServiceSchedule, IdleDeviceStartsWhenTheWorkIsReady) {
  ServiceSchedule device;
  EXPECT_DOUBLE_EQ(device.finish(10.0, 4.0, 10.5), 14.0);
  EXPECT_DOUBLE_EQ(device.finish(30.0, 2.0, 30.1), 32.0);  // idle since 14: starts at 30
}

TEST(ServiceSchedule, BusyDeviceTakesQueuedWorkBackToBack) {
  ServiceSchedule device;
  EXPECT_DOUBLE_EQ(device.finish(0.0, 5.0, 0.2), 5.0);
  // Ready at 1 and 2 while busy: they start at 5 and 10, whatever the host did in between.
  EXPECT_DOUBLE_EQ(device.finish(1.0, 5.0, 5.3), 10.0);
  EXPECT_DOUBLE_EQ(device.finish(2.0, 5.0, 10.4), 15.0);
}

TEST(ServiceSchedule, HostThatFellBehindFreesTheDeviceLate) {
  ServiceSchedule device;
  EXPECT_DOUBLE_EQ(device.finish(0.0, 1.0, 3.0), 1.0);  // the real work took until 3
  EXPECT_DOUBLE_EQ(device.finish(0.5, 1.0, 3.2), 4.0);  // so the next starts at 3, not 1
}

TEST(ServiceSchedule, ResetForgetsThePreviousSection) {
  ServiceSchedule device;
  device.finish(0.0, 100.0, 1.0);
  device.reset();
  EXPECT_DOUBLE_EQ(device.finish(2.0, 1.0, 2.5), 3.0);
}

TEST(ServiceSchedule, RejectsNegativeOrNonFiniteTimes) {
  ServiceSchedule device;
  EXPECT_THROW(device.finish(0.0, -1.0, 0.0), ConfigError);
  EXPECT_THROW(device.finish(0.0, std::nan(""), 0.0), ConfigError);
  EXPECT_THROW(device.finish(0.0, INFINITY, 0.0), ConfigError);
}

double ms_since(Clock::time_point zero) {
  return std::chrono::duration<double, std::milli>(Clock::now() - zero).count();
}

// `sections` sections of `work_ms` real work each, emulated at `speed`, all ready at 0
// (a queue) or each when the previous ended (one at a time); returns the wall ms taken.
double serve(int sections, double work_ms, double speed) {
  ServiceSchedule device;
  const auto zero = Clock::now();
  for (int i = 0; i < sections; ++i) {
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(work_ms));  // the real forward
    const double done = device.finish(0.0, work_ms / speed, ms_since(zero));
    std::this_thread::sleep_until(
        zero + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(done)));
  }
  return ms_since(zero);
}

// On a shared host, oversleeping is the only noise, so the closest of 3 trials counts.
TEST(ServiceSchedule, RealClockSectionsLastTimeOverSpeedWithinTenPercent) {
  for (double speed : {0.25, 0.5}) {
    for (int sections : {1, 8}) {
      double closest = 1e9;
      for (int trial = 0; trial < 3; ++trial) {
        const double expected = sections * 4.0 / speed;
        closest = std::min(closest, std::abs(serve(sections, 4.0, speed) / expected - 1.0));
      }
      EXPECT_LE(closest, 0.10) << "speed " << speed << ", " << sections << " sections";
    }
  }
}

}  // namespace
