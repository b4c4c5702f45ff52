#include "hddnn/runtime/coordinator.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "hddnn/comm/mpi_env.hpp"
#include "hddnn/errors.hpp"
#include "hddnn/runtime/export_manifest.hpp"
#include "hddnn/runtime/messages.hpp"
#include "hddnn/runtime/multi_view.hpp"

namespace hddnn::runtime {
namespace {

constexpr double kMissedHeartbeats = 3;
constexpr double kServerReportTimeoutMs = 2000;
// A silent rank whose process this host sees running gets this many times longer.
constexpr double kSlowProcessAllowance = 10;

void write_atomically(const std::string& path, const nlohmann::json& body) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    if (!out) throw ConfigError(path + ": cannot write results");
    out << body.dump(2) << "\n";
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw ConfigError(path + ": cannot move results into place");
}

}  // namespace

Coordinator::Coordinator(const NodeSetup& setup, comm::Transport& transport)
    : setup_(setup),
      transport_(transport),
      clock_(setup.config.time_scale),
      profile_(mapping::load_profile(setup.config.profile_path())),
      record_owners_(record_owners(setup.topology, setup.config.scheme)),
      multi_view_(is_multi_view(setup.topology)) {
  for (int rank : setup_.topology.of_tier(mapping::Tier::End)) observed_rate_[rank] = setup_.config.rate_per_s;
}

double Coordinator::now_ms() const { return clock_.now_ms(); }

std::vector<int> Coordinator::live_ranks() const {
  std::vector<int> ranks;
  for (int rank = 0; rank < transport_.size(); ++rank) {
    if (rank != setup_.coordinator && dead_.count(rank) == 0) ranks.push_back(rank);
  }
  return ranks;
}

void Coordinator::start(const RunClock& run_clock) {
  clock_ = run_clock;
  // Every rank is watched from the start, so one that dies before its first heartbeat is caught.
  for (int rank : live_ranks()) last_heard_ms_[rank] = now_ms();
  send_plan();
}

void Coordinator::tick() {
  const double now = now_ms();
  if (now - last_heartbeat_ms_ >= setup_.config.heartbeat_ms) {
    last_heartbeat_ms_ = now;
    for (int rank : live_ranks()) transport_.send(rank, comm::MessageType::kHeartbeat, encode_control({}));
  }
  detect_failures();
  replan_if_due();
  if (stop_sent_ms_ < 0 && done(setup_.topology.of_tier(mapping::Tier::End), reported_) &&
      done(record_owners_, records_from_)) {
    stop_servers();
  }
}

bool Coordinator::done(const std::vector<int>& ranks, const std::set<int>& delivered) const {
  for (int rank : ranks) {
    if (!delivered.count(rank) && !dead_.count(rank)) return false;
  }
  return true;
}

void Coordinator::heard_from(int rank) {
  if (rank == setup_.coordinator) return;
  last_heard_ms_[rank] = now_ms();
  ready_.insert(rank);
  if (dead_.count(rank)) readmit(rank);
}

void Coordinator::readmit(int rank) {
  dead_.erase(rank);
  transport_.restore_peer(rank);
  for (auto& failure : failures_) {
    if (failure.rank == rank && failure.rejoined_at_ms < 0) failure.rejoined_at_ms = now_ms();
  }
  // The plan with it goes first, as on a death: devices then route to it as soon as they hear.
  send_plan();
  publish_membership("join", rank);
}

void Coordinator::publish_membership(const char* event, int rank) {
  nlohmann::json membership = {{"version", membership_history_.size() + 1},
                               {"event", event},
                               {"rank", rank},
                               {"dead", std::vector<int>(dead_.begin(), dead_.end())},
                               {"online", online_ranks()},
                               {"at_ms", now_ms()}};
  membership_history_.push_back(membership);
  for (int live : live_ranks()) transport_.send(live, comm::MessageType::kMembership, encode_control(membership));
}

std::vector<int> Coordinator::online_ranks() const {
  auto online = live_ranks();
  online.insert(std::lower_bound(online.begin(), online.end(), setup_.coordinator), setup_.coordinator);
  return online;
}

void Coordinator::handle(const comm::Message& message) {
  const int source = static_cast<int>(message.header.source);
  if (message.header.type == comm::MessageType::kHeartbeat) {
    auto body = decode_control(message.payload);
    if (body.contains("arrivals")) {
      arrivals_seen_[source] = {body["arrivals"].get<uint64_t>(), body.value("arrivals_at_ms", now_ms())};
    }
  } else if (message.header.type == comm::MessageType::kReport) {
    on_report(source, decode_control(message.payload));
  }
}

void Coordinator::detect_failures() {
  const double now = now_ms();
  for (auto [rank, last] : last_heard_ms_) {
    if (dead_.count(rank) || reported_.count(rank)) continue;
    const double silent = now - last;
    if (silent >= allowed_silence_ms(rank)) declare_dead(rank, silent);
  }
}

double Coordinator::allowed_silence_ms(int rank) const {
  const double missed = kMissedHeartbeats * setup_.config.heartbeat_ms;
  const auto process = transport_.peer_process_alive(rank);
  if (process == comm::ProcessLiveness::kDead) return missed;
  // Not ready yet (no frame from it): it may still be loading its model on a slow host.
  if (!ready_.count(rank)) return setup_.config.startup_timeout_s * 1000.0;
  // On this host a silent but running process is only slow; elsewhere silence is all there is.
  return process == comm::ProcessLiveness::kAlive ? kSlowProcessAllowance * missed : missed;
}

void Coordinator::declare_dead(int rank, double silent_ms) {
  dead_.insert(rank);
  transport_.abandon_peer(rank);
  comm::mark_peer_failure();
  Failure failure;
  failure.rank = rank;
  failure.detected_after_ms = silent_ms;  // upper bound: time since its last sign of life
  failure.detected_at_ms = now_ms();
  failures_.push_back(failure);
  // The plan without the dead rank goes first: devices re-send its work on learning of
  // the death, and should send it along the new plan, not to their fallback, the cloud.
  send_plan();
  publish_membership("leave", rank);
}

void Coordinator::replan_if_due() {
  if (setup_.config.scheme != "mapping") return;
  const double now = now_ms(), interval = setup_.config.replan_interval_s * 1000.0;
  if (now - last_plan_ms_ < interval) return;
  // Rates from the devices' own counts and clocks: heartbeats arrive late and at their
  // own pace, so the coordinator's window would miscount the arrivals in it.
  for (auto& [rank, rate] : observed_rate_) {
    const ArrivalCount seen = arrivals_seen_[rank];
    ArrivalCount& before = arrivals_at_last_plan_[rank];
    if (seen.count >= before.count && seen.at_ms > before.at_ms) {
      rate = 1000.0 * static_cast<double>(seen.count - before.count) / (seen.at_ms - before.at_ms);
    }
    before = seen;
  }
  send_plan();
}

void Coordinator::send_plan() {
  last_plan_ms_ = now_ms();
  if (setup_.config.scheme == "end" || multi_view_) return;
  nlohmann::json record = {{"at_ms", last_plan_ms_}, {"online", online_ranks()}};
  std::map<int, DeviceOrders> orders;
  if (setup_.config.scheme == "end-cloud") {
    for (int rank : setup_.topology.of_tier(mapping::Tier::End)) orders[rank].fractions = {{setup_.coordinator, 1.0}};
  } else {
    orders = solve_plan(record);
  }
  plan_history_.push_back(record);
  for (auto& [rank, order] : orders) {
    if (dead_.count(rank)) continue;
    nlohmann::json body = {{"fractions", nlohmann::json::object()}};
    for (auto [destination, share] : order.fractions) body["fractions"][std::to_string(destination)] = share;
    if (!order.sections.empty()) body["sections"] = order.sections;
    if (record.contains("predicted_ms")) body["predicted_escalation_ms"] = record["predicted_ms"];
    transport_.send(rank, comm::MessageType::kPlan, encode_control(body));
  }
}

std::map<int, Coordinator::DeviceOrders> Coordinator::solve_plan(nlohmann::json& record) const {
  std::vector<double> rates;
  for (int rank : setup_.topology.of_tier(mapping::Tier::End))
    rates.push_back(dead_.count(rank) ? 0.0 : observed_rate_.at(rank));
  mapping::PlanOptions options;
  options.exclude = std::set<int>(dead_.begin(), dead_.end());
  const auto plan = mapping::plan(setup_.topology, profile_, rates, options);
  record["iterations"] = plan.iterations;
  record["predicted_ms"] = plan.mean_latency_ms;
  record["feasible"] = plan.feasible;
  std::map<int, DeviceOrders> orders;
  for (const auto& device : plan.devices) {
    auto& order = orders[device.device];
    order.fractions = std::map<int, double>(device.routing.begin(), device.routing.end());
    for (auto tier : device.section_tier) order.sections.push_back(mapping::tier_name(tier));
    auto& routing = record["routing"][std::to_string(device.device)] = nlohmann::json::object();
    for (auto [destination, share] : order.fractions) routing[std::to_string(destination)] = share;
    record["sections"][std::to_string(device.device)] = order.sections;
  }
  return orders;
}

void Coordinator::on_report(int rank, const nlohmann::json& body) {
  if (body.contains("records") && records_from_.insert(rank).second) add_records(body);
  if (body.contains("stats") && reported_.insert(rank).second) {
    reassigned_ += body.value("reassigned", uint64_t{0});
    stats_.push_back(body.at("stats").get<DeviceStats>());
  }
}

void Coordinator::add_records(const nlohmann::json& body) {
  const double zero = body.value("clock_unix_ms", clock_.zero_unix_ms());
  for (const auto& r : body["records"]) {
    auto record = r.get<RequestOutcome>();
    record.arrival_ms = clock_.from_clock_at(zero, record.arrival_ms);
    if (record.answers > 0) record.answered_ms = clock_.from_clock_at(zero, record.answered_ms);
    records_.push_back(record);
  }
  const auto multi_view = body.value("multi_view", nlohmann::json::object());
  for (auto& [key, value] : multi_view.items()) {
    const uint64_t sum = multi_view_summary_.value(key, uint64_t{0}) + value.get<uint64_t>();
    multi_view_summary_[key] = sum;
  }
}

void Coordinator::stop_servers() {
  stop_sent_ms_ = now_ms();
  for (int rank : live_ranks()) transport_.send(rank, comm::MessageType::kStop, encode_control({}));
}

bool Coordinator::finished() const {
  if (stop_sent_ms_ < 0) return false;
  for (int rank : live_ranks()) {
    if (!reported_.count(rank) && now_ms() - stop_sent_ms_ < kServerReportTimeoutMs) return false;
  }
  return true;
}

void Coordinator::count_requests_lost_with_dead_owners() {
  for (int rank : record_owners_) {
    if (!dead_.count(rank) || records_from_.count(rank)) continue;
    // Its records died with it: it had received arrivals_seen_ requests by its last heartbeat.
    for (uint64_t i = 0; i < arrivals_seen_[rank].count; ++i) {
      RequestOutcome lost;
      lost.id = (uint64_t(rank) << 32) | i;
      lost.origin = rank;
      lost.arrival_ms = -1;  // unknown: the device's records died with it
      lost.lost_with_device = true;
      records_.push_back(lost);
    }
  }
}

std::string Coordinator::failure_verdict(const nlohmann::json& results) const {
  const auto ends = setup_.topology.of_tier(mapping::Tier::End);
  std::string lost;
  for (int rank : ends) {
    if (!dead_.count(rank)) return results.at("offered").get<uint64_t>() > 0 ? "" : "no request was offered";
    lost += (lost.empty() ? "" : ", ") + std::to_string(rank);
  }
  return "every end device was lost (ranks " + lost + ")";
}

void Coordinator::write_results(const DeviceStats& cloud_stats) {
  count_requests_lost_with_dead_owners();
  stats_.push_back(cloud_stats);
  for (int rank : dead_) {
    DeviceStats gone;
    gone.rank = rank;
    gone.name = setup_.topology.devices[rank].name;
    gone.tier = mapping::tier_name(setup_.topology.devices[rank].tier);
    gone.alive = false;
    stats_.push_back(gone);
  }
  const auto& config = setup_.config;
  RunInfo info;
  info.scheme = config.scheme;
  info.topology = config.topology;
  info.model = config.model_dir;
  info.duration_s = config.duration_s;
  info.rate_per_s = config.rate_per_s;
  info.wall_s = now_ms() * clock_.scale() / 1000.0;  // wall seconds, whatever the time scale
  info.encrypted = transport_.encrypted();
  info.emulated = config.emulate;
  info.failures = failures_;
  info.labels = data::label_sets_of_manifest(read_export_manifest(config.model_dir),
                                             config.model_dir + "/manifest.json");
  for (auto& f : info.failures) f.reassigned = reassigned_;
  info.extra = {{"plans", plan_history_},
                {"membership", membership_history_},
                {"started_unix_ms", clock_.zero_unix_ms()},
                {"time_scale", clock_.scale()}};
  if (multi_view_) info.extra["multi_view"] = multi_view_summary_;
  if (config.out.empty()) return;
  auto results = summarize(records_, stats_, info);
  if (config.record_requests) results["requests"] = records_;
  const std::string failure = failure_verdict(results);
  if (!failure.empty()) results["error"] = {{"type", RunFailedError("").kind()}, {"message", failure}};
  write_atomically(config.out, results);
}

}  // namespace hddnn::runtime
