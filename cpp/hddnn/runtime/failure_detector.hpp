// FailureDetector: the coordinator's watch over every other rank, by what it sends
// (heartbeats and any other frame). Torch-free; time is passed in (the coordinator's
// run clock), so it is testable alone.
//
// Contract: watch() starts watching ranks at now_ms, so one that dies before its
// first frame is caught. A rank is ready once its first frame arrives (its role sends
// only after loading its model and exchanging keys); until then it may stay silent
// for the run's startup_timeout_s. A ready rank silent for 3 heartbeat periods is
// overdue; a process check is only a shortcut for ranks on this host: a silent
// process seen running there gets 10 times longer, one seen gone is overdue after 3
// periods, ready or not. declare_dead() records the Failure (detected_after_ms: the
// silence, an upper bound of the time since death). A dead rank still heard from one
// heartbeat period after its first frame since the verdict is readmitted (it was slow or
// cut off; a burst of frames it sent before dying is not enough), and rejoined_at_ms is
// stamped on its failure.
// Not thread-safe: the cloud's loop only.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <vector>

#include "hddnn/comm/process_directory.hpp"
#include "hddnn/runtime/outcome.hpp"

namespace hddnn::runtime {

class FailureDetector {
 public:
  using Liveness = std::function<comm::ProcessLiveness(int rank)>;

  FailureDetector(double heartbeat_ms, double startup_timeout_s);

  void watch(const std::vector<int>& ranks, double now_ms);
  /// Notes a sign of life; true when `rank` was dead and is readmitted by it.
  bool heard_from(int rank, double now_ms);
  /// Watched ranks, not dead and not in `finished`, silent too long at now_ms, with their silence.
  std::map<int, double> overdue(double now_ms, const Liveness& liveness, const std::set<int>& finished) const;
  void declare_dead(int rank, double silent_ms, double now_ms);
  bool is_dead(int rank) const { return dead_.count(rank) != 0; }
  const std::set<int>& dead() const { return dead_; }
  const std::vector<Failure>& failures() const { return failures_; }

 private:
  /// How long `rank` may stay silent before it is declared dead.
  double allowed_silence_ms(int rank, comm::ProcessLiveness process) const;

  double heartbeat_ms_, startup_timeout_ms_;
  std::map<int, double> last_heard_ms_;
  std::set<int> ready_, dead_;
  std::map<int, double> heard_since_verdict_ms_;  ///< dead rank -> its first frame since the verdict
  std::vector<Failure> failures_;
};

}  // namespace hddnn::runtime
