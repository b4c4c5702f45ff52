#include "hddnn/crypto/replay_window.hpp"

namespace hddnn::crypto {

bool ReplayWindow::fresh(uint64_t sequence) const {
  if (sequence == 0) return false;
  if (sequence > highest_) return true;
  uint64_t behind = highest_ - sequence;
  if (behind >= kWidth) return false;
  return (seen_ & (uint64_t{1} << behind)) == 0;
}

void ReplayWindow::accept(uint64_t sequence) {
  if (sequence > highest_) {
    uint64_t shift = sequence - highest_;
    seen_ = shift >= kWidth ? 0 : seen_ << shift;
    seen_ |= 1;
    highest_ = sequence;
  } else {
    seen_ |= uint64_t{1} << (highest_ - sequence);
  }
}

}  // namespace hddnn::crypto
