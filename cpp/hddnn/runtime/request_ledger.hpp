// The records of the requests one rank owns: an end device's own stream, or, in a
// multi-view setting, the stream its cameras share, owned by their aggregator.
//
// Contract: open() makes a request's record when it arrives, in arrival order
// (request indices 0, 1, 2, ...), so records() lists exactly the requests offered so
// far; answer() keeps the
// first answer to a request and counts any later one as a dropped duplicate, so a
// re-sent request is answered once. Records are on the owner's run clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "hddnn/runtime/outcome.hpp"
#include "hddnn/runtime/payloads.hpp"

namespace hddnn::runtime {

class RequestLedger {
 public:
  /// owner: the rank keeping the records; request ids are (owner << 32) | index.
  RequestLedger(int owner, double deadline_ms) : owner_(owner), deadline_ms_(deadline_ms) {}

  /// sample: the request's index in the test split it draws from; label: its finest label.
  void open(uint32_t request, double arrival_ms, int64_t sample, int label);
  /// Records `answer` at now_ms; false for a duplicate or for a request never opened.
  bool answer(const Answer& answer, double now_ms);
  bool is_open(uint32_t request) const { return request < records_.size(); }
  RequestOutcome& at(uint32_t request) { return records_.at(request); }
  const RequestOutcome& at(uint32_t request) const { return records_.at(request); }
  const std::vector<RequestOutcome>& records() const { return records_; }
  /// Whether every opened request has an answer.
  bool all_answered() const { return unanswered_ == 0; }

 private:
  std::vector<RequestOutcome> records_;
  int owner_;
  double deadline_ms_;
  size_t unanswered_ = 0;
};

}  // namespace hddnn::runtime
