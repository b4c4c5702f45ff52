// Compute stretch: total time = measured / speed within 10%.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <thread>

#include "hddnn/comm/compute_stretch.hpp"
#include "hddnn/errors.hpp"

namespace {

using namespace hddnn;
using namespace std::chrono;
using comm::run_stretched;

double as_ms(nanoseconds d) { return duration<double, std::milli>(d).count(); }

// Runs ~work_ms of "compute" stretched to `speed`; returns {work measured, total} in ms.
std::pair<double, double> stretched_ms(double work_ms, double speed) {
  double measured = 0;
  auto start = steady_clock::now();
  run_stretched(speed, [&] {
    auto work_start = steady_clock::now();
    std::this_thread::sleep_for(duration<double, std::milli>(work_ms));
    measured = as_ms(steady_clock::now() - work_start);
  });
  return {measured, as_ms(steady_clock::now() - start)};
}

// On a shared host, oversleeping is the only noise, so the closest of 3 trials counts.
TEST(ComputeStretch, SlowDeviceTakesMeasuredOverSpeedWithinTenPercent) {
  for (double speed : {0.25, 0.5}) {
    double closest = 1e9;
    for (int trial = 0; trial < 3; ++trial) {
      auto [work, total] = stretched_ms(10.0, speed);
      closest = std::min(closest, std::abs(total / (work / speed) - 1.0));
    }
    EXPECT_LE(closest, 0.10) << "speed " << speed;
  }
}

TEST(ComputeStretch, ReturnsWhatWasSlept) {
  auto start = steady_clock::now();
  auto slept = comm::stretch(milliseconds(10), 0.5);
  double elapsed = as_ms(steady_clock::now() - start);
  EXPECT_GE(as_ms(slept), 10.0);
  EXPECT_LE(as_ms(slept), elapsed);
}

TEST(ComputeStretch, FasterDeviceIsNotSlept) {
  EXPECT_EQ(comm::stretch(milliseconds(10), 2.0), nanoseconds::zero());
  EXPECT_EQ(comm::stretch(milliseconds(10), 1.0), nanoseconds::zero());
}

TEST(ComputeStretch, ReturnsTheWorkResult) {
  EXPECT_EQ(run_stretched(1.0, [] { return 42; }), 42);
}

TEST(ComputeStretch, RejectsNonPositiveSpeed) {
  EXPECT_THROW(comm::stretch(milliseconds(1), 0.0), ConfigError);
  EXPECT_THROW(comm::stretch(milliseconds(1), -1.0), ConfigError);
  EXPECT_THROW(comm::stretch(milliseconds(1), std::nan("")), ConfigError);
}

}  // namespace
