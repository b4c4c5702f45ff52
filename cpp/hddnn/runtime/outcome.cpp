#include "hddnn/runtime/outcome.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "hddnn/errors.hpp"

namespace hddnn::runtime {
namespace {

using nlohmann::json;

// A request's prediction in label set `set`: what its answer determines there, or else
// what the answering exit's finest class does (a coarse answer says nothing finer).
int64_t prediction_in(const data::LabelSets& labels, const RequestOutcome& r, size_t set) {
  const auto answered = static_cast<size_t>(r.answer_set);
  const int64_t derived = answered < labels.size() ? labels.derive(answered, r.answer_pred, set) : -1;
  return derived >= 0 ? derived : labels[set].of_finest.at(r.fine_pred);
}

bool correct_in(const data::LabelSets& labels, const RequestOutcome& r, size_t set) {
  if (labels.empty()) return r.fine_pred == r.fine_label;
  if (r.fine_label < 0 || r.fine_pred < 0) return false;
  return prediction_in(labels, r, set) == labels[set].of_finest.at(r.fine_label);
}

bool on_time_and_correct(const data::LabelSets& labels, const RequestOutcome& r) {
  if (r.answers == 0) return false;
  const bool in_time = r.deadline_ms <= 0 || r.answered_ms - r.arrival_ms <= r.deadline_ms;
  const bool correct = labels.empty() ? r.fine_pred == r.fine_label
                                      : r.answer_pred == labels[r.answer_set].of_finest.at(r.fine_label);
  return in_time && correct;
}

/// Accuracy over the answered requests in each label set, by name.
json label_accuracy(const data::LabelSets& labels, const std::vector<RequestOutcome>& requests) {
  json accuracy = json::object();
  for (size_t set = 0; set < labels.size(); ++set) {
    uint64_t answered = 0, correct = 0;
    for (const auto& r : requests) {
      if (r.answers == 0) continue;
      ++answered;
      correct += correct_in(labels, r, set);
    }
    accuracy[labels[set].name] = answered > 0 ? json(double(correct) / answered) : json(nullptr);
  }
  return accuracy;
}

json latency_summary(const std::vector<double>& latencies) {
  if (latencies.empty()) return {{"mean", nullptr}, {"p50", nullptr}, {"p95", nullptr}, {"p99", nullptr}};
  double sum = 0;
  for (double l : latencies) sum += l;
  return {{"mean", sum / latencies.size()},
          {"p50", percentile(latencies, 50)},
          {"p95", percentile(latencies, 95)},
          {"p99", percentile(latencies, 99)}};
}

json per_device(const std::vector<DeviceStats>& devices, uint64_t answered) {
  json out = json::array();
  for (const auto& d : devices) {
    json j = d;
    j["utilisation"] = d.elapsed_ms > 0 ? d.busy_ms / d.elapsed_ms : 0.0;
    j["energy_j_per_answered"] = answered > 0 ? d.energy_j / answered : 0.0;
    out.push_back(j);
  }
  return out;
}

/// Rejections (by reason) and injected faults (by kind) over every device, and the
/// re-sends of overdue work that made up for what was rejected.
json crypto_summary(const std::vector<DeviceStats>& devices, bool encrypted, uint64_t resent) {
  uint64_t rejected = 0;
  std::map<std::string, uint64_t> by_reason, injected;
  for (const auto& d : devices) {
    rejected += d.rejected;
    for (const auto& [reason, count] : d.rejected_by_reason) by_reason[reason] += count;
    for (const auto& [kind, count] : d.injected) injected[kind] += count;
  }
  return {{"encrypted", encrypted},
          {"rejected", rejected},
          {"rejected_by_reason", by_reason},
          {"injected", injected},
          {"resent", resent}};
}

}  // namespace

std::string tier_name(Tier tier) {
  switch (tier) {
    case Tier::kEnd: return "end";
    case Tier::kEdge: return "edge";
    case Tier::kCloud: return "cloud";
    case Tier::kNone: break;
  }
  return "none";
}

Tier parse_tier(const std::string& name) {
  if (name == "end") return Tier::kEnd;
  if (name == "edge") return Tier::kEdge;
  if (name == "cloud") return Tier::kCloud;
  throw ConfigError("tier: unknown tier '" + name + "' (expected end, edge or cloud)");
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double position = p / 100.0 * (values.size() - 1);
  const size_t low = static_cast<size_t>(std::floor(position));
  const size_t high = std::min(low + 1, values.size() - 1);
  return values[low] + (values[high] - values[low]) * (position - low);
}

json summarize(const std::vector<RequestOutcome>& requests, const std::vector<DeviceStats>& devices,
               const RunInfo& info) {
  std::unordered_map<uint64_t, int> seen;
  uint64_t answered = 0, lost_with_device = 0, fine_ok = 0, on_time = 0, bytes_up = 0;
  uint64_t extra_answers = 0, duplicates = 0, resent = 0;
  uint64_t exits[3] = {0, 0, 0};
  std::vector<double> latencies;
  double first_arrival = INFINITY, last_answer = 0;
  for (const auto& r : requests) {
    if (++seen[r.id] == 2) ++duplicates;
    bytes_up += r.bytes_up;
    resent += r.resends;
    extra_answers += r.answers > 1 ? r.answers - 1 : 0;
    if (!r.lost_with_device) first_arrival = std::min(first_arrival, r.arrival_ms);  // else: time unknown
    if (r.answers == 0) {
      lost_with_device += r.lost_with_device;
      continue;
    }
    ++answered;
    latencies.push_back(r.answered_ms - r.arrival_ms);
    last_answer = std::max(last_answer, r.answered_ms);
    fine_ok += correct_in(info.labels, r, 0);
    on_time += on_time_and_correct(info.labels, r);
    if (r.exit != Tier::kNone) ++exits[static_cast<int>(r.exit)];
  }
  const uint64_t offered = requests.size();
  const double per_answered = answered > 0 ? 1.0 / answered : 0.0;
  uint64_t wire = 0;
  for (const auto& d : devices) wire += d.bytes_sent;
  json results = {
      {"scheme", info.scheme},
      {"topology", info.topology},
      {"model", info.model},
      {"duration_s", info.duration_s},
      {"rate_per_s", info.rate_per_s},
      {"wall_s", info.wall_s},
      {"offered", offered},
      {"answered", answered},
      {"lost", offered - answered - lost_with_device},
      {"lost_with_device", lost_with_device},
      {"duplicates", duplicates},
      {"duplicate_answers_dropped", extra_answers},
      {"accuracy", fine_ok * per_answered},
      {"label_accuracy", label_accuracy(info.labels, requests)},
      {"on_time_rate", offered > 0 ? double(on_time) / offered : 0.0},
      {"latency_ms", latency_summary(latencies)},
      {"throughput_per_s", last_answer > first_arrival ? answered * 1000.0 / (last_answer - first_arrival) : 0.0},
      {"bytes_per_sample", offered > 0 ? double(bytes_up) / offered : 0.0},
      {"wire_bytes", wire},
      {"exit_fraction",
       {{"end", exits[0] * per_answered}, {"edge", exits[1] * per_answered}, {"cloud", exits[2] * per_answered}}},
      {"per_device", per_device(devices, answered)},
      {"failures", info.failures},
      {"crypto", crypto_summary(devices, info.encrypted, resent)},
      {"emulated", info.emulated}};
  // The second declared set (Fashion-MNIST's coarse), as the headline's coarse figure.
  results["coarse_accuracy"] = info.labels.size() > 1 ? results["label_accuracy"][info.labels[1].name] : json(nullptr);
  for (auto& [key, value] : info.extra.items()) results[key] = value;
  return results;
}

}  // namespace hddnn::runtime
