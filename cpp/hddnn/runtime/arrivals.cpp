#include "hddnn/runtime/arrivals.hpp"

#include <random>

#include "hddnn/errors.hpp"

namespace hddnn::runtime {

std::vector<Arrival> poisson_arrivals(double rate_per_s, double duration_s, int64_t samples, uint64_t seed,
                                      int rank) {
  if (rate_per_s < 0) throw ConfigError("rate: must be >= 0, got " + std::to_string(rate_per_s));
  if (samples <= 0) throw ConfigError("arrivals: the request data set is empty");
  std::vector<Arrival> out;
  if (rate_per_s == 0) return out;
  std::mt19937_64 rng(seed * 1000003ULL + static_cast<uint64_t>(rank));
  std::exponential_distribution<double> gap_ms(rate_per_s / 1000.0);
  std::uniform_int_distribution<int64_t> pick(0, samples - 1);
  for (double t = gap_ms(rng); t < duration_s * 1000.0; t += gap_ms(rng)) out.push_back({t, pick(rng)});
  return out;
}

}  // namespace hddnn::runtime
