// Where an end device sends its escalations: a smooth weighted round-robin over
// the destinations of the current plan (the scheme decides them: none for `end`,
// the cloud for `end-cloud`, the plan's fractions for `mapping`). Deterministic,
// and over any window the shares track the fractions within one message.
// Destinations known dead are skipped; when none is left, next() returns -1.
#pragma once

#include <map>
#include <set>

namespace hddnn::runtime {

class Router {
 public:
  /// fractions: destination rank -> share (normalised here; non-positive shares dropped).
  void set_fractions(const std::map<int, double>& fractions);
  void mark_dead(int rank);
  /// A rank marked dead is back (its host rejoined).
  void revive(int rank) { dead_.erase(rank); }
  bool is_dead(int rank) const { return dead_.count(rank) > 0; }
  int next();
  const std::map<int, double>& fractions() const { return weights_; }

 private:
  std::map<int, double> weights_, credit_;
  std::set<int> dead_;
};

}  // namespace hddnn::runtime
