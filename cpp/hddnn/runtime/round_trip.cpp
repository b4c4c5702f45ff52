#include "hddnn/runtime/round_trip.hpp"

#include <algorithm>
#include <cmath>

#include "hddnn/errors.hpp"

namespace hddnn::runtime {
namespace {

constexpr double kSmoothGain = 0.2;      // weight of the newest round trip in srtt
constexpr double kVariationGain = 0.25;  // weight of the newest deviation in rttvar
constexpr double kVariationWeight = 4;
constexpr double kMargin = 2;
constexpr uint32_t kMaxBackoffDoublings = 10;

}  // namespace

RoundTripEstimator::RoundTripEstimator(double floor_ms) : floor_ms_(floor_ms) {
  if (floor_ms <= 0) throw ConfigError("retransmission timeout floor must be > 0 ms");
}

void RoundTripEstimator::observe(double round_trip_ms) {
  if (!sampled_) {
    srtt_ms_ = round_trip_ms;
    rttvar_ms_ = round_trip_ms / 2;
    sampled_ = true;
    return;
  }
  rttvar_ms_ += kVariationGain * (std::abs(round_trip_ms - srtt_ms_) - rttvar_ms_);
  srtt_ms_ += kSmoothGain * (round_trip_ms - srtt_ms_);
}

void RoundTripEstimator::predict(double round_trip_ms) {
  if (sampled_ || round_trip_ms <= 0) return;
  srtt_ms_ = round_trip_ms;
  rttvar_ms_ = round_trip_ms / 2;
}

double RoundTripEstimator::timeout_ms(uint32_t resends) const {
  const double base = std::max(floor_ms_, kMargin * (srtt_ms_ + kVariationWeight * rttvar_ms_));
  return std::ldexp(base, static_cast<int>(std::min(resends, kMaxBackoffDoublings)));
}

}  // namespace hddnn::runtime
