// Retransmissions: the escalated work a request owner keeps until its answer comes,
// to send it again. Both owners use it: an end device (its escalations, with the
// placement and destination they were sent under) and a multi-view aggregator (its
// escalations to the cloud). `Item` is what one needs to send the work again.
//
// Contract: keep() holds a request's item, not yet sent; mark_sent() notes a send
// (sent_ms, sends). overdue() lists the requests whose answer is overdue at now_ms:
// unanswered for RoundTripEstimator's timeout, backed off by the times the request was
// re-sent, which it counts in the ledger's record (resends); the caller sends each
// again. answered() forgets a request and, when it was sent once (Karn: an answer to
// re-sent work could be the first send's), feeds its round trip to the estimator.
// Times are the owner's run clock. Not thread-safe: its role's thread only.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "hddnn/runtime/request_ledger.hpp"
#include "hddnn/runtime/round_trip.hpp"

namespace hddnn::runtime {

template <typename Item>
class Retransmissions {
 public:
  struct Entry {
    Item item;
    double sent_ms = 0;  ///< of the latest send
    uint32_t sends = 0;
  };

  Entry& keep(uint32_t request, Item item) {
    return entries_.insert_or_assign(request, Entry{std::move(item), 0, 0}).first->second;
  }
  void forget(uint32_t request) { entries_.erase(request); }
  static void mark_sent(Entry& entry, double now_ms) {
    entry.sent_ms = now_ms;
    ++entry.sends;
  }
  bool contains(uint32_t request) const { return entries_.count(request) != 0; }
  bool empty() const { return entries_.empty(); }
  Entry& at(uint32_t request) { return entries_.at(request); }

  std::vector<uint32_t> overdue(double now_ms, RequestLedger& ledger) {
    std::vector<uint32_t> again;
    for (auto& [request, entry] : entries_) {
      auto& record = ledger.at(request);
      if (now_ms - entry.sent_ms < round_trip_.timeout_ms(record.resends)) continue;
      ++record.resends;
      again.push_back(request);
    }
    return again;
  }

  void answered(uint32_t request, double answered_ms) {
    auto it = entries_.find(request);
    if (it == entries_.end()) return;
    if (it->second.sends == 1) round_trip_.observe(answered_ms - it->second.sent_ms);
    entries_.erase(it);
  }

  RoundTripEstimator& round_trip() { return round_trip_; }
  const RoundTripEstimator& round_trip() const { return round_trip_; }
  typename std::map<uint32_t, Entry>::iterator begin() { return entries_.begin(); }
  typename std::map<uint32_t, Entry>::iterator end() { return entries_.end(); }

 private:
  std::map<uint32_t, Entry> entries_;
  RoundTripEstimator round_trip_{kRetransmitFloorMs};
};

}  // namespace hddnn::runtime
