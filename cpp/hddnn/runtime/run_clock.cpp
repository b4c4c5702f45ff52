#include "hddnn/runtime/run_clock.hpp"

#include <string>

#include "hddnn/errors.hpp"

namespace hddnn::runtime {
namespace {

double unix_now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

RunClock::RunClock(double scale) : scale_(scale) {
  if (!(scale >= 1.0)) throw ConfigError("time_scale: must be >= 1, got " + std::to_string(scale));
  restart();
}

void RunClock::restart() {
  zero_ = Clock::now();
  zero_unix_ms_ = unix_now_ms();
}

void RunClock::align(double zero_unix_ms) {
  zero_ = Clock::now() - std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double, std::milli>(unix_now_ms() - zero_unix_ms));
  zero_unix_ms_ = zero_unix_ms;
}

double RunClock::now_ms() const {
  return std::chrono::duration<double, std::milli>(Clock::now() - zero_).count() / scale_;
}

double RunClock::from_clock_at(double other_zero_unix_ms, double run_ms) const {
  return run_ms + (other_zero_unix_ms - zero_unix_ms_) / scale_;
}

RunClock::Clock::duration RunClock::wall_duration(double emulated_ms) const {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(emulated_ms * scale_));
}

}  // namespace hddnn::runtime
