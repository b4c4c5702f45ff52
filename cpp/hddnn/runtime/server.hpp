// The edge-node and cloud roles: serve escalated work in arrival order (FIFO,
// batch 1), running the sections the work's stage asks (see Placement):
//   kEdge:          the edge section; a confident exit answers the origin device,
//                   the rest go on to the cloud as the edge section's packed features;
//   kEdgeThenCloud: the edge section, then (when not confident) the cloud section here;
//   kCloud:         the cloud section, whose exit answers.
// Work marked relay is forwarded to the cloud as it came, without compute. Work marked
// resent (recovered from a dead node, or overdue) waits until no fresh work does, so a
// burst of recovered work does not delay the requests arriving after a failure. Under
// `mapping` an edge node loads the cloud section too, since a plan may place it
// there; the cloud loads both always. The cloud also hosts the Coordinator.
// In a multi-view setting the server its cameras send to is their aggregator
// (multi_view.hpp): a ViewAggregator owns the shared requests (started once every
// camera has heartbeaten it), the server runs the
// aggregating edge section on each request's gathered views (with the mask of
// those present), answers at the edge exit or escalates to the cloud, whose answer
// comes back here; once drained it sends the records to the coordinator.
// A server stops on kStop from the coordinator, after sending its statistics.
#pragma once

#include <deque>
#include <memory>

#include "hddnn/runtime/coordinator.hpp"
#include "hddnn/runtime/node.hpp"
#include "hddnn/runtime/payloads.hpp"
#include "hddnn/runtime/view_aggregator.hpp"

namespace hddnn::runtime {

class Server : public Node {
 public:
  explicit Server(NodeSetup setup);
  void run() override;

 private:
  void handle(comm::Message& message);
  void on_work(const comm::Message& message);
  void serve_one();
  /// Applies the edge exit to `edge` (the edge section's output for `request`, an
  /// item ready here since `ready_ms`): answers there when confident (or always:
  /// `answer_at_edge`), else the cloud goes on.
  /// `cloud_here`: the cloud section runs on this node rather than at the cloud.
  void finish_from_edge(uint32_t request, uint16_t origin, double ready_ms, const SectionResult& edge,
                        bool answer_at_edge, bool cloud_here);
  /// Answers `origin` (recorded here when this server's aggregator owns the request).
  void answer(uint32_t request, uint16_t origin, Tier exit, const ExitDecision& decision);
  bool is_cloud() const { return rank_ == setup_.coordinator; }
  size_t work_waiting() const { return queue_.size() + resent_.size(); }
  // Aggregator side of a multi-view setting.
  void gather_views();
  void start_stream(double now);
  void serve_gathered(const GatheredViews& gathered, double ready_ms);
  void report_records_when_drained();

  /// An item waiting here, with the run time it became ready (see Node::compute).
  template <typename Item>
  struct Waiting {
    Item item;
    double ready_ms;
  };
  std::deque<Waiting<Work>> queue_;   ///< fresh work
  std::deque<Waiting<Work>> resent_;  ///< work sent again, served when queue_ is empty
  std::deque<Waiting<GatheredViews>> gathered_;
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<ViewAggregator> aggregator_;
  bool records_reported_ = false;
  bool stopped_ = false;
};

}  // namespace hddnn::runtime
