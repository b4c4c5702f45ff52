#include "hddnn/runtime/roles.hpp"

#include "hddnn/data/request_samples.hpp"
#include "hddnn/mapping/profile.hpp"
#include "hddnn/parallel/device_placement.hpp"
#include "hddnn/runtime/end_device.hpp"
#include "hddnn/runtime/multi_view.hpp"
#include "hddnn/runtime/server.hpp"
#include "hddnn/runtime/view_device.hpp"

namespace hddnn::runtime {
namespace {

bool needs_requests(Role role, const NodeSetup& setup, int rank) {
  return role != Role::kServer || !cameras_of(setup.topology, setup.config.scheme, rank).empty();
}

}  // namespace

Role role_of(const mapping::Topology& topology, int rank) {
  const auto& device = topology.devices.at(rank);
  if (device.tier != mapping::Tier::End) return Role::kServer;
  return device.views.empty() ? Role::kEndDevice : Role::kCamera;
}

std::vector<Tier> sections_of(Role role, const RunConfig& config, bool cloud) {
  const bool mapping = config.scheme == "mapping";
  switch (role) {
    case Role::kEndDevice:
      return mapping ? std::vector<Tier>{Tier::kEnd, Tier::kEdge, Tier::kCloud} : std::vector<Tier>{Tier::kEnd};
    case Role::kCamera: return {Tier::kEnd};
    case Role::kServer:
      return cloud || mapping ? std::vector<Tier>{Tier::kEdge, Tier::kCloud} : std::vector<Tier>{Tier::kEdge};
  }
  return {};
}

void load_inputs(NodeSetup& setup) {
  const int rank = setup.transport->rank();
  const Role role = role_of(setup.topology, rank);
  const bool cloud = rank == setup.coordinator;
  const auto& config = setup.config;
  const auto& device = setup.topology.devices.at(rank);
  setup.model = std::make_unique<DeployedModel>(config.model_dir, sections_of(role, config, cloud), device_view(device),
                                                parallel::accelerator_of(device));
  if (cloud || config.compute == "profile") setup.profile = mapping::load_profile(config.profile_path());
  if (!needs_requests(role, setup, rank)) return;
  // Cameras see their view of multi-view samples, end devices single images; an
  // aggregator needs the labels only.
  const std::string views = role == Role::kCamera ? setup.model->views() : (role == Role::kEndDevice ? "single" : "");
  setup.requests = data::load_request_samples({config.data_file, views, config.seed, config.test_limit});
  if (role != Role::kServer)
    setup.model->check_requests(setup.requests, config.data_file.empty() ? "Fashion-MNIST" : config.data_file);
}

std::unique_ptr<Node> make_role(NodeSetup setup) {
  switch (role_of(setup.topology, setup.transport->rank())) {
    case Role::kEndDevice: return std::make_unique<EndDevice>(std::move(setup));
    case Role::kCamera: return std::make_unique<ViewDevice>(std::move(setup));
    case Role::kServer: return std::make_unique<Server>(std::move(setup));
  }
  return nullptr;
}

}  // namespace hddnn::runtime
