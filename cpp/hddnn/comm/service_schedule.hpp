// An emulated device's compute as one FIFO server, the way the simulator models a
// device: a section ready at run time `ready_ms` starts when the device is free (at
// once if it already is), lasts its emulated time (measured or profiled time / speed),
// and keeps the device busy until it ends. The caller does the real work, then sleeps
// until the returned end, so the host's own handling between sections (decoding,
// polling, sealing) runs inside emulated time whenever it fits.
//
// Contract: times are in ms on one clock (the run's emulated clock). finish() returns
// the run time at which the section ends; when the host did the real work later than
// that (`now_ms` beyond the end), the device is free only from `now_ms`. reset() forgets
// the previous section (a restarted or re-aligned clock). finish() throws ConfigError
// on a negative or non-finite emulated time. Not thread-safe: one device, one thread.
#pragma once

#include <limits>

namespace hddnn::comm {

class ServiceSchedule {
 public:
  double finish(double ready_ms, double emulated_ms, double now_ms);
  void reset() { free_at_ms_ = kIdle; }

 private:
  static constexpr double kIdle = -std::numeric_limits<double>::infinity();
  double free_at_ms_ = kIdle;
};

}  // namespace hddnn::comm
