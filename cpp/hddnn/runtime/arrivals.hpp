// Poisson request arrivals for one end device: exponential gaps at `rate_per_s`
// over `duration_s`, each drawing a test-set sample index. Seeded by (seed, rank),
// so the live runtime and the simulator offer the same requests.
#pragma once

#include <cstdint>
#include <vector>

namespace hddnn::runtime {

struct Arrival {
  double at_ms;
  int64_t sample;
};

std::vector<Arrival> poisson_arrivals(double rate_per_s, double duration_s, int64_t samples, uint64_t seed,
                                      int rank);

}  // namespace hddnn::runtime
