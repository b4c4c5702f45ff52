#include "hddnn/runtime/server.hpp"

#include "hddnn/runtime/messages.hpp"
#include "hddnn/runtime/multi_view.hpp"
#include "hddnn/wire/wire_format.hpp"

namespace hddnn::runtime {
namespace {

constexpr auto kIdleWait = std::chrono::milliseconds(1);

}  // namespace

Server::Server(NodeSetup setup) : Node(std::move(setup)) {
  if (is_cloud()) coordinator_ = std::make_unique<Coordinator>(setup_, transport_);
  auto cameras = cameras_of(setup_.topology, config_.scheme, rank_);
  if (!cameras.empty()) {
    aggregator_ = std::make_unique<ViewAggregator>(config_, rank_, std::move(cameras), model_.view_count(),
                                                   setup_.requests);
  }
}

void Server::run() {
  start_clock();
  if (coordinator_) coordinator_->start(clock_);
  while (!stopped_) {
    while (auto message = transport_.poll()) handle(*message);
    if (aggregator_) {
      gather_views();
      heartbeat_if_due({{"arrivals", aggregator_->offered_so_far()}});
    } else {
      heartbeat_if_due();
    }
    if (coordinator_) {
      coordinator_->tick();
      if (coordinator_->finished()) break;
    }
    if (!gathered_.empty()) {
      serve_gathered(gathered_.front().item, gathered_.front().ready_ms);
      gathered_.pop_front();
    } else if (work_waiting() > 0) {
      serve_one();
    } else if (auto message = transport_.receive(kIdleWait)) {
      handle(*message);
    }
    check_coordinator_alive();
  }
  if (coordinator_) coordinator_->write_results(finish_stats());
}

void Server::handle(comm::Message& message) {
  note_message(message);
  if (coordinator_) coordinator_->heard_from(static_cast<int>(message.header.source));
  switch (message.header.type) {
    case comm::MessageType::kWork: return on_work(message);
    case comm::MessageType::kAnswer:
      if (aggregator_) {
        const auto reply = decode_answer(message.payload);
        aggregator_->record(reply, now_ms());
      }
      return;
    case comm::MessageType::kHeartbeat:
      if (aggregator_) aggregator_->camera_ready(static_cast<int>(message.header.source));
      if (coordinator_) coordinator_->handle(message);
      return;
    case comm::MessageType::kMembership:
      if (aggregator_) {
        for (int dead : decode_control(message.payload).at("dead").get<std::vector<int>>())
          aggregator_->camera_died(dead);
      }
      if (coordinator_) coordinator_->handle(message);
      return;
    case comm::MessageType::kStop:
      transport_.send(setup_.coordinator, comm::MessageType::kReport, encode_control({{"stats", finish_stats()}}));
      stopped_ = true;
      return;
    default:
      if (coordinator_) coordinator_->handle(message);
  }
}

void Server::on_work(const comm::Message& message) {
  Work work = decode_work(message.payload);
  if (work.relay && !is_cloud()) {
    work.relay = false;
    transport_.send(setup_.coordinator, comm::MessageType::kWork, encode_work(work));
    return;
  }
  if (aggregator_ && work.stage != Stage::kCloud) {
    const uint64_t wire = comm::wire_size(message.payload.size(), transport_.encrypted());
    aggregator_->add_view(work, wire, now_ms());
    return;
  }
  auto& queue = work.resent ? resent_ : queue_;
  queue.push_back({std::move(work), now_ms()});
  meter_.queue_changed(work_waiting());
}

void Server::serve_one() {
  auto& queue = queue_.empty() ? resent_ : queue_;
  auto [work, ready_ms] = std::move(queue.front());
  queue.pop_front();
  meter_.queue_changed(work_waiting());
  if (work.stage == Stage::kCloud) {
    const auto result = compute(Tier::kCloud, ready_ms, model_.unpack(Tier::kCloud, work.features));
    return answer(work.request, work.origin, Tier::kCloud, model_.decide(Tier::kCloud, result, config_.threshold));
  }
  finish_from_edge(work.request, work.origin, ready_ms,
                   compute(Tier::kEdge, ready_ms, model_.unpack(Tier::kEdge, work.features)), false,
                   is_cloud() || work.stage == Stage::kEdgeThenCloud);
}

void Server::finish_from_edge(uint32_t request, uint16_t origin, double ready_ms, const SectionResult& edge,
                              bool answer_at_edge, bool cloud_here) {
  const auto decision = model_.decide(Tier::kEdge, edge, config_.threshold);
  if (decision.fine_confident || answer_at_edge) return answer(request, origin, Tier::kEdge, decision);
  if (!cloud_here) {
    Work onward{request, origin, Stage::kCloud, 0, model_.pack(Tier::kEdge, edge.features)};
    if (aggregator_ && origin == rank_) aggregator_->escalated(onward, now_ms());
    transport_.send(setup_.coordinator, comm::MessageType::kWork, encode_work(onward));
    return;
  }
  const auto result = compute(Tier::kCloud, ready_ms, edge.features);
  answer(request, origin, Tier::kCloud, model_.decide(Tier::kCloud, result, config_.threshold));
}

void Server::answer(uint32_t request, uint16_t origin, Tier exit, const ExitDecision& decision) {
  ++answered_here_;
  const auto fine = static_cast<uint8_t>(decision.fine);
  Answer reply{request, static_cast<uint8_t>(exit), 0, fine, fine};
  if (aggregator_ && origin == rank_) return aggregator_->record(reply, now_ms());
  transport_.send(origin, comm::MessageType::kAnswer, encode_answer(reply));
}

void Server::gather_views() {
  const double now = now_ms();
  if (aggregator_->ready_to_start()) start_stream(now);
  aggregator_->admit(now);
  for (auto& gathered : aggregator_->take_ready(now)) gathered_.push_back({std::move(gathered), now});
  for (auto work : aggregator_->overdue(now)) {
    work.resent = true;
    transport_.send(setup_.coordinator, comm::MessageType::kWork, encode_work(work));
  }
  meter_.queue_changed(work_waiting() + gathered_.size());
  report_records_when_drained();
}

void Server::start_stream(double now) {
  aggregator_->start_stream(now);
  // The cameras offer the requests on this clock from now on, so arrival times mean the same here.
  for (auto [camera, view] : aggregator_->cameras()) {
    transport_.send(camera, comm::MessageType::kPlan, encode_control({{"clock_unix_ms", clock_.unix_ms_at(now)}}));
  }
}

void Server::serve_gathered(const GatheredViews& gathered, double ready_ms) {
  const auto [views, mask] = model_.stack_views(gathered.views);
  // Under `end` the aggregated local exit answers everything (DDNN's local exit).
  finish_from_edge(gathered.request, static_cast<uint16_t>(rank_), ready_ms,
                   compute(Tier::kEdge, ready_ms, views, mask), config_.scheme == "end", is_cloud());
}

void Server::report_records_when_drained() {
  if (records_reported_ || !gathered_.empty() || !aggregator_->drained(now_ms())) return;
  records_reported_ = true;
  transport_.send(setup_.coordinator, comm::MessageType::kReport, encode_control(aggregator_->report(start_unix_ms())));
}

}  // namespace hddnn::runtime
