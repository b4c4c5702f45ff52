// The camera role of a multi-view setting (see multi_view.hpp): the device sees
// one view of every sample of the stream its aggregator owns, runs its view's end
// section on it, and sends the packed features (never the view's pixels) to the
// aggregator, which answers. It keeps no records: the aggregator owns them. When
// the stream is over and its queue empty it reports its statistics to the
// coordinator and waits for kStop; a silent coordinator ends it with PeerLostError.
#pragma once

#include <deque>

#include "hddnn/runtime/arrivals.hpp"
#include "hddnn/runtime/node.hpp"

namespace hddnn::runtime {

class ViewDevice : public Node {
 public:
  explicit ViewDevice(NodeSetup setup);
  void run() override;

 private:
  void serve_one();
  void handle(const comm::Message& message);
  void announce_ready_if_due();

  torch::Tensor views_;  ///< N x 1 x H x W: this device's view of every test sample
  int aggregator_;
  ArrivalSchedule schedule_;
  std::deque<uint32_t> queue_;
  bool clock_aligned_ = false;
  double last_ready_ms_ = -1e9;
  bool stopped_ = false;
};

}  // namespace hddnn::runtime
