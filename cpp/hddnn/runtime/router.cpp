#include "hddnn/runtime/router.hpp"

namespace hddnn::runtime {

void Router::set_fractions(const std::map<int, double>& fractions) {
  weights_.clear();
  double total = 0;
  for (auto [rank, share] : fractions) total += share > 0 ? share : 0;
  for (auto [rank, share] : fractions) {
    if (share > 0 && total > 0) weights_[rank] = share / total;
  }
  credit_.clear();
}

void Router::mark_dead(int rank) { dead_.insert(rank); }

int Router::next() {
  int best = -1;
  double live_total = 0;
  for (auto [rank, weight] : weights_) {
    if (dead_.count(rank)) continue;
    live_total += weight;
    credit_[rank] += weight;
    if (best < 0 || credit_[rank] > credit_[best]) best = rank;
  }
  if (best >= 0) credit_[best] -= live_total;
  return best;
}

}  // namespace hddnn::runtime
