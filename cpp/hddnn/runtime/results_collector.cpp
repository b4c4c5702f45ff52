#include "hddnn/runtime/results_collector.hpp"

#include <cstdio>
#include <fstream>

#include "hddnn/errors.hpp"
#include "hddnn/runtime/multi_view.hpp"

namespace hddnn::runtime {

ResultsCollector::ResultsCollector(const RunConfig& config, const mapping::Topology& topology, data::LabelSets labels)
    : config_(config),
      topology_(topology),
      labels_(std::move(labels)),
      record_owners_(runtime::record_owners(topology, config.scheme)),
      multi_view_(is_multi_view(topology)) {}

void ResultsCollector::add_report(int rank, const nlohmann::json& body, const RunClock& clock) {
  if (body.contains("records") && records_from_.insert(rank).second) add_records(body, clock);
  if (body.contains("stats") && reported_.insert(rank).second) {
    reassigned_ += body.value("reassigned", uint64_t{0});
    stats_.push_back(body.at("stats").get<DeviceStats>());
  }
}

void ResultsCollector::add_records(const nlohmann::json& body, const RunClock& clock) {
  const double zero = body.value("clock_unix_ms", clock.zero_unix_ms());
  for (const auto& r : body["records"]) {
    auto record = r.get<RequestOutcome>();
    record.arrival_ms = clock.from_clock_at(zero, record.arrival_ms);
    if (record.answers > 0) record.answered_ms = clock.from_clock_at(zero, record.answered_ms);
    records_.push_back(record);
  }
  const auto multi_view = body.value("multi_view", nlohmann::json::object());
  for (auto& [key, value] : multi_view.items()) {
    const uint64_t sum = multi_view_summary_.value(key, uint64_t{0}) + value.get<uint64_t>();
    multi_view_summary_[key] = sum;
  }
}

void ResultsCollector::count_requests_lost_with_dead_owners(const RunEnd& end) {
  for (int rank : record_owners_) {
    if (!end.dead.count(rank) || records_from_.count(rank)) continue;
    // Its records died with it: it had received this many requests by its last heartbeat.
    const auto counted = end.arrivals.find(rank);
    const uint64_t arrivals = counted == end.arrivals.end() ? 0 : counted->second;
    for (uint64_t i = 0; i < arrivals; ++i) {
      RequestOutcome lost;
      lost.id = (uint64_t(rank) << 32) | i;
      lost.origin = rank;
      lost.arrival_ms = -1;  // unknown: the device's records died with it
      lost.lost_with_device = true;
      records_.push_back(lost);
    }
  }
}

void ResultsCollector::add_dead_ranks_stats(const std::set<int>& dead) {
  for (int rank : dead) {
    DeviceStats gone;
    gone.rank = rank;
    gone.name = topology_.devices[rank].name;
    gone.tier = mapping::tier_name(topology_.devices[rank].tier);
    gone.alive = false;
    stats_.push_back(gone);
  }
}

RunInfo ResultsCollector::run_info(const RunEnd& end, const RunClock& clock) const {
  RunInfo info;
  info.scheme = config_.scheme;
  info.topology = config_.topology;
  info.model = config_.model_dir;
  info.duration_s = config_.duration_s;
  info.rate_per_s = config_.rate_per_s;
  info.wall_s = clock.now_ms() * clock.scale() / 1000.0;  // wall seconds, whatever the time scale
  info.encrypted = end.encrypted;
  info.emulated = config_.emulate;
  info.failures = end.failures;
  for (auto& f : info.failures) f.reassigned = reassigned_;
  info.labels = labels_;
  info.extra = end.extra;
  if (multi_view_) info.extra["multi_view"] = multi_view_summary_;
  return info;
}

nlohmann::json ResultsCollector::results(RunEnd end, const RunClock& clock) {
  count_requests_lost_with_dead_owners(end);
  stats_.push_back(end.cloud_stats);
  add_dead_ranks_stats(end.dead);
  auto results = summarize(records_, stats_, run_info(end, clock));
  if (config_.record_requests) results["requests"] = records_;
  const std::string failure = failure_verdict(end.dead, results);
  if (!failure.empty()) results["error"] = {{"type", RunFailedError("").kind()}, {"message", failure}};
  return results;
}

std::string ResultsCollector::failure_verdict(const std::set<int>& dead, const nlohmann::json& results) const {
  std::string lost;
  for (int rank : topology_.of_tier(mapping::Tier::End)) {
    if (!dead.count(rank)) return results.at("offered").get<uint64_t>() > 0 ? "" : "no request was offered";
    lost += (lost.empty() ? "" : ", ") + std::to_string(rank);
  }
  return "every end device was lost (ranks " + lost + ")";
}

void ResultsCollector::write(const std::string& path, const nlohmann::json& results) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    if (!out) throw ConfigError(path + ": cannot write results");
    out << results.dump(2) << "\n";
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw ConfigError(path + ": cannot move results into place");
}

}  // namespace hddnn::runtime
