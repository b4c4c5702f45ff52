#include "hddnn/runtime/end_device.hpp"

#include <fstream>
#include <limits>

#include "hddnn/errors.hpp"
#include "hddnn/runtime/messages.hpp"
#include "hddnn/wire/wire_format.hpp"

namespace hddnn::runtime {
namespace {

constexpr double kIdleWaitMs = 1.0;

}  // namespace

EndDevice::EndDevice(NodeSetup setup)
    : Node(std::move(setup)), ledger_(rank_, config_.deadline_ms), placement_(Placement::for_scheme(config_.scheme)) {
  images_ = setup_.requests.images;
  labels_ = setup_.requests.fine;
  schedule_ = ArrivalSchedule(
      poisson_arrivals(config_.rate_per_s, config_.duration_s, images_.size(0), config_.seed, rank_));
  if (config_.scheme != "end") router_.set_fractions({{setup_.coordinator, 1.0}});
}

void EndDevice::run() {
  await_first_plan();
  start_clock();
  bool reported = false;
  while (!stopped_) {
    admit_arrivals();
    while (auto message = transport_.poll()) handle(*message);
    resend_overdue();
    watch_destinations();
    heartbeat_if_due({{"arrivals", schedule_.released()}, {"arrivals_at_ms", now_ms()}});
    if (!queue_.empty()) {
      serve_one();
    } else if (!reported && drained()) {
      report();
      reported = true;
    } else {
      const double wait = schedule_.wait_ms(now_ms(), kIdleWaitMs);
      if (auto message = transport_.receive(std::chrono::milliseconds(static_cast<int64_t>(wait)))) {
        handle(*message);
      }
    }
    try {
      check_coordinator_alive();
    } catch (const PeerLostError& e) {
      keep_records_locally(e.what());
      throw;
    }
  }
}

void EndDevice::admit_arrivals() {
  for (uint32_t request : schedule_.release(now_ms())) {
    const auto& arrival = schedule_[request];
    ledger_.open(request, arrival.at_ms, arrival.sample, static_cast<int>(labels_[arrival.sample].item<int64_t>()));
    queue_.push_back(request);
  }
  meter_.queue_changed(queue_.size());
}

void EndDevice::serve_one() {
  const uint32_t request = queue_.front();
  queue_.pop_front();
  meter_.queue_changed(queue_.size());
  const size_t local = placement_.local_sections();
  SectionResult result;
  ExitDecision decision;
  for (size_t k = 0; k < local; ++k) {
    const Tier section = Placement::section(k);
    result = compute(section, schedule_[request].at_ms, k == 0 ? images_[schedule_[request].sample] : result.features);
    decision = model_.decide(section, result, config_.threshold);
    // The last section placed here answers when nothing is placed above it (always under `end`).
    if (decision.fine_confident || k + 1 == placement_.size()) return answer_locally(request, section, decision, false);
  }
  const Tier last = Placement::section(local - 1);
  const bool escalation_too_late = config_.deadline_ms > 0 && pending_.round_trip().smoothed_ms() > config_.deadline_ms;
  if (escalation_too_late && decision.coarse_confident()) return answer_locally(request, last, decision, true);
  escalate(request, last, result);
  if (!pending_.contains(request)) answer_locally(request, last, decision, false);  // nowhere to send it
}

void EndDevice::escalate(uint32_t request, Tier section, const SectionResult& result) {
  Work work{request, static_cast<uint16_t>(rank_), Stage::kEdge, 0, model_.pack(section, result.features)};
  if (!send_work(pending_.keep(request, {-1, std::move(work), placement_}))) pending_.forget(request);
}

bool EndDevice::send_work(Pending& pending) {
  Escalation& escalation = pending.item;
  escalation.destination = router_.next();
  if (escalation.destination < 0 && config_.scheme != "end") escalation.destination = nearest_live_server();
  if (escalation.destination < 0) return false;
  const Dispatch dispatch = escalation.placement.dispatch(escalation.destination == setup_.coordinator);
  escalation.work.stage = dispatch.stage;
  escalation.work.relay = dispatch.relay;
  escalation.work.resent = pending.sends > 0;
  Retransmissions<Escalation>::mark_sent(pending, now_ms());
  auto payload = encode_work(escalation.work);
  ledger_.at(escalation.work.request).bytes_up += static_cast<uint32_t>(
      comm::wire_size(payload.size(), transport_.encrypted()));
  transport_.send(escalation.destination, comm::MessageType::kWork, std::move(payload));
  return true;
}

void EndDevice::resend_overdue() {
  for (uint32_t request : pending_.overdue(now_ms(), ledger_)) send_work(pending_.at(request));
}

void EndDevice::answer_locally(uint32_t request, Tier exit, const ExitDecision& decision, bool coarse_only) {
  ++answered_here_;
  const auto fine = static_cast<uint8_t>(decision.fine);
  on_answer({request, static_cast<uint8_t>(exit), static_cast<uint8_t>(coarse_only ? decision.coarse_set : 0), fine,
             coarse_only ? static_cast<uint8_t>(decision.coarse) : fine});
}

void EndDevice::handle(comm::Message& message) {
  note_message(message);
  switch (message.header.type) {
    case comm::MessageType::kAnswer: return on_answer(decode_answer(message.payload));
    case comm::MessageType::kPlan: return on_plan(decode_control(message.payload));
    case comm::MessageType::kMembership: return on_membership(decode_control(message.payload));
    case comm::MessageType::kStop: stopped_ = true; return;
    default: return;
  }
}

void EndDevice::on_answer(const Answer& answer) {
  if (!ledger_.answer(answer, now_ms())) return;
  pending_.answered(answer.request, ledger_.at(answer.request).answered_ms);
}

void EndDevice::await_first_plan() {
  if (config_.scheme == "end") return;
  while (!planned_ && !stopped_) {
    if (auto message = transport_.receive(std::chrono::milliseconds(1))) handle(*message);
    heartbeat_if_due();
    check_coordinator_alive();
  }
}

void EndDevice::on_plan(const nlohmann::json& plan) {
  planned_ = true;
  std::map<int, double> fractions;
  for (auto& [rank, share] : plan.at("fractions").items()) fractions[std::stoi(rank)] = share.get<double>();
  router_.set_fractions(fractions);
  if (plan.contains("sections"))
    placement_ = Placement::from_names(plan.at("sections").get<std::vector<std::string>>());
  pending_.round_trip().predict(plan.value("predicted_escalation_ms", 0.0));
}

void EndDevice::on_membership(const nlohmann::json& membership) {
  for (int dead : membership.at("dead").get<std::vector<int>>()) {
    if (!router_.is_dead(dead)) lose_destination(dead);
  }
  for (int online : membership.at("online").get<std::vector<int>>()) router_.revive(online);
}

void EndDevice::watch_destinations() {
  const double now = now_ms();
  if (now - last_watch_ms_ < config_.heartbeat_ms) return;
  last_watch_ms_ = now;
  for (const auto& [rank, share] : router_.fractions()) {
    if (rank == setup_.coordinator || router_.is_dead(rank)) continue;
    if (transport_.peer_process_alive(rank) == comm::ProcessLiveness::kDead) {
      lose_destination(rank);
    }
  }
}

int EndDevice::nearest_live_server() const {
  int nearest = setup_.coordinator;  // alive while the run is
  double nearest_ms = std::numeric_limits<double>::infinity();
  for (const auto& link : me().links) {
    const bool server = setup_.topology.devices.at(link.to).tier != mapping::Tier::End;
    if (!server || router_.is_dead(link.to) || link.latency_ms >= nearest_ms) continue;
    nearest = link.to;
    nearest_ms = link.latency_ms;
  }
  return nearest;
}

void EndDevice::lose_destination(int dead) {
  router_.mark_dead(dead);
  for (auto& [request, pending] : pending_) {
    if (pending.item.destination == dead && send_work(pending)) ++reassigned_;
  }
}

bool EndDevice::drained() const {
  if (!schedule_.done() || !queue_.empty()) return false;
  return pending_.empty() || now_ms() > (config_.duration_s + config_.drain_timeout_s) * 1000.0;
}

nlohmann::json EndDevice::report_body() {
  return {{"records", ledger_.records()},
          {"stats", finish_stats()},
          {"reassigned", reassigned_},
          {"clock_unix_ms", start_unix_ms()}};
}

void EndDevice::report() {
  transport_.send(setup_.coordinator, comm::MessageType::kReport, encode_control(report_body()));
}

void EndDevice::keep_records_locally(const std::string& reason) {
  if (config_.out.empty()) return;
  auto body = report_body();
  body["rank"] = rank_;
  body["reason"] = reason;
  std::ofstream(config_.out + ".rank" + std::to_string(rank_) + ".records.json") << body.dump() << "\n";
}

}  // namespace hddnn::runtime
