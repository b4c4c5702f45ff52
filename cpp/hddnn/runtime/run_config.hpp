// Configuration of one distributed run, shared by every rank. The launcher writes
// it as JSON and passes the path to each rank; every field is checked on load,
// and a bad one throws ConfigError naming it.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace hddnn::runtime {

struct RunConfig {
  std::string model_dir;           ///< an `hddnn train --out` folder (export/ and profile.json)
  std::string topology;            ///< topology JSON path
  std::string scheme = "mapping";  ///< end | end-cloud | mapping
  double rate_per_s = 10;          ///< Poisson request rate per end device
  double duration_s = 5;           ///< requests are offered for this long, then the run drains
  double deadline_ms = 0;          ///< per-request deadline (0 = none)
  uint64_t seed = 0;
  double threshold = -1;           ///< override of every exit's entropy threshold (<0: the model's)
  std::string out;                 ///< results JSON path (written by the coordinator)
  bool emulate = true;             ///< emulate links and compute speeds from the topology
  bool encrypt = true;
  std::string key_file;            ///< cluster key (encrypt); empty = a fresh key made by the launcher
  double replan_interval_s = 1.0;  ///< mapping: re-plan from observed load this often
  double heartbeat_ms = 100;
  int64_t test_limit = -1;         ///< requests draw from the first N test images (-1 = all)
  double drain_timeout_s = 30;     ///< a run still draining after this gives up on what is left
  bool record_requests = false;    ///< results carry every request's record (coordinator's clock)
  double view_wait_ms = 100;       ///< multi-view: how long an aggregator waits for a sample's missing views
};

void from_json(const nlohmann::json& j, RunConfig& config);
void to_json(nlohmann::json& j, const RunConfig& config);
RunConfig load_run_config(const std::string& path);

}  // namespace hddnn::runtime
