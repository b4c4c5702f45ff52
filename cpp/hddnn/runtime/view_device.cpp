#include "hddnn/runtime/view_device.hpp"

#include "hddnn/data/request_samples.hpp"
#include "hddnn/runtime/messages.hpp"
#include "hddnn/runtime/multi_view.hpp"
#include "hddnn/runtime/payloads.hpp"

namespace hddnn::runtime {
namespace {

constexpr double kIdleWaitMs = 1.0;

}  // namespace

ViewDevice::ViewDevice(NodeSetup setup)
    : Node(std::move(setup), {Tier::kEnd}), aggregator_(aggregator_of(setup_.topology, config_.scheme, rank_)) {
  auto test = data::load_request_samples({config_.data_file, model_.views(), config_.seed, config_.test_limit});
  model_.check_requests(test, config_.data_file.empty() ? "Fashion-MNIST" : config_.data_file);
  views_ = test.images.select(1, my_view()).contiguous();
  schedule_ = ArrivalSchedule(
      poisson_arrivals(config_.rate_per_s, config_.duration_s, views_.size(0), config_.seed, aggregator_));
}

void ViewDevice::run() {
  start_clock();
  bool reported = false;
  while (!stopped_) {
    if (clock_aligned_) {
      for (uint32_t request : schedule_.release(now_ms())) queue_.push_back(request);
    } else {
      announce_ready_if_due();
    }
    meter_.queue_changed(queue_.size());
    while (auto message = transport_.poll()) handle(*message);
    heartbeat_if_due();
    if (!queue_.empty()) {
      serve_one();
    } else if (!reported && clock_aligned_ && schedule_.done()) {
      transport_.send(setup_.coordinator, comm::MessageType::kReport,
                      encode_control({{"stats", finish_stats()}, {"clock_unix_ms", start_unix_ms()}}));
      reported = true;
    } else {
      const auto wait = std::chrono::milliseconds(static_cast<int64_t>(schedule_.wait_ms(now_ms(), kIdleWaitMs)));
      if (auto message = transport_.receive(wait)) handle(*message);
    }
    check_coordinator_alive();
  }
}

void ViewDevice::announce_ready_if_due() {
  // Under end-cloud the aggregator is the coordinator, which gets the regular heartbeats.
  if (aggregator_ == setup_.coordinator || now_ms() - last_ready_ms_ < config_.heartbeat_ms) return;
  last_ready_ms_ = now_ms();
  transport_.send(aggregator_, comm::MessageType::kHeartbeat, encode_control({}));
}

void ViewDevice::serve_one() {
  const uint32_t request = queue_.front();
  queue_.pop_front();
  meter_.queue_changed(queue_.size());
  const auto result = compute(Tier::kEnd, schedule_[request].at_ms, views_[schedule_[request].sample].unsqueeze(0));
  const Stage stage = aggregator_ == setup_.coordinator ? Stage::kEdgeThenCloud : Stage::kEdge;
  Work work{request, static_cast<uint16_t>(rank_), stage, static_cast<uint8_t>(my_view()),
            model_.pack(Tier::kEnd, result.features)};
  transport_.send(aggregator_, comm::MessageType::kWork, encode_work(work));
}

void ViewDevice::handle(const comm::Message& message) {
  note_message(message);
  if (message.header.type == comm::MessageType::kStop) stopped_ = true;
  if (message.header.type == comm::MessageType::kPlan && static_cast<int>(message.header.source) == aggregator_) {
    align_clock(decode_control(message.payload).at("clock_unix_ms").get<double>());
    clock_aligned_ = true;
  }
}

}  // namespace hddnn::runtime
