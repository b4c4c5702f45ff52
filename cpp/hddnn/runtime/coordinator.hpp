// The coordinator, hosted by the cloud rank. It composes three parts, one concern each:
//   - FailureDetector (failure_detector.hpp) watches every rank from start() by what
//     it sends (heard_from()). A rank it finds overdue is declared dead: the
//     transport abandons it, the plan is re-solved without it and the membership
//     (versioned: "leave") goes to every live rank. A dead rank that speaks again
//     (it was only slow or cut off) is readmitted: re-planned with and announced in a
//     "join" membership. The membership history lists every leave and join with its
//     time and the online list;
//   - PlannerClient (planner_client.hpp) sends the end devices their routing at
//     start, after every membership change, and every replan interval under mapping;
//   - ResultsCollector (results_collector.hpp) takes every rank's report; once every
//     end device has reported and every request owner sent its records (or died),
//     the coordinator stops the servers (kStop) and, when they have reported (or 2 s
//     passed), write_results() writes the results file.
// It heartbeats every live rank each heartbeat period. It runs inside the cloud's
// loop (tick()/handle()), never blocking it. Not thread-safe: the cloud's loop only.
#pragma once

#include <set>
#include <vector>

#include "hddnn/runtime/failure_detector.hpp"
#include "hddnn/runtime/node.hpp"
#include "hddnn/runtime/planner_client.hpp"
#include "hddnn/runtime/results_collector.hpp"

namespace hddnn::runtime {

class Coordinator {
 public:
  Coordinator(const NodeSetup& setup, comm::Transport& transport);
  /// Starts watching and planning on the run's clock (the cloud's).
  void start(const RunClock& run_clock);
  void tick();
  void handle(const comm::Message& message);
  /// Notes a sign of life: any frame from `rank` (the hosting role calls it for every
  /// frame it receives, before handle()).
  void heard_from(int rank);
  bool finished() const;
  void write_results(const DeviceStats& cloud_stats);

 private:
  double now_ms() const { return clock_.now_ms(); }
  void heartbeat_if_due();
  void declare_dead(int rank, double silent_ms);
  /// A rank declared dead spoke again: live again, re-planned with.
  void readmit(int rank);
  void send_plan();
  /// Records a membership change ("leave" or "join" of `rank`) and sends it to every live
  /// rank, with the online list.
  void publish_membership(const char* event, int rank);
  /// Every live rank but the coordinator, in rank order.
  std::vector<int> live_ranks() const;
  /// Every live rank, the coordinator's own included, in rank order.
  std::vector<int> online_ranks() const;
  bool done(const std::vector<int>& ranks, bool records) const;
  void stop_servers();

  const NodeSetup& setup_;
  comm::Transport& transport_;
  RunClock clock_;
  FailureDetector detector_;
  PlannerClient planner_;
  ResultsCollector results_;
  nlohmann::json membership_history_ = nlohmann::json::array();
  double last_heartbeat_ms_ = -1e9, stop_sent_ms_ = -1;
};

}  // namespace hddnn::runtime
