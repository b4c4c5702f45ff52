// Configuration of one distributed run, shared by every rank. The launcher writes
// it as JSON and passes the path to each rank; every field is checked on load,
// and a bad one throws ConfigError naming it.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace hddnn::runtime {

/// Test hook (privacy tests): what one rank does to the frames it sends. flip, replay,
/// wrong-key and truncate tamper with its first `count` data frames (kWork, kAnswer);
/// capture writes every frame it sends to <out>.rank<rank>.capture.
enum class TamperKind { kFlip, kReplay, kWrongKey, kTruncate, kCapture };
std::string to_string(TamperKind kind);
/// "flip" -> kFlip...; ConfigError naming the run config's field 'tamper' otherwise.
TamperKind parse_tamper_kind(const std::string& name);

struct TamperSpec {
  TamperKind kind = TamperKind::kFlip;
  int rank = 0;
  int count = 1;  ///< data frames to tamper with (capture: unused)
};

struct RunConfig {
  std::string model_dir;           ///< an `hddnn train --out` folder (export/ and profile.json)
  std::string profile;             ///< the planner's profile.json (empty: model_dir's)
  std::string topology;            ///< topology JSON path
  std::string scheme = "mapping";  ///< end | end-cloud | mapping
  double rate_per_s = 10;          ///< Poisson request rate per end device
  double duration_s = 5;           ///< requests are offered for this long, then the run drains
  double deadline_ms = 0;          ///< per-request deadline (0 = none)
  uint64_t seed = 0;
  double threshold = -1;  ///< override of every exit's entropy threshold (<0: the model's)
  std::string out;        ///< results JSON path (written by the coordinator)
  bool emulate = true;    ///< emulate links and compute speeds from the topology
  /// What emulated compute stretches to time/speed: "measured" (each forward's thread
  /// CPU time) or "profile" (the profile's batch-1 median of the section: immune to a
  /// crowded host's cache and steal inflation, and exactly what the planner prices).
  std::string compute = "measured";
  bool encrypt = true;
  std::string key_file;            ///< cluster key (encrypt); empty = a fresh key made by the launcher
  double replan_interval_s = 1.0;  ///< mapping: re-plan from observed load this often
  double heartbeat_ms = 100;
  /// How long a rank may take to say it is ready (model loaded, keys exchanged: its first
  /// frame) before it is declared dead; a slow host's start-up is not a death.
  double startup_timeout_s = 60;
  int64_t test_limit = -1;         ///< requests draw from the first N test images (-1 = all)
  std::string data_file;           ///< "data": requests from this data file's test split (empty: Fashion-MNIST)
  double drain_timeout_s = 30;     ///< a run still draining after this gives up on what is left
  bool record_requests = false;    ///< results carry every request's record (coordinator's clock)
  double time_scale = 1;           ///< time dilation: emulated time runs this many times slower than the wall (>= 1)
  double view_wait_ms = 100;       ///< multi-view: how long an aggregator waits for a sample's missing views
  std::vector<TamperSpec> tamper;  ///< test hook: fault injection / capture per rank (empty: none)

  /// The planner's profile.json: `profile`, else the model folder's.
  std::string profile_path() const { return profile.empty() ? model_dir + "/profile.json" : profile; }
};

void from_json(const nlohmann::json& j, TamperSpec& spec);
void to_json(nlohmann::json& j, const TamperSpec& spec);

void from_json(const nlohmann::json& j, RunConfig& config);
void to_json(nlohmann::json& j, const RunConfig& config);
RunConfig load_run_config(const std::string& path);
/// Throws ConfigError when a tamper entry names a rank the run does not have.
void check_tamper_ranks(const RunConfig& config, size_t ranks);

}  // namespace hddnn::runtime
