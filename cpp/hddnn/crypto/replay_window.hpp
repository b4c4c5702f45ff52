// ReplayWindow: the receiver's record of which sequence numbers of one link
// direction it has accepted (highest seen + a 64-wide bitmap behind it, as in
// IPsec/DTLS). Sequence 0 is never valid for data.
//
// Contract: fresh(s) is true when s has not been accepted and is within the
// window (s > highest - 64); accept(s) records it. Check fresh() before opening a
// message and accept() only after it authenticated, so forgeries cannot move the window.
#pragma once

#include <cstdint>

namespace hddnn::crypto {

class ReplayWindow {
 public:
  static constexpr uint64_t kWidth = 64;

  bool fresh(uint64_t sequence) const;
  void accept(uint64_t sequence);
  uint64_t highest() const { return highest_; }

 private:
  uint64_t highest_ = 0;
  uint64_t seen_ = 0;  ///< bit i: highest_ - i was accepted
};

}  // namespace hddnn::crypto
