#include "hddnn/runtime/run_config.hpp"

#include <fstream>
#include <set>

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

constexpr const char* kKnownKeys[] = {"model",
                                      "profile",
                                      "topology",
                                      "scheme",
                                      "rate",
                                      "duration",
                                      "deadline_ms",
                                      "seed",
                                      "threshold",
                                      "out",
                                      "emulate",
                                      "compute",
                                      "encrypt",
                                      "key_file",
                                      "replan_interval_s",
                                      "heartbeat_ms",
                                      "startup_timeout_s",
                                      "test_limit",
                                      "drain_timeout_s",
                                      "record_requests",
                                      "view_wait_ms",
                                      "time_scale",
                                      "tamper",
                                      "data"};

// A misspelled option would otherwise be silently ignored.
void refuse_unknown_keys(const nlohmann::json& j) {
  if (!j.is_object()) throw ConfigError("run config: expected a JSON object, got " + std::string(j.type_name()));
  const std::set<std::string> known(std::begin(kKnownKeys), std::end(kKnownKeys));
  for (const auto& [key, value] : j.items()) {
    if (!known.count(key)) throw ConfigError("run config: unknown field '" + key + "'");
  }
}

constexpr const char* kTamperKinds = "flip, replay, wrong-key, truncate or capture";

void validate_tamper(const RunConfig& c) {
  std::set<std::pair<TamperKind, int>> seen;
  for (const auto& spec : c.tamper) {
    const std::string what = "run config: field 'tamper': " + to_string(spec.kind) + "@" + std::to_string(spec.rank);
    if (spec.rank < 0) throw ConfigError(what + ": rank must be >= 0");
    if (spec.count < 1) throw ConfigError(what + ": count must be >= 1");
    if (!seen.insert({spec.kind, spec.rank}).second) throw ConfigError(what + " is listed twice");
    if (spec.kind == TamperKind::kCapture && c.out.empty())
      throw ConfigError(what + ": capture needs 'out' (frames go to <out>.rank<i>.capture)");
    if (spec.kind != TamperKind::kCapture && !c.encrypt)
      throw ConfigError(what + ": needs encrypt (in clear nothing authenticates frames)");
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
  if (!(c.startup_timeout_s > 0)) throw ConfigError("run config: startup_timeout_s must be > 0");
  if (!(c.time_scale >= 1)) throw ConfigError("run config: time_scale must be >= 1");
  if (c.view_wait_ms < 0) throw ConfigError("run config: view_wait_ms must be >= 0");
  if (c.compute != "measured" && c.compute != "profile")
    throw ConfigError("run config: compute '" + c.compute + "' unknown (expected measured or profile)");
  if (c.compute == "profile" && !c.emulate)
    throw ConfigError("run config: compute 'profile' emulates compute times; it needs emulate");
  validate_tamper(c);
}

}  // namespace

std::string to_string(TamperKind kind) {
  switch (kind) {
    case TamperKind::kFlip: return "flip";
    case TamperKind::kReplay: return "replay";
    case TamperKind::kWrongKey: return "wrong-key";
    case TamperKind::kTruncate: return "truncate";
    case TamperKind::kCapture: return "capture";
  }
  return "unknown";
}

TamperKind parse_tamper_kind(const std::string& name) {
  for (auto kind :
       {TamperKind::kFlip, TamperKind::kReplay, TamperKind::kWrongKey, TamperKind::kTruncate, TamperKind::kCapture}) {
    if (to_string(kind) == name) return kind;
  }
  throw ConfigError("run config: field 'tamper': kind '" + name + "' unknown (expected " + kTamperKinds + ")");
}

void from_json(const nlohmann::json& j, TamperSpec& spec) {
  if (!j.is_object() || !j.contains("kind") || !j.contains("rank"))
    throw ConfigError("run config: field 'tamper': expected {\"kind\", \"rank\"[, \"count\"]}, got " + j.dump());
  spec.kind = parse_tamper_kind(j.at("kind").get<std::string>());
  spec.rank = j.at("rank").get<int>();
  spec.count = j.value("count", 1);
}

void to_json(nlohmann::json& j, const TamperSpec& spec) {
  j = {{"kind", to_string(spec.kind)}, {"rank", spec.rank}, {"count", spec.count}};
}

void check_tamper_ranks(const RunConfig& config, size_t ranks) {
  for (const auto& spec : config.tamper) {
    if (static_cast<size_t>(spec.rank) >= ranks)
      throw ConfigError("run config: field 'tamper': rank " + std::to_string(spec.rank) + " is not one of the run's " +
                        std::to_string(ranks) + " ranks");
  }
}

void from_json(const nlohmann::json& j, RunConfig& c) {
  refuse_unknown_keys(j);
  read_optional(j, "model", c.model_dir);
  read_optional(j, "profile", c.profile);
  read_optional(j, "topology", c.topology);
  read_optional(j, "scheme", c.scheme);
  read_optional(j, "rate", c.rate_per_s);
  read_optional(j, "duration", c.duration_s);
  read_optional(j, "deadline_ms", c.deadline_ms);
  read_optional(j, "seed", c.seed);
  read_optional(j, "threshold", c.threshold);
  read_optional(j, "out", c.out);
  read_optional(j, "emulate", c.emulate);
  read_optional(j, "compute", c.compute);
  read_optional(j, "encrypt", c.encrypt);
  read_optional(j, "key_file", c.key_file);
  read_optional(j, "replan_interval_s", c.replan_interval_s);
  read_optional(j, "heartbeat_ms", c.heartbeat_ms);
  read_optional(j, "startup_timeout_s", c.startup_timeout_s);
  read_optional(j, "test_limit", c.test_limit);
  read_optional(j, "data", c.data_file);
  read_optional(j, "drain_timeout_s", c.drain_timeout_s);
  read_optional(j, "record_requests", c.record_requests);
  read_optional(j, "view_wait_ms", c.view_wait_ms);
  read_optional(j, "time_scale", c.time_scale);
  read_optional(j, "tamper", c.tamper);
  validate(c);
}

void to_json(nlohmann::json& j, const RunConfig& c) {
  j = {{"model", c.model_dir},
       {"profile", c.profile},
       {"topology", c.topology},
       {"scheme", c.scheme},
       {"rate", c.rate_per_s},
       {"duration", c.duration_s},
       {"deadline_ms", c.deadline_ms},
       {"seed", c.seed},
       {"threshold", c.threshold},
       {"out", c.out},
       {"emulate", c.emulate},
       {"compute", c.compute},
       {"encrypt", c.encrypt},
       {"key_file", c.key_file},
       {"replan_interval_s", c.replan_interval_s},
       {"heartbeat_ms", c.heartbeat_ms},
       {"startup_timeout_s", c.startup_timeout_s},
       {"test_limit", c.test_limit},
       {"data", c.data_file},
       {"drain_timeout_s", c.drain_timeout_s},
       {"record_requests", c.record_requests},
       {"view_wait_ms", c.view_wait_ms},
       {"time_scale", c.time_scale},
       {"tamper", c.tamper}};
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
