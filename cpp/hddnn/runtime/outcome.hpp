// What a run measured: one record per offered request (kept by the end device
// that received it) and one per device; summarize() turns them into the results
// file of docs/design.md. Shared by the live runtime and the simulator, so both write
// the same format from the same definitions.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "hddnn/data/label_sets.hpp"

namespace hddnn::runtime {

enum class Tier : int8_t { kNone = -1, kEnd = 0, kEdge = 1, kCloud = 2 };
std::string tier_name(Tier tier);
Tier parse_tier(const std::string& name);

/// One offered request, as its end device saw it.
struct RequestOutcome {
  uint64_t id = 0;
  int origin = 0;           ///< rank of the end device that received it
  int64_t sample = -1;      ///< index of its image in the test split the end device draws from
  double arrival_ms = 0;    ///< since the run started, on the origin's clock
  double answered_ms = -1;  ///< when answered (meaningful when answers > 0; may be < 0 on the coordinator's clock)
  double deadline_ms = 0;   ///< relative to arrival; 0 = none
  Tier exit = Tier::kNone;  ///< tier whose exit answered
  int fine_label = -1;      ///< its label in the finest label set
  int fine_pred = -1;       ///< the answering exit's finest class
  int answer_set = 0;       ///< label set of the answer (0: the finest; k > 0: coarse, near a deadline)
  int answer_pred = -1;     ///< the answer's class in that set
  uint32_t bytes_up = 0;    ///< wire bytes the end device sent upward for it
  int answers = 0;          ///< answers received (0 = never answered; more than 1 = duplicates dropped)
  bool lost_with_device = false;  ///< its end device died before answering
  uint32_t resends = 0;           ///< times its work was sent again because the answer was overdue
};

/// Per-device figures over the run.
struct DeviceStats {
  int rank = 0;
  std::string name, tier;
  double busy_ms = 0, elapsed_ms = 0;  ///< emulated compute time, wall time of the run
  double queue_time_avg = 0;           ///< time-averaged queue length
  int queue_max = 0;
  uint64_t bytes_sent = 0, bytes_received = 0, messages_sent = 0;
  double energy_j = 0;         ///< active + idle + radio
  uint64_t answered_here = 0;  ///< requests whose exit was on this device
  double peak_memory_mb = 0, memory_budget_mb = 0;
  uint64_t rejected = 0;                               ///< messages this device refused (crypto)
  std::map<std::string, uint64_t> rejected_by_reason;  ///< the same, by reason (crypto::to_string)
  std::map<std::string, uint64_t> injected;            ///< faults its tamper test hook injected, by kind
  bool alive = true;
};

struct Failure {
  int rank = 0;
  double killed_at_ms = -1, detected_at_ms = -1, detected_after_ms = -1;
  double rejoined_at_ms = -1;  ///< when a restarted process of the rank was readmitted (-1: never)
  uint64_t reassigned = 0;
};

struct RunInfo {
  std::string scheme, topology, model;
  double duration_s = 0, rate_per_s = 0, wall_s = 0;
  bool encrypted = false, emulated = true;
  std::vector<Failure> failures;
  data::LabelSets labels;                           ///< the model's label sets (empty: the finest only, unnamed)
  nlohmann::json extra = nlohmann::json::object();  ///< plan history, membership history...
};

/// Percentile by linear interpolation between closest ranks (p in [0,100]).
double percentile(std::vector<double> values, double p);

/// The results file of docs/design.md, from the records.
nlohmann::json summarize(const std::vector<RequestOutcome>& requests, const std::vector<DeviceStats>& devices,
                         const RunInfo& info);

NLOHMANN_JSON_SERIALIZE_ENUM(
    Tier, {{Tier::kNone, "none"}, {Tier::kEnd, "end"}, {Tier::kEdge, "edge"}, {Tier::kCloud, "cloud"}})
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RequestOutcome, id, origin, sample, arrival_ms, answered_ms, deadline_ms, exit,
                                   fine_label, fine_pred, answer_set, answer_pred, bytes_up, answers, lost_with_device,
                                   resends)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(DeviceStats, rank, name, tier, busy_ms, elapsed_ms, queue_time_avg, queue_max,
                                   bytes_sent, bytes_received, messages_sent, energy_j, answered_here, peak_memory_mb,
                                   memory_budget_mb, rejected, rejected_by_reason, injected, alive)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Failure, rank, killed_at_ms, detected_at_ms, detected_after_ms, rejoined_at_ms,
                                   reassigned)

}  // namespace hddnn::runtime
