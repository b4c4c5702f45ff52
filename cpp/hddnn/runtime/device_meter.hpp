// Measures one device over a run: emulated busy time, the time-averaged and the
// largest queue length, energy from the topology's power and radio figures, and
// the process's peak resident memory. Single-threaded: owned by the role's loop.
#pragma once

#include <chrono>
#include <cstdint>

#include "hddnn/runtime/outcome.hpp"
#include "hddnn/runtime/run_clock.hpp"

namespace hddnn::runtime {

struct PowerModel {
  double active_w = 0, idle_w = 0, radio_nj_per_byte = 0;
};

class DeviceMeter {
 public:
  using Clock = std::chrono::steady_clock;

  /// Measures from the clock's zero, in its (emulated) time.
  DeviceMeter(RunClock clock, PowerModel power);
  void add_busy(double ms) { busy_ms_ += ms; }
  /// Records that the queue holds `length` items from now on.
  void queue_changed(size_t length);
  /// Final figures; bytes come from the transport's link statistics.
  DeviceStats finish(int rank, uint64_t bytes_sent, uint64_t bytes_received, uint64_t messages_sent);

 private:
  double since_start_ms() const;

  RunClock clock_;
  PowerModel power_;
  double busy_ms_ = 0;
  double queue_area_ = 0, queue_since_ms_ = 0;
  size_t queue_length_ = 0, queue_max_ = 0;
};

/// Peak resident set of this process in MB (VmHWM), 0 where unknown.
double peak_resident_mb();

}  // namespace hddnn::runtime
