#include "hddnn/runtime/node.hpp"

#include <time.h>

#include <chrono>
#include <thread>

#include "hddnn/comm/mpi_env.hpp"
#include "hddnn/errors.hpp"
#include "hddnn/runtime/messages.hpp"
#include "hddnn/runtime/tampering_transport.hpp"

namespace hddnn::runtime {
namespace {

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// What a section's compute time is read from: the thread's CPU time on the CPU; on an
// accelerator the wall time until its outputs are on the host (the thread waits).
double work_clock_ms(const torch::Device& device) {
  if (!device.is_cuda()) return thread_cpu_ms();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

PowerModel power_of(const mapping::Device& device) { return {device.power_w, device.idle_w, device.radio_nj_per_byte}; }

std::map<Tier, double> profiled_times(const RunConfig& config, const mapping::ModelProfile& profile) {
  std::map<Tier, double> times;
  if (config.compute != "profile") return times;
  if (profile.sections.empty()) throw ConfigError("run config: compute \"profile\" but the node was given no profile");
  for (const auto& section : profile.sections) {
    times[parse_tier(section.name)] = section.compute_ms_batch1;
  }
  return times;
}

NodeSetup&& checked(NodeSetup&& setup) {
  if (!setup.transport) throw ConfigError("node setup: no transport");
  if (!setup.model) throw ConfigError("node setup: no deployed model");
  return std::move(setup);
}

}  // namespace

int device_view(const mapping::Device& device) {
  if (device.views.empty()) return -1;
  if (device.views.size() > 1) {
    throw ConfigError("topology: device '" + device.name + "' names " + std::to_string(device.views.size()) +
                      " views; a device runs the end section of one view");
  }
  return device.views.front();
}

Node::Node(NodeSetup&& setup)
    : setup_(checked(std::move(setup))),
      transport_(*setup_.transport),
      config_(setup_.config),
      rank_(transport_.rank()),
      clock_(config_.time_scale),
      model_(*setup_.model),
      meter_(clock_, power_of(setup_.topology.devices.at(rank_))),
      profiled_ms_(profiled_times(config_, setup_.profile)) {}

void Node::start_clock() {
  clock_.restart();
  meter_ = DeviceMeter(clock_, power_of(me()));
  last_heard_coordinator_ms_ = 0;
  last_heartbeat_ms_ = -1e9;  // times on the old clock mean nothing on the new one
  schedule_.reset();
}

void Node::align_clock(double zero_unix_ms) {
  clock_.align(zero_unix_ms);
  meter_ = DeviceMeter(clock_, power_of(me()));
  schedule_.reset();
  last_heard_coordinator_ms_ = now_ms();
  last_heartbeat_ms_ = -1e9;
}

double Node::now_ms() const { return clock_.now_ms(); }

const mapping::Device& Node::me() const { return setup_.topology.devices.at(rank_); }

int Node::my_view() const { return device_view(me()); }

SectionResult Node::compute(Tier section, double ready_ms, const torch::Tensor& input, const torch::Tensor& mask) {
  const double work_start = work_clock_ms(model_.device());
  SectionResult result = model_.run(section, input, mask);
  const double cpu_ms = work_clock_ms(model_.device()) - work_start;
  const double work_ms = profiled_ms_.empty() ? cpu_ms : profiled_ms_.at(section);
  const double emulated_ms = config_.emulate ? work_ms / me().speed : cpu_ms;
  if (config_.emulate) {
    std::this_thread::sleep_until(clock_.wall_at(schedule_.finish(ready_ms, emulated_ms, now_ms())));
  }
  meter_.add_busy(emulated_ms);
  return result;
}

void Node::heartbeat_if_due(const nlohmann::json& extra) {
  const double now = now_ms();
  if (now - last_heartbeat_ms_ < config_.heartbeat_ms) return;
  last_heartbeat_ms_ = now;
  if (rank_ == setup_.coordinator) return;
  transport_.send(setup_.coordinator, comm::MessageType::kHeartbeat, encode_control(extra));
}

void Node::note_message(const comm::Message& message) {
  // After a death Open MPI 4.1.4 can hang in MPI_Finalize: skip it from now on.
  if (message.header.type == comm::MessageType::kMembership) comm::mark_peer_failure();
  if (static_cast<int>(message.header.source) != setup_.coordinator) return;
  last_heard_coordinator_ms_ = now_ms();
  heard_coordinator_ = true;
}

void Node::check_coordinator_alive() {
  if (rank_ == setup_.coordinator) return;
  const double silent_ms = now_ms() - last_heard_coordinator_ms_;
  // Until its first frame the cloud may still be loading its model, perhaps on a slower host.
  const double allowed_ms = heard_coordinator_ ? coordinator_timeout_ms() : config_.startup_timeout_s * 1000.0;
  if (silent_ms > allowed_ms) {
    throw PeerLostError("coordinator (rank " + std::to_string(setup_.coordinator) + ") silent for " +
                        std::to_string(static_cast<int>(silent_ms)) + " ms");
  }
}

double Node::coordinator_timeout_ms() const { return std::max(3000.0, 20 * config_.heartbeat_ms); }

DeviceStats Node::finish_stats() {
  uint64_t sent = 0, received = 0, messages = 0;
  for (int peer = 0; peer < transport_.size(); ++peer) {
    if (peer == rank_) continue;
    const auto link = transport_.stats(peer);
    sent += link.bytes_sent;
    received += link.bytes_received;
    messages += link.messages_sent;
  }
  DeviceStats stats = meter_.finish(rank_, sent, received, messages);
  stats.name = me().name;
  stats.tier = mapping::tier_name(me().tier);
  stats.memory_budget_mb = me().memory_mb;
  stats.answered_here = answered_here_;
  stats.rejected = transport_.rejected();
  for (int reason = 0; reason < crypto::kRejectionKinds; ++reason) {
    const auto count = transport_.rejected(static_cast<crypto::Rejection>(reason));
    if (count > 0) stats.rejected_by_reason[crypto::to_string(static_cast<crypto::Rejection>(reason))] = count;
  }
  if (auto* tampering = dynamic_cast<const TamperingTransport*>(&transport_)) stats.injected = tampering->injected();
  return stats;
}

}  // namespace hddnn::runtime
