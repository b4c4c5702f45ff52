#include "hddnn/runtime/request_ledger.hpp"

#include <string>

#include "hddnn/errors.hpp"

namespace hddnn::runtime {

void RequestLedger::open(uint32_t request, double arrival_ms, int64_t sample, int label) {
  if (request != records_.size()) {
    throw HddnnError("request ledger: request " + std::to_string(request) + " opened out of order (next is " +
                     std::to_string(records_.size()) + ")");
  }
  auto& r = records_.emplace_back();
  r.id = (uint64_t(owner_) << 32) | request;
  r.origin = owner_;
  r.sample = sample;
  r.arrival_ms = arrival_ms;
  r.deadline_ms = deadline_ms_;
  r.fine_label = label;
  ++unanswered_;
}

bool RequestLedger::answer(const Answer& answer, double now_ms) {
  if (!is_open(answer.request)) return false;
  auto& r = records_[answer.request];
  if (r.answers++ > 0) return false;  // a duplicate (re-sent work answered twice): dropped
  --unanswered_;
  r.answered_ms = now_ms;
  r.exit = static_cast<Tier>(answer.exit_tier);
  r.fine_pred = answer.fine;
  r.answer_set = answer.label_set;
  r.answer_pred = answer.label;
  return true;
}

}  // namespace hddnn::runtime
