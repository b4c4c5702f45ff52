// PlannerClient: the coordinator's planning, what it tells each end device about
// where its escalations go.
//
// Contract: send_plan() sends every live end device its orders (kPlan: "fractions",
// escalation destination rank -> share; under mapping also "sections", the tier of
// each section, and "predicted_escalation_ms"): under end-cloud everything goes to the
// cloud; under mapping they come from the mapping library's plan over the topology,
// the model's profile and the observed arrival rates, without the dead ranks. Under
// `end` and in a multi-view setting (cameras send to their fixed aggregator) nothing
// is sent. Every plan sent is in history() with its time and online list (and, under
// mapping, its routing, sections, iterations, predicted_ms and feasibility).
// replan_if_due() re-plans under mapping every replan interval, with rates from the
// devices' own arrival counts and clocks (note_arrivals(), from their heartbeats:
// heartbeats arrive late and at their own pace, so a window on the coordinator's
// clock would miscount the arrivals in it). Not thread-safe: the cloud's loop only.
#pragma once

#include <map>
#include <set>
#include <vector>

#include "hddnn/comm/transport.hpp"
#include "hddnn/mapping/plan.hpp"
#include "hddnn/runtime/run_config.hpp"

namespace hddnn::runtime {

class PlannerClient {
 public:
  /// Throws ConfigError when the scheme is mapping and `profile` has no section.
  PlannerClient(const RunConfig& config, const mapping::Topology& topology, mapping::ModelProfile profile,
                int coordinator, comm::Transport& transport);

  /// A device's arrival count as its heartbeat reported it, at that device's run time.
  void note_arrivals(int rank, uint64_t count, double at_ms);
  /// The latest count `rank` reported (0: none).
  uint64_t arrivals(int rank) const;
  void send_plan(double now_ms, const std::set<int>& dead, const std::vector<int>& online);
  void replan_if_due(double now_ms, const std::set<int>& dead, const std::vector<int>& online);
  const nlohmann::json& history() const { return history_; }

 private:
  struct DeviceOrders {                 // what a plan tells one end device
    std::map<int, double> fractions;    ///< escalation destination rank -> share
    std::vector<std::string> sections;  ///< tier per section (mapping only)
  };
  struct ArrivalCount {
    uint64_t count = 0;
    double at_ms = 0;
  };
  std::map<int, DeviceOrders> solve_plan(const std::set<int>& dead, nlohmann::json& record) const;
  void update_rates();

  const RunConfig& config_;
  const mapping::Topology& topology_;
  mapping::ModelProfile profile_;
  int coordinator_;
  comm::Transport& transport_;
  bool multi_view_;
  std::map<int, ArrivalCount> arrivals_seen_, arrivals_at_last_plan_;
  std::map<int, double> observed_rate_;
  nlohmann::json history_ = nlohmann::json::array();
  double last_plan_ms_ = 0;
};

}  // namespace hddnn::runtime
