#include "hddnn/comm/compute_stretch.hpp"

#include <cmath>
#include <string>
#include <thread>

#include "hddnn/errors.hpp"

namespace hddnn::comm {

std::chrono::nanoseconds stretch(std::chrono::nanoseconds measured, double speed) {
  if (!(speed > 0.0) || !std::isfinite(speed))
    throw ConfigError("compute stretch: speed " + std::to_string(speed) + ", expected a positive number");
  auto target = std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(measured.count()) / speed));
  auto extra = target - measured;
  if (extra <= std::chrono::nanoseconds::zero()) return std::chrono::nanoseconds::zero();
  auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_until(start + extra);
  return std::chrono::steady_clock::now() - start;
}

}  // namespace hddnn::comm
