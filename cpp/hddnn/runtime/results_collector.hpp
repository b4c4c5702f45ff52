// ResultsCollector: the coordinator's gathering of the run's measurements and the
// results file it writes (its fields: docs/design.md, "Results file").
//
// Contract: add_report() takes a rank's kReport: its request records (once per rank:
// every end device, or in a multi-view setting every aggregator, see multi_view.hpp),
// moved onto the coordinator's clock (the report's clock_unix_ms is its clock's zero),
// with any multi-view summary summed; and its statistics (once per rank) with the
// count of escalations it re-sent to a new destination (reassigned). results() builds
// the results document at the end of the run: a dead owner's requests (as many as its
// last heartbeat counted) are in it as lost_with_device, dead ranks have statistics
// with alive false, every record is listed as "requests" with record_requests, and a
// run that served nothing (no request offered, or every end device lost) carries
// "error" {type: RunFailedError, message}: such a run is a failure, never a result.
// write() replaces the file atomically. Not thread-safe: the cloud's loop only.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "hddnn/mapping/topology.hpp"
#include "hddnn/runtime/outcome.hpp"
#include "hddnn/runtime/run_clock.hpp"
#include "hddnn/runtime/run_config.hpp"

namespace hddnn::runtime {

/// What the coordinator knows of the run when it ends, beside the reports.
struct RunEnd {
  DeviceStats cloud_stats;
  std::set<int> dead;
  std::vector<Failure> failures;
  std::map<int, uint64_t> arrivals;  ///< per request owner, as its last heartbeat counted
  bool encrypted = false;
  nlohmann::json extra = nlohmann::json::object();  ///< plan and membership history, clock
};

class ResultsCollector {
 public:
  /// `labels`: the model's label sets, which the results' per-set accuracies follow.
  ResultsCollector(const RunConfig& config, const mapping::Topology& topology, data::LabelSets labels);

  void add_report(int rank, const nlohmann::json& body, const RunClock& clock);
  bool has_records(int rank) const { return records_from_.count(rank) != 0; }
  bool has_stats(int rank) const { return reported_.count(rank) != 0; }
  const std::set<int>& reported() const { return reported_; }
  /// The ranks whose records the run waits for.
  const std::vector<int>& record_owners() const { return record_owners_; }
  nlohmann::json results(RunEnd end, const RunClock& clock);
  static void write(const std::string& path, const nlohmann::json& results);

 private:
  void add_records(const nlohmann::json& body, const RunClock& clock);
  void count_requests_lost_with_dead_owners(const RunEnd& end);
  void add_dead_ranks_stats(const std::set<int>& dead);
  RunInfo run_info(const RunEnd& end, const RunClock& clock) const;
  std::string failure_verdict(const std::set<int>& dead, const nlohmann::json& results) const;

  const RunConfig& config_;
  const mapping::Topology& topology_;
  const data::LabelSets labels_;
  std::vector<int> record_owners_;
  bool multi_view_;
  std::set<int> reported_, records_from_;
  std::vector<RequestOutcome> records_;
  std::vector<DeviceStats> stats_;
  nlohmann::json multi_view_summary_ = nlohmann::json::object();
  uint64_t reassigned_ = 0;
};

}  // namespace hddnn::runtime
