// The edge-node and cloud roles: serve escalated work in arrival order (FIFO,
// batch 1), one section at a time.
//   edge:  runs the edge section; a confident exit answers the origin device,
//          the rest go on to the cloud as the edge section's packed features;
//   cloud: runs what the work's stage asks (the edge section first when an end
//          device sent it straight here, exiting there when confident) and
//          answers from the final exit. The cloud also hosts the Coordinator.
// A server stops on kStop from the coordinator, after sending its statistics.
#pragma once

#include <deque>
#include <memory>

#include "hddnn/runtime/coordinator.hpp"
#include "hddnn/runtime/node.hpp"
#include "hddnn/runtime/payloads.hpp"

namespace hddnn::runtime {

class Server : public Node {
 public:
  explicit Server(NodeSetup setup);
  void run() override;

 private:
  void handle(comm::Message& message);
  void serve_one();
  void answer(const Work& work, Tier exit, const ExitDecision& decision);
  bool is_cloud() const { return rank_ == setup_.coordinator; }

  std::deque<Work> queue_;
  std::unique_ptr<Coordinator> coordinator_;
  bool stopped_ = false;
};

}  // namespace hddnn::runtime
