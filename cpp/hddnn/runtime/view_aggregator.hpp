// The request-owning side of a multi-view setting, hosted by the aggregator's
// Server (see multi_view.hpp): it offers the shared request stream (the same
// Poisson schedule its cameras draw, seeded by the aggregator's rank), opens each
// request's record as it arrives, gathers the cameras' views (ViewGathering: all
// live cameras, or as many as came within `view_wait_ms`), and records answers.
//
// The stream starts once every camera is ready (each heartbeats its aggregator
// until then; a camera declared dead is not awaited): start_stream() sets its zero
// on the aggregator's clock, and the cameras take the same zero (the aggregator's
// kPlan), so a camera still loading its model never starts behind a backlog.
// Contract: every offered request has one record here; latency runs from the
// shared arrival time to the answer at the aggregator. A camera declared dead
// stops being waited for; its views are absent from later requests, which the
// aggregator answers with the views it has. drained() once the schedule is over
// and every request is answered (or the drain timeout passed); report() is the
// records report the coordinator collects.
// Its escalations to the cloud are kept until answered and sent again when the
// answer is overdue (Retransmissions, as an end device's), so a
// frame lost or rejected on the way costs time, not the sample.
#pragma once

#include <torch/types.h>
#include <nlohmann/json.hpp>

#include <map>
#include <set>

#include "hddnn/data/fashion_mnist.hpp"
#include "hddnn/runtime/arrivals.hpp"
#include "hddnn/runtime/payloads.hpp"
#include "hddnn/runtime/request_ledger.hpp"
#include "hddnn/runtime/retransmissions.hpp"
#include "hddnn/runtime/run_config.hpp"
#include "hddnn/runtime/view_gathering.hpp"

namespace hddnn::runtime {

class ViewAggregator {
 public:
  /// cameras: camera rank -> view; view_count: the model's; requests: the samples the
  /// stream draws (their labels: the cameras hold the views themselves).
  ViewAggregator(const RunConfig& config, int rank, std::map<int, int> cameras, int view_count,
                 const data::LabelledImages& requests);

  void camera_ready(int rank);
  /// Whether every camera not declared dead is ready (and the stream not started yet).
  bool ready_to_start() const;
  /// The shared stream's zero on this rank's clock (its arrivals are offsets from it).
  void start_stream(double zero_ms) { zero_ms_ = zero_ms; }
  bool started() const { return zero_ms_ >= 0; }
  /// Opens the records of the requests arrived by now_ms.
  void admit(double now_ms);
  void add_view(const Work& work, uint64_t wire_bytes, double now_ms);
  void camera_died(int rank);
  /// Requests whose views are gathered, oldest first.
  std::vector<GatheredViews> take_ready(double now_ms);
  /// Records an answer to one of its requests.
  void record(const Answer& answer, double now_ms);
  /// Keeps a copy of work escalated to the cloud at now_ms until its answer comes.
  void escalated(const Work& onward, double now_ms);
  /// Escalations whose answer is overdue at now_ms, to send again (counted as re-sends).
  std::vector<Work> overdue(double now_ms);
  bool drained(double now_ms) const;
  size_t offered_so_far() const { return schedule_.released(); }
  const std::map<int, int>& cameras() const { return cameras_; }
  nlohmann::json report(double clock_unix_ms) const;

 private:
  void open(const std::vector<uint32_t>& requests);

  const RunConfig& config_;
  std::map<int, int> cameras_;
  std::set<int> ready_, dead_;
  double zero_ms_ = -1;
  torch::Tensor labels_;  ///< of the request samples, in the finest set
  ArrivalSchedule schedule_;
  RequestLedger ledger_;
  ViewGathering gathering_;
  Retransmissions<Work> escalations_;
  uint64_t partial_ = 0;  ///< requests answered with some views absent
};

}  // namespace hddnn::runtime
