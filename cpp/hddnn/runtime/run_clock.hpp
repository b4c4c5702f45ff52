// A run's clock: milliseconds since the run's zero, in emulated time.
//
// With a time scale K >= 1 (time dilation) emulated time runs K times slower than
// the wall clock: every emulated duration (a section's compute, a link's delay)
// lasts K times longer on the wall, and everything measured on this clock (arrival
// and answer times, busy time, heartbeat periods) is in emulated milliseconds. A
// small host can then serve a topology's request rates, with its own per-message
// overhead (decoding, sealing, scheduling) K times smaller in emulated time, as on
// a host K times faster. K = 1, the default, is real time.
// Ranks share a zero through its wall-clock instant (Unix ms): align().
#pragma once

#include <chrono>

namespace hddnn::runtime {

class RunClock {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RunClock(double scale = 1.0);
  /// The zero becomes now.
  void restart();
  /// The zero becomes the wall-clock instant `zero_unix_ms` (shared with a peer).
  void align(double zero_unix_ms);
  double now_ms() const;
  double scale() const { return scale_; }
  double zero_unix_ms() const { return zero_unix_ms_; }
  /// The wall-clock instant (Unix ms) of run time `run_ms`.
  double unix_ms_at(double run_ms) const { return zero_unix_ms_ + run_ms * scale_; }
  /// Converts a time on a clock whose zero was at `other_zero_unix_ms` (same scale) to this one.
  double from_clock_at(double other_zero_unix_ms, double run_ms) const;
  /// How long `emulated_ms` lasts on the wall.
  Clock::duration wall_duration(double emulated_ms) const;
  /// The steady-clock instant of run time `run_ms`.
  Clock::time_point wall_at(double run_ms) const { return zero_ + wall_duration(run_ms); }

 private:
  double scale_;
  Clock::time_point zero_;
  double zero_unix_ms_ = 0;
};

}  // namespace hddnn::runtime
