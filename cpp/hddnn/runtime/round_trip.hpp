// RoundTripEstimator: an end device's smoothed escalation round trip and the
// retransmission timeout derived from it, in the shape of TCP's (RFC 6298):
//   srtt   += 0.2  × (sample − srtt)
//   rttvar += 0.25 × (|sample − srtt| − rttvar)
//   timeout = max(floor, 2 × (srtt + 4 × rttvar)) × 2^resends
// Samples come only from work sent once (Karn: a re-sent request's answer could be
// the first send's). Until the first sample, srtt is the plan's prediction (0 when
// none) and rttvar half of it. The factor 2 keeps a queue that grows (a jammed cloud,
// whose round trips rise from one answer to the next) from looking like loss.
#pragma once

#include <cstdint>

namespace hddnn::runtime {

/// RFC 6298's minimum timeout: a hiccup of the host is not a loss.
constexpr double kRetransmitFloorMs = 1000;

class RoundTripEstimator {
 public:
  explicit RoundTripEstimator(double floor_ms);
  /// One measured round trip of work sent once.
  void observe(double round_trip_ms);
  /// The plan's predicted escalation latency: the estimate until the first sample.
  void predict(double round_trip_ms);
  /// The smoothed round trip (0 while nothing is known).
  double smoothed_ms() const { return srtt_ms_; }
  /// How long work already re-sent `resends` times may wait for its answer.
  double timeout_ms(uint32_t resends) const;

 private:
  double floor_ms_;
  double srtt_ms_ = 0, rttvar_ms_ = 0;
  bool sampled_ = false;
};

}  // namespace hddnn::runtime
