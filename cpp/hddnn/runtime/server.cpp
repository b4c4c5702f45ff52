#include "hddnn/runtime/server.hpp"

#include "hddnn/runtime/messages.hpp"

namespace hddnn::runtime {
namespace {

constexpr auto kIdleWait = std::chrono::milliseconds(1);

std::vector<Tier> sections_of(const NodeSetup& setup) {
  if (setup.transport->rank() == setup.coordinator) return {Tier::kEdge, Tier::kCloud};
  return {Tier::kEdge};
}

}  // namespace

Server::Server(NodeSetup setup) : Node(std::move(setup), sections_of(setup)) {
  if (is_cloud()) coordinator_ = std::make_unique<Coordinator>(setup_, transport_);
}

void Server::run() {
  start_clock();
  if (coordinator_) coordinator_->start(start_, start_unix_ms());
  while (!stopped_) {
    while (auto message = transport_.poll()) handle(*message);
    heartbeat_if_due();
    if (coordinator_) {
      coordinator_->tick();
      if (coordinator_->finished()) break;
    }
    if (!queue_.empty()) {
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
  switch (message.header.type) {
    case comm::MessageType::kWork:
      queue_.push_back(decode_work(message.payload));
      meter_.queue_changed(queue_.size());
      return;
    case comm::MessageType::kStop:
      transport_.send(setup_.coordinator, comm::MessageType::kReport,
                      encode_control({{"stats", finish_stats()}}));
      stopped_ = true;
      return;
    default:
      if (coordinator_) coordinator_->handle(message);
  }
}

void Server::serve_one() {
  Work work = std::move(queue_.front());
  queue_.pop_front();
  meter_.queue_changed(queue_.size());
  SectionResult result;
  if (work.stage != Stage::kCloud) {
    result = compute(Tier::kEdge, model_.unpack(Tier::kEdge, work.features));
    const auto decision = model_.decide(Tier::kEdge, result, config_.threshold);
    if (decision.fine_confident) return answer(work, Tier::kEdge, decision);
    if (!is_cloud()) {
      Work onward{work.request, work.origin, Stage::kCloud, model_.pack(Tier::kEdge, result.features)};
      transport_.send(setup_.coordinator, comm::MessageType::kWork, encode_work(onward));
      return;
    }
    result = compute(Tier::kCloud, result.features);
  } else {
    result = compute(Tier::kCloud, model_.unpack(Tier::kCloud, work.features));
  }
  answer(work, Tier::kCloud, model_.decide(Tier::kCloud, result, config_.threshold));
}

void Server::answer(const Work& work, Tier exit, const ExitDecision& decision) {
  ++answered_here_;
  Answer reply{work.request, static_cast<uint8_t>(exit), false, static_cast<uint8_t>(decision.fine),
               static_cast<uint8_t>(decision.coarse)};
  transport_.send(work.origin, comm::MessageType::kAnswer, encode_answer(reply));
}

}  // namespace hddnn::runtime
