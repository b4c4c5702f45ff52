#include "hddnn/runtime/run_config.hpp"

#include <fstream>

#include "hddnn/errors.hpp"

namespace hddnn::runtime {
namespace {

template <typename T>
void read_optional(const nlohmann::json& j, const char* key, T& field) {
  if (!j.contains(key)) return;
  try {
    field = j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw ConfigError(std::string("run config: field '") + key + "' has the wrong type");
  }
}

void validate(const RunConfig& c) {
  if (c.scheme != "end" && c.scheme != "end-cloud" && c.scheme != "mapping") {
    throw ConfigError("run config: scheme '" + c.scheme + "' unknown (expected end, end-cloud or mapping)");
  }
  if (c.rate_per_s < 0) throw ConfigError("run config: rate must be >= 0");
  if (c.duration_s <= 0) throw ConfigError("run config: duration must be > 0");
  if (c.deadline_ms < 0) throw ConfigError("run config: deadline_ms must be >= 0");
  if (c.model_dir.empty()) throw ConfigError("run config: model (a trained run folder) is required");
  if (c.topology.empty()) throw ConfigError("run config: topology is required");
  if (c.heartbeat_ms <= 0) throw ConfigError("run config: heartbeat_ms must be > 0");
  if (c.view_wait_ms < 0) throw ConfigError("run config: view_wait_ms must be >= 0");
}

}  // namespace

void from_json(const nlohmann::json& j, RunConfig& c) {
  read_optional(j, "model", c.model_dir);
  read_optional(j, "topology", c.topology);
  read_optional(j, "scheme", c.scheme);
  read_optional(j, "rate", c.rate_per_s);
  read_optional(j, "duration", c.duration_s);
  read_optional(j, "deadline_ms", c.deadline_ms);
  read_optional(j, "seed", c.seed);
  read_optional(j, "threshold", c.threshold);
  read_optional(j, "out", c.out);
  read_optional(j, "emulate", c.emulate);
  read_optional(j, "encrypt", c.encrypt);
  read_optional(j, "key_file", c.key_file);
  read_optional(j, "replan_interval_s", c.replan_interval_s);
  read_optional(j, "heartbeat_ms", c.heartbeat_ms);
  read_optional(j, "test_limit", c.test_limit);
  read_optional(j, "drain_timeout_s", c.drain_timeout_s);
  read_optional(j, "record_requests", c.record_requests);
  read_optional(j, "view_wait_ms", c.view_wait_ms);
  validate(c);
}

void to_json(nlohmann::json& j, const RunConfig& c) {
  j = {{"model", c.model_dir}, {"topology", c.topology}, {"scheme", c.scheme}, {"rate", c.rate_per_s},
       {"duration", c.duration_s}, {"deadline_ms", c.deadline_ms}, {"seed", c.seed},
       {"threshold", c.threshold}, {"out", c.out}, {"emulate", c.emulate}, {"encrypt", c.encrypt}, {"key_file", c.key_file},
       {"replan_interval_s", c.replan_interval_s}, {"heartbeat_ms", c.heartbeat_ms},
       {"test_limit", c.test_limit}, {"drain_timeout_s", c.drain_timeout_s},
       {"record_requests", c.record_requests}, {"view_wait_ms", c.view_wait_ms}};
}

RunConfig load_run_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot open run config");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw ConfigError(path + ": not valid JSON: " + e.what());
  }
  return j.get<RunConfig>();
}

}  // namespace hddnn::runtime
