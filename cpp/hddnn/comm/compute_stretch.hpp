// Compute stretch: makes this host's compute last as long as it would on a device
// of relative speed `speed` (topology files give speed; 1.0 = this host).
//
// Contract: stretch(measured, speed) sleeps so that measured + slept equals
// measured / speed, and returns the time slept. A device faster than this host
// (speed > 1) cannot be emulated by sleeping: nothing is slept and zero returned.
// Throws ConfigError when speed is not a positive finite number.
#pragma once

#include <chrono>
#include <type_traits>

namespace hddnn::comm {

std::chrono::nanoseconds stretch(std::chrono::nanoseconds measured, double speed);

/// Runs work() and stretches its duration; returns what work() returns.
template <typename Work>
auto run_stretched(double speed, Work&& work) {
  auto start = std::chrono::steady_clock::now();
  if constexpr (std::is_void_v<decltype(work())>) {
    work();
    stretch(std::chrono::steady_clock::now() - start, speed);
  } else {
    auto result = work();
    stretch(std::chrono::steady_clock::now() - start, speed);
    return result;
  }
}

}  // namespace hddnn::comm
