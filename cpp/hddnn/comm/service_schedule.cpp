#include "hddnn/comm/service_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "hddnn/errors.hpp"

namespace hddnn::comm {

double ServiceSchedule::finish(double ready_ms, double emulated_ms, double now_ms) {
  if (!(emulated_ms >= 0) || !std::isfinite(emulated_ms)) {
    throw ConfigError("emulated compute: section time must be a finite number >= 0 ms, got " +
                      std::to_string(emulated_ms));
  }
  const double done_ms = std::max(ready_ms, free_at_ms_) + emulated_ms;
  free_at_ms_ = std::max(done_ms, now_ms);
  return done_ms;
}

}  // namespace hddnn::comm
