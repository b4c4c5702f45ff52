// The end-device role. It offers Poisson requests drawn from the test split
// (Fashion-MNIST's, or the run's data file: data/request_samples.hpp),
// runs each through the sections its placement keeps on the device (the end
// section; under `mapping` whichever the plan places on the end tier, see
// Placement), and applies the exit policy at each of their exits:
//   - a confident fine exit answers (the last section of the model always does);
//   - when an escalation cannot meet the request's deadline (the predicted
//     escalation latency) and a coarser exit is confident, it answers at that label
//     set (the confident one with the most classes);
//   - otherwise it escalates the last local section's packed features to the
//     router's destination (never under `end`), with the stage the placement gives
//     for that destination, and keeps a copy until the answer comes back.
// Nothing escalated is lost: work whose answer is overdue (RoundTripEstimator's
// timeout, with backoff: Retransmissions) is sent again, which recovers work or answers a receiver
// rejected (tampered frames, see TamperingTransport); work toward a rank declared
// dead is re-sent at once. Answers after the first are dropped by request id.
// Raw inputs never leave the device: the only payload it builds from a request
// is its section's features (encode_work over pack()).
// When requests stop and every one is answered (or the drain timeout passes)
// it sends its records and statistics to the coordinator and waits for kStop.
// If the coordinator goes silent instead, it writes its records beside the
// results file (<out>.rank<i>.records.json) before ending with PeerLostError,
// so no measurement is lost with the coordinator.
#pragma once

#include <deque>
#include <map>

#include "hddnn/runtime/arrivals.hpp"
#include "hddnn/runtime/node.hpp"
#include "hddnn/runtime/payloads.hpp"
#include "hddnn/runtime/placement.hpp"
#include "hddnn/runtime/request_ledger.hpp"
#include "hddnn/runtime/retransmissions.hpp"
#include "hddnn/runtime/router.hpp"

namespace hddnn::runtime {

class EndDevice : public Node {
 public:
  explicit EndDevice(NodeSetup setup);
  void run() override;

 private:
  struct Escalation {  // what re-sending an escalated request needs
    int destination = -1;
    Work work;
    Placement placement;  ///< the one its local sections ran under
  };
  using Pending = Retransmissions<Escalation>::Entry;

  void admit_arrivals();
  void serve_one();
  void escalate(uint32_t request, Tier section, const SectionResult& result);
  /// Sends (or re-sends) pending work to the router's next live destination.
  bool send_work(Pending& pending);
  /// Re-sends pending work whose answer is overdue.
  void resend_overdue();
  void answer_locally(uint32_t request, Tier exit, const ExitDecision& decision, bool coarse_only);
  void handle(comm::Message& message);
  void on_answer(const Answer& answer);
  void on_plan(const nlohmann::json& plan);
  /// Every heartbeat period: a destination whose process this host sees dead is lost at
  /// once, before the coordinator's membership change reaches this device.
  void watch_destinations();
  /// Routes around `dead` and re-sends the escalations pending there.
  void lose_destination(int dead);
  /// Where work goes while every planned destination is dead (until the next plan): the
  /// live edge node or cloud this device reaches over the lowest-latency link.
  int nearest_live_server() const;
  /// Until the coordinator's first plan is here (any scheme but `end`): a device starts
  /// serving with its plan, as a deployment would, not with the fallback route.
  void await_first_plan();
  void on_membership(const nlohmann::json& membership);
  bool drained() const;
  void report();
  nlohmann::json report_body();
  void keep_records_locally(const std::string& reason);

  torch::Tensor images_, labels_;  ///< the request samples (labels: the finest set's)
  ArrivalSchedule schedule_;
  RequestLedger ledger_;
  std::deque<uint32_t> queue_;
  Retransmissions<Escalation> pending_;
  Router router_;
  Placement placement_;
  uint64_t reassigned_ = 0;
  bool stopped_ = false;
  bool planned_ = false;
  double last_watch_ms_ = -1e9;
};

}  // namespace hddnn::runtime
