#include "hddnn/runtime/failure_detector.hpp"

namespace hddnn::runtime {
namespace {

constexpr double kMissedHeartbeats = 3;
// A silent rank whose process this host sees running gets this many times longer.
constexpr double kSlowProcessAllowance = 10;

}  // namespace

FailureDetector::FailureDetector(double heartbeat_ms, double startup_timeout_s)
    : heartbeat_ms_(heartbeat_ms), startup_timeout_ms_(startup_timeout_s * 1000.0) {}

void FailureDetector::watch(const std::vector<int>& ranks, double now_ms) {
  for (int rank : ranks) last_heard_ms_[rank] = now_ms;
}

bool FailureDetector::heard_from(int rank, double now_ms) {
  last_heard_ms_[rank] = now_ms;
  ready_.insert(rank);
  if (!dead_.count(rank)) return false;
  // Frames a rank sent before it died can still arrive just after the verdict: only a
  // rank still heard from a heartbeat period after its first frame since then is back.
  const double first = heard_since_verdict_ms_.try_emplace(rank, now_ms).first->second;
  if (now_ms - first < heartbeat_ms_) return false;
  heard_since_verdict_ms_.erase(rank);
  dead_.erase(rank);
  for (auto& failure : failures_) {
    if (failure.rank == rank && failure.rejoined_at_ms < 0) failure.rejoined_at_ms = now_ms;
  }
  return true;
}

std::map<int, double> FailureDetector::overdue(double now_ms, const Liveness& liveness,
                                               const std::set<int>& finished) const {
  std::map<int, double> silent;
  for (auto [rank, last] : last_heard_ms_) {
    if (dead_.count(rank) || finished.count(rank)) continue;
    const double silence = now_ms - last;
    if (silence >= allowed_silence_ms(rank, liveness(rank))) silent[rank] = silence;
  }
  return silent;
}

double FailureDetector::allowed_silence_ms(int rank, comm::ProcessLiveness process) const {
  const double missed = kMissedHeartbeats * heartbeat_ms_;
  if (process == comm::ProcessLiveness::kDead) return missed;
  // Not ready yet (no frame from it): it may still be loading its model on a slow host.
  if (!ready_.count(rank)) return startup_timeout_ms_;
  // On this host a silent but running process is only slow; elsewhere silence is all there is.
  return process == comm::ProcessLiveness::kAlive ? kSlowProcessAllowance * missed : missed;
}

void FailureDetector::declare_dead(int rank, double silent_ms, double now_ms) {
  dead_.insert(rank);
  heard_since_verdict_ms_.erase(rank);
  Failure failure;
  failure.rank = rank;
  failure.detected_after_ms = silent_ms;  // upper bound: time since its last sign of life
  failure.detected_at_ms = now_ms;
  failures_.push_back(failure);
}

}  // namespace hddnn::runtime
