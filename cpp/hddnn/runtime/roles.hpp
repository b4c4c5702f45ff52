// Which role a rank takes and what it needs from outside. A role (EndDevice,
// ViewDevice, Server: edge node or cloud with its Coordinator) is built from a
// NodeSetup that carries everything it uses: its transport, its deployed model, the
// planner's profile and its request samples. Roles load nothing themselves, so a
// test can hand them a tiny model, made-up samples and an in-memory transport
// (comm/memory_transport.hpp).
//
// Contract: role_of() follows the topology (an end device naming a view is a camera;
// other end devices are end devices; edge nodes and the cloud are servers);
// sections_of() is what that role may run under the run's scheme; load_inputs() fills
// the setup from the run config's files the way hddnn-node runs them (ConfigError or
// DataError naming the file otherwise); make_role() needs a filled setup.
#pragma once

#include <memory>
#include <vector>

#include "hddnn/runtime/node.hpp"

namespace hddnn::runtime {

enum class Role { kEndDevice, kCamera, kServer };

Role role_of(const mapping::Topology& topology, int rank);
/// The sections a rank of `role` loads: an end device all three under `mapping` (a plan
/// may place any there), else its end section; a camera its view's end section; the
/// cloud (and, under `mapping`, every edge node) edge and cloud; an edge node its edge.
std::vector<Tier> sections_of(Role role, const RunConfig& config, bool cloud);
/// Loads setup.model (model_dir's export), setup.profile (the cloud always; any rank
/// under compute "profile") and setup.requests (the test split: an end device's images
/// and labels, a camera's multi-view samples, an aggregator's labels; data/request_samples.hpp).
void load_inputs(NodeSetup& setup);
std::unique_ptr<Node> make_role(NodeSetup setup);

}  // namespace hddnn::runtime
