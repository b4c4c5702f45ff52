#include "hddnn/runtime/view_aggregator.hpp"

namespace hddnn::runtime {
namespace {

std::set<int> views_of(const std::map<int, int>& cameras) {
  std::set<int> views;
  for (auto [rank, view] : cameras) views.insert(view);
  return views;
}

}  // namespace

ViewAggregator::ViewAggregator(const RunConfig& config, int rank, std::map<int, int> cameras, int view_count,
                               const data::LabelledImages& requests)
    : config_(config),
      cameras_(std::move(cameras)),
      labels_(requests.fine),
      ledger_(rank, config.deadline_ms),
      gathering_(view_count, views_of(cameras_), config.view_wait_ms) {
  schedule_ = ArrivalSchedule(
      poisson_arrivals(config.rate_per_s, config.duration_s, labels_.size(0), config.seed, rank));
}

void ViewAggregator::open(const std::vector<uint32_t>& requests) {
  for (uint32_t request : requests) {
    const auto& arrival = schedule_[request];
    ledger_.open(request, zero_ms_ + arrival.at_ms, arrival.sample,
                 static_cast<int>(labels_[arrival.sample].item<int64_t>()));
  }
}

void ViewAggregator::camera_ready(int rank) {
  if (cameras_.count(rank)) ready_.insert(rank);
}

bool ViewAggregator::ready_to_start() const {
  if (started()) return false;
  for (auto [rank, view] : cameras_) {
    if (!ready_.count(rank) && !dead_.count(rank)) return false;
  }
  return true;
}

void ViewAggregator::admit(double now_ms) {
  if (started()) open(schedule_.release(now_ms - zero_ms_));
}

void ViewAggregator::add_view(const Work& work, uint64_t wire_bytes, double now_ms) {
  if (!started() || work.request >= schedule_.size()) return;  // not a request of this stream
  open(schedule_.release_through(work.request));
  ledger_.at(work.request).bytes_up += static_cast<uint32_t>(wire_bytes);
  gathering_.add(work.request, work.view, work.features, now_ms);
}

void ViewAggregator::camera_died(int rank) {
  auto it = cameras_.find(rank);
  if (it == cameras_.end()) return;
  dead_.insert(rank);
  gathering_.drop_view(it->second);
}

std::vector<GatheredViews> ViewAggregator::take_ready(double now_ms) {
  auto ready = gathering_.take_ready(now_ms);
  for (const auto& gathered : ready) partial_ += gathered.present < cameras_.size();
  return ready;
}

void ViewAggregator::record(const Answer& answer, double now_ms) {
  ledger_.answer(answer, now_ms);
  escalations_.answered(answer.request, now_ms);
}

void ViewAggregator::escalated(const Work& onward, double now_ms) {
  Retransmissions<Work>::mark_sent(escalations_.keep(onward.request, onward), now_ms);
}

std::vector<Work> ViewAggregator::overdue(double now_ms) {
  std::vector<Work> again;
  for (uint32_t request : escalations_.overdue(now_ms, ledger_)) {
    auto& escalation = escalations_.at(request);
    Retransmissions<Work>::mark_sent(escalation, now_ms);
    again.push_back(escalation.item);
  }
  return again;
}

bool ViewAggregator::drained(double now_ms) const {
  if (!started() || !schedule_.done()) return false;
  return ledger_.all_answered() || now_ms - zero_ms_ > (config_.duration_s + config_.drain_timeout_s) * 1000.0;
}

nlohmann::json ViewAggregator::report(double clock_unix_ms) const {
  return {{"records", ledger_.records()},
          {"clock_unix_ms", clock_unix_ms},
          {"multi_view",
           {{"cameras", cameras_.size()},
            {"answered_with_views_absent", partial_},
            {"late_views", gathering_.late_views()}}}};
}

}  // namespace hddnn::runtime
