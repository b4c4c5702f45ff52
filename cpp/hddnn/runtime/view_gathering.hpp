// Gathers the views of multi-view requests at their aggregator (DDNN's setting:
// several end devices each see one view of the same sample).
//
// Contract: a request is ready once every expected view has arrived, or `wait_ms`
// after its first view came, whichever is first; the views still missing are then
// absent (DDNN's missing-camera case) and the aggregator runs with a mask. A view
// stops being expected when its device is declared dead, which may make waiting
// requests ready at once. A view arriving after its request was released is
// counted late and dropped; a view received twice keeps the first copy.
// Torch-free: views travel as their packed feature bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

namespace hddnn::runtime {

struct GatheredViews {
  uint32_t request = 0;
  std::vector<std::vector<uint8_t>> views;  ///< by view index; empty = absent
  size_t present = 0;
};

class ViewGathering {
 public:
  ViewGathering(int view_count, std::set<int> expected, double wait_ms);

  /// Adds view `view` of `request`, received at now_ms (CommError for a view out of range).
  void add(uint32_t request, int view, std::vector<uint8_t> features, double now_ms);
  /// The view's device is gone: stop waiting for it.
  void drop_view(int view);
  /// Requests ready at now_ms, oldest request first; each is released once.
  std::vector<GatheredViews> take_ready(double now_ms);
  bool empty() const { return waiting_.empty(); }
  uint64_t late_views() const { return late_; }
  const std::set<int>& expected() const { return expected_; }

 private:
  struct Waiting {
    GatheredViews gathered;
    double first_ms = 0;
  };
  bool complete(const Waiting& waiting) const;

  int view_count_;
  std::set<int> expected_;
  double wait_ms_;
  std::map<uint32_t, Waiting> waiting_;
  std::set<uint32_t> released_;
  uint64_t late_ = 0;
};

}  // namespace hddnn::runtime
