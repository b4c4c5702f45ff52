#include "hddnn/runtime/view_gathering.hpp"

#include <string>

#include "hddnn/errors.hpp"

namespace hddnn::runtime {

ViewGathering::ViewGathering(int view_count, std::set<int> expected, double wait_ms)
    : view_count_(view_count), expected_(std::move(expected)), wait_ms_(wait_ms) {
  for (int view : expected_) {
    if (view < 0 || view >= view_count_) {
      throw ConfigError("view " + std::to_string(view) + " out of range (the model has " + std::to_string(view_count_) +
                        " views)");
    }
  }
}

void ViewGathering::add(uint32_t request, int view, std::vector<uint8_t> features, double now_ms) {
  if (view < 0 || view >= view_count_) {
    throw CommError("work payload: view " + std::to_string(view) + " out of range (the model has " +
                    std::to_string(view_count_) + " views)");
  }
  if (released_.count(request)) {
    ++late_;
    return;
  }
  auto [it, fresh] = waiting_.try_emplace(request);
  auto& waiting = it->second;
  if (fresh) {
    waiting.gathered.request = request;
    waiting.gathered.views.resize(view_count_);
    waiting.first_ms = now_ms;
  }
  auto& slot = waiting.gathered.views[view];
  if (!slot.empty()) return;
  slot = std::move(features);
  ++waiting.gathered.present;
}

void ViewGathering::drop_view(int view) { expected_.erase(view); }

bool ViewGathering::complete(const Waiting& waiting) const {
  for (int view : expected_) {
    if (waiting.gathered.views[view].empty()) return false;
  }
  return true;
}

std::vector<GatheredViews> ViewGathering::take_ready(double now_ms) {
  std::vector<GatheredViews> ready;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (complete(it->second) || now_ms - it->second.first_ms >= wait_ms_) {
      released_.insert(it->first);
      ready.push_back(std::move(it->second.gathered));
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
  return ready;
}

}  // namespace hddnn::runtime
