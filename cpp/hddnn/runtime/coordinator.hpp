// The coordinator, hosted by the cloud rank. It
//   - sends every end device its routing (mapping: from the mapping library's
//     plan over the topology, the model's profile and the offered rates;
//     end-cloud: everything to the cloud), and re-plans from the observed
//     arrival rates every replan interval;
//   - watches every rank from start() by what it sends (heartbeats and any other
//     frame: heard_from()). A rank is ready once its first frame arrives (its role
//     sends only after loading its model and exchanging keys); until then it may be
//     silent for the run's startup_timeout_s. A ready rank silent for 3 heartbeat
//     periods is declared dead; a process check is only a shortcut for ranks on this
//     host (a silent process seen running there gets 30 periods, one seen gone is
//     declared at 3). The membership (versioned) then goes to every live rank, and
//     the plan is re-solved without it. A dead rank that speaks again (it was only
//     slow or cut off) is readmitted: re-planned with, and announced in a "join"
//     membership. Every plan records the online list of its round, and the
//     membership history every leave and join with its time;
//   - collects the records of every request owner (each end device; in a
//     multi-view setting each aggregator, see multi_view.hpp) and every rank's
//     statistics, stops the servers once the owners and end devices are done, and
//     writes the results file; a dead owner's requests (as many as its last
//     heartbeat counted) are in it as lost_with_device. Records are moved onto the
//     coordinator's clock (each owner reports its clock's zero in Unix ms) and,
//     with record_requests, listed in the results as "requests". A run that served
//     nothing (failure_verdict) gets "error" in its results.
// Multi-view cameras send to their fixed aggregator, so they get no plans.
// It runs inside the cloud's loop (tick()/handle()), never blocking it.
#pragma once

#include <chrono>
#include <map>
#include <set>

#include "hddnn/mapping/plan.hpp"
#include "hddnn/runtime/node.hpp"

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
  double now_ms() const;
  void send_plan();
  void replan_if_due();
  void detect_failures();
  /// How long `rank` may stay silent before it is declared dead.
  double allowed_silence_ms(int rank) const;
  void declare_dead(int rank, double silent_ms);
  /// A rank declared dead spoke again (it was slow, or cut off, not dead): live again,
  /// re-planned with.
  void readmit(int rank);
  /// Records a membership change ("leave" or "join" of `rank`) and sends it to every live
  /// rank, with the online list.
  void publish_membership(const char* event, int rank);
  /// Every live rank, the coordinator's own included, in rank order.
  std::vector<int> online_ranks() const;
  void on_report(int rank, const nlohmann::json& body);
  void add_records(const nlohmann::json& body);
  bool done(const std::vector<int>& ranks, const std::set<int>& delivered) const;
  void stop_servers();
  void count_requests_lost_with_dead_owners();
  /// Why the run served nothing ("": it served): no request offered, or every end
  /// device lost. Such a run is a failure, never a result: its results keep what was
  /// measured and carry "error" {type: RunFailedError, message}.
  std::string failure_verdict(const nlohmann::json& results) const;
  struct DeviceOrders {                 // what a plan tells one end device
    std::map<int, double> fractions;    ///< escalation destination rank -> share
    std::vector<std::string> sections;  ///< tier per section (mapping only)
  };
  std::map<int, DeviceOrders> solve_plan(nlohmann::json& record) const;
  std::vector<int> live_ranks() const;

  const NodeSetup& setup_;
  comm::Transport& transport_;
  RunClock clock_;
  mapping::ModelProfile profile_;
  std::map<int, double> last_heard_ms_;  ///< every rank but the coordinator, from start()
  std::set<int> ready_;                  ///< ranks heard from at least once
  /// A device's arrival count as its heartbeat reported it, at that device's run time.
  struct ArrivalCount {
    uint64_t count = 0;
    double at_ms = 0;
  };
  std::map<int, ArrivalCount> arrivals_seen_, arrivals_at_last_plan_;
  std::map<int, double> observed_rate_;
  std::set<int> dead_, reported_, records_from_;
  std::vector<int> record_owners_;
  bool multi_view_ = false;
  nlohmann::json multi_view_summary_ = nlohmann::json::object();
  std::vector<RequestOutcome> records_;
  std::vector<DeviceStats> stats_;
  std::vector<Failure> failures_;
  nlohmann::json plan_history_ = nlohmann::json::array();
  nlohmann::json membership_history_ = nlohmann::json::array();
  uint64_t reassigned_ = 0;
  double last_plan_ms_ = 0, last_heartbeat_ms_ = -1e9, stop_sent_ms_ = -1;
};

}  // namespace hddnn::runtime
