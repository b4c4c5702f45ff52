// What every role (end device, edge node, cloud) shares: its transport, the run's
// configuration and topology, the deployed model, the device meter, and
// emulated compute (a section's thread CPU time, its wall time on an accelerator, or its profiled time under the
// run config's compute "profile", stretched to time/speed).
// Under emulation the device is one FIFO server (comm::ServiceSchedule): a section
// starts when its item was ready (it arrived, or reached this node's queue) or when
// the device finished the previous one, whichever is later, and ends time/speed
// after that start, as the simulator assumes.
//
// Contract: a Node is driven by one thread, its role's run(); the transport is
// the only way it talks to other ranks. It loads nothing: its model, profile and
// request samples come in its NodeSetup (roles.hpp: load_inputs() fills them from
// the run's files; tests hand in their own). Heartbeats go to the coordinator every
// heartbeat period; a coordinator silent for `coordinator_timeout` (before its first
// frame: the run's startup_timeout_s) ends the role with PeerLostError after its
// partial results are written.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "hddnn/comm/service_schedule.hpp"
#include "hddnn/comm/transport.hpp"
#include "hddnn/data/fashion_mnist.hpp"
#include "hddnn/mapping/profile.hpp"
#include "hddnn/mapping/topology.hpp"
#include "hddnn/runtime/deployed_model.hpp"
#include "hddnn/runtime/device_meter.hpp"
#include "hddnn/runtime/run_clock.hpp"
#include "hddnn/runtime/run_config.hpp"

namespace hddnn::runtime {

struct NodeSetup {
  RunConfig config;
  mapping::Topology topology;
  std::unique_ptr<comm::Transport> transport;
  int coordinator = 0;                   ///< rank of the cloud, which coordinates
  std::unique_ptr<DeployedModel> model;  ///< the sections this rank runs (required)
  mapping::ModelProfile profile;         ///< the planner's profile (the cloud; any rank under compute "profile")
  /// The samples its requests draw: an end device's images and labels, a camera's
  /// multi-view samples, an aggregator's labels (others: empty).
  data::LabelledImages requests;
};

/// The view a device sees of a multi-view sample (-1: it sees whole samples);
/// ConfigError when the topology gives it more than one.
int device_view(const mapping::Device& device);

class Node {
 public:
  using Clock = std::chrono::steady_clock;
  /// Throws ConfigError when the setup has no model.
  explicit Node(NodeSetup&& setup);
  virtual ~Node() = default;
  virtual void run() = 0;

 protected:
  double now_ms() const;
  /// Starts the run's clock (and the meter) now: call when the role is ready to serve.
  void start_clock();
  /// Moves the run clock's zero to `zero_unix_ms` on the wall clock (shared with a peer).
  void align_clock(double zero_unix_ms);
  /// The run clock's zero on the wall clock (Unix ms), to align ranks' records.
  double start_unix_ms() const { return clock_.zero_unix_ms(); }
  /// Runs `section` on `input` (and a view mask: see DeployedModel::run) for an item
  /// ready since run time `ready_ms`; under emulation sleeps until the section has
  /// taken time/speed (time: its CPU time or its profiled time) from its start.
  SectionResult compute(Tier section, double ready_ms, const torch::Tensor& input, const torch::Tensor& mask = {});
  /// Sends a heartbeat to the coordinator when one is due; `extra` rides along.
  void heartbeat_if_due(const nlohmann::json& extra = nlohmann::json::object());
  /// Notes any message from the coordinator (every message counts as a sign of life).
  void note_message(const comm::Message& message);
  /// Throws PeerLostError when the coordinator has been silent too long.
  void check_coordinator_alive();
  double coordinator_timeout_ms() const;
  DeviceStats finish_stats();
  const mapping::Device& me() const;
  /// The view this device sees of a multi-view sample (-1: it sees whole samples).
  int my_view() const;

  NodeSetup setup_;
  comm::Transport& transport_;
  const RunConfig& config_;
  int rank_;
  RunClock clock_;
  DeployedModel& model_;
  DeviceMeter meter_;
  double last_heartbeat_ms_ = -1e9;
  double last_heard_coordinator_ms_ = 0;
  bool heard_coordinator_ = false;
  uint64_t answered_here_ = 0;
  std::map<Tier, double> profiled_ms_;  ///< per section, under compute "profile"
  comm::ServiceSchedule schedule_;      ///< the emulated device's FIFO service (under emulation)
};

}  // namespace hddnn::runtime
