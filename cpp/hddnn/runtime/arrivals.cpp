#include "hddnn/runtime/arrivals.hpp"

#include <algorithm>
#include <random>

#include "hddnn/errors.hpp"

namespace hddnn::runtime {

std::vector<Arrival> poisson_arrivals(double rate_per_s, double duration_s, int64_t samples, uint64_t seed,
                                      int stream) {
  if (rate_per_s < 0) throw ConfigError("rate: must be >= 0, got " + std::to_string(rate_per_s));
  if (samples <= 0) throw ConfigError("arrivals: the request data set is empty");
  std::vector<Arrival> out;
  if (rate_per_s == 0) return out;
  std::mt19937_64 rng(seed * 1000003ULL + static_cast<uint64_t>(stream));
  std::exponential_distribution<double> gap_ms(rate_per_s / 1000.0);
  std::uniform_int_distribution<int64_t> pick(0, samples - 1);
  for (double t = gap_ms(rng); t < duration_s * 1000.0; t += gap_ms(rng)) out.push_back({t, pick(rng)});
  return out;
}

std::vector<uint32_t> ArrivalSchedule::release(double now_ms) {
  std::vector<uint32_t> due;
  while (next_ < arrivals_.size() && arrivals_[next_].at_ms <= now_ms) due.push_back(static_cast<uint32_t>(next_++));
  return due;
}

std::vector<uint32_t> ArrivalSchedule::release_through(uint32_t index) {
  std::vector<uint32_t> due;
  while (next_ < arrivals_.size() && next_ <= index) due.push_back(static_cast<uint32_t>(next_++));
  return due;
}

double ArrivalSchedule::wait_ms(double now_ms, double at_most_ms) const {
  if (done()) return at_most_ms;
  return std::clamp(arrivals_[next_].at_ms - now_ms, 0.0, at_most_ms);
}

}  // namespace hddnn::runtime
