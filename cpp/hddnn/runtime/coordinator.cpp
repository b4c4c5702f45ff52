#include "hddnn/runtime/coordinator.hpp"

#include <algorithm>

#include "hddnn/comm/mpi_env.hpp"
#include "hddnn/runtime/messages.hpp"

namespace hddnn::runtime {
namespace {

constexpr double kServerReportTimeoutMs = 2000;

}  // namespace

Coordinator::Coordinator(const NodeSetup& setup, comm::Transport& transport)
    : setup_(setup),
      transport_(transport),
      clock_(setup.config.time_scale),
      detector_(setup.config.heartbeat_ms, setup.config.startup_timeout_s),
      planner_(setup.config, setup.topology, setup.profile, setup.coordinator, transport),
      results_(setup.config, setup.topology, setup.model->label_sets()) {}

std::vector<int> Coordinator::live_ranks() const {
  std::vector<int> ranks;
  for (int rank = 0; rank < transport_.size(); ++rank) {
    if (rank != setup_.coordinator && !detector_.is_dead(rank)) ranks.push_back(rank);
  }
  return ranks;
}

std::vector<int> Coordinator::online_ranks() const {
  auto online = live_ranks();
  online.insert(std::lower_bound(online.begin(), online.end(), setup_.coordinator), setup_.coordinator);
  return online;
}

void Coordinator::start(const RunClock& run_clock) {
  clock_ = run_clock;
  detector_.watch(live_ranks(), now_ms());
  send_plan();
}

void Coordinator::tick() {
  heartbeat_if_due();
  const auto liveness = [this](int rank) { return transport_.peer_process_alive(rank); };
  for (auto [rank, silent_ms] : detector_.overdue(now_ms(), liveness, results_.reported())) {
    declare_dead(rank, silent_ms);
  }
  planner_.replan_if_due(now_ms(), detector_.dead(), online_ranks());
  if (stop_sent_ms_ < 0 && done(setup_.topology.of_tier(mapping::Tier::End), false) &&
      done(results_.record_owners(), true)) {
    stop_servers();
  }
}

void Coordinator::heartbeat_if_due() {
  const double now = now_ms();
  if (now - last_heartbeat_ms_ < setup_.config.heartbeat_ms) return;
  last_heartbeat_ms_ = now;
  for (int rank : live_ranks()) transport_.send(rank, comm::MessageType::kHeartbeat, encode_control({}));
}

bool Coordinator::done(const std::vector<int>& ranks, bool records) const {
  for (int rank : ranks) {
    const bool delivered = records ? results_.has_records(rank) : results_.has_stats(rank);
    if (!delivered && !detector_.is_dead(rank)) return false;
  }
  return true;
}

void Coordinator::heard_from(int rank) {
  if (rank == setup_.coordinator) return;
  if (detector_.heard_from(rank, now_ms())) readmit(rank);
}

void Coordinator::readmit(int rank) {
  transport_.restore_peer(rank);
  // The plan with it goes first, as on a death: devices then route to it as soon as they hear.
  send_plan();
  publish_membership("join", rank);
}

void Coordinator::declare_dead(int rank, double silent_ms) {
  detector_.declare_dead(rank, silent_ms, now_ms());
  transport_.abandon_peer(rank);
  comm::mark_peer_failure();
  // The plan without the dead rank goes first: devices re-send its work on learning of
  // the death, and should send it along the new plan, not to their fallback, the cloud.
  send_plan();
  publish_membership("leave", rank);
}

void Coordinator::send_plan() { planner_.send_plan(now_ms(), detector_.dead(), online_ranks()); }

void Coordinator::publish_membership(const char* event, int rank) {
  const auto& dead = detector_.dead();
  nlohmann::json membership = {
      {"version", membership_history_.size() + 1},          {"event", event},           {"rank", rank},
      {"dead", std::vector<int>(dead.begin(), dead.end())}, {"online", online_ranks()}, {"at_ms", now_ms()}};
  membership_history_.push_back(membership);
  for (int live : live_ranks()) transport_.send(live, comm::MessageType::kMembership, encode_control(membership));
}

void Coordinator::handle(const comm::Message& message) {
  const int source = static_cast<int>(message.header.source);
  if (message.header.type == comm::MessageType::kHeartbeat) {
    auto body = decode_control(message.payload);
    if (body.contains("arrivals")) {
      planner_.note_arrivals(source, body["arrivals"].get<uint64_t>(), body.value("arrivals_at_ms", now_ms()));
    }
  } else if (message.header.type == comm::MessageType::kReport) {
    results_.add_report(source, decode_control(message.payload), clock_);
  }
}

void Coordinator::stop_servers() {
  stop_sent_ms_ = now_ms();
  for (int rank : live_ranks()) transport_.send(rank, comm::MessageType::kStop, encode_control({}));
}

bool Coordinator::finished() const {
  if (stop_sent_ms_ < 0) return false;
  for (int rank : live_ranks()) {
    if (!results_.has_stats(rank) && now_ms() - stop_sent_ms_ < kServerReportTimeoutMs) return false;
  }
  return true;
}

void Coordinator::write_results(const DeviceStats& cloud_stats) {
  if (setup_.config.out.empty()) return;
  RunEnd end;
  end.cloud_stats = cloud_stats;
  end.dead = detector_.dead();
  end.failures = detector_.failures();
  for (int rank : results_.record_owners()) end.arrivals[rank] = planner_.arrivals(rank);
  end.encrypted = transport_.encrypted();
  end.extra = {{"plans", planner_.history()},
               {"membership", membership_history_},
               {"started_unix_ms", clock_.zero_unix_ms()},
               {"time_scale", clock_.scale()}};
  ResultsCollector::write(setup_.config.out, results_.results(std::move(end), clock_));
}

}  // namespace hddnn::runtime
