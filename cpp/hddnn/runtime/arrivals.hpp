// Poisson request arrivals for one request stream: exponential gaps at `rate_per_s`
// over `duration_s`, each drawing a test-set sample index. Seeded by (seed, stream):
// an end device's stream is its rank, so the live runtime and the simulator offer
// the same requests; the cameras of a multi-view setting share their aggregator's.
//
// ArrivalSchedule releases a stream's arrivals as the run clock passes them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hddnn::runtime {

struct Arrival {
  double at_ms;
  int64_t sample;
};

std::vector<Arrival> poisson_arrivals(double rate_per_s, double duration_s, int64_t samples, uint64_t seed, int stream);

class ArrivalSchedule {
 public:
  ArrivalSchedule() = default;
  explicit ArrivalSchedule(std::vector<Arrival> arrivals) : arrivals_(std::move(arrivals)) {}

  /// Indices of the arrivals due by `now_ms` not released before, in order.
  std::vector<uint32_t> release(double now_ms);
  /// Releases every arrival up to `index` (included) now, whatever the clock says: a
  /// peer's message about it proves it arrived (run clocks of ranks differ slightly).
  std::vector<uint32_t> release_through(uint32_t index);
  const Arrival& operator[](uint32_t index) const { return arrivals_.at(index); }
  size_t size() const { return arrivals_.size(); }
  size_t released() const { return next_; }
  bool done() const { return next_ == arrivals_.size(); }
  /// Time until the next arrival, clamped to [0, at_most_ms] (at_most_ms when none is left).
  double wait_ms(double now_ms, double at_most_ms) const;

 private:
  std::vector<Arrival> arrivals_;
  size_t next_ = 0;
};

}  // namespace hddnn::runtime
