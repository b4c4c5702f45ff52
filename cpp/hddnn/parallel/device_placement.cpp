#include "hddnn/parallel/device_placement.hpp"

#include "hddnn/errors.hpp"
#ifdef HDDNN_WITH_NCCL
#include "hddnn/comm/nccl/nccl_collectives.hpp"
#endif

namespace hddnn::parallel {

int cuda_index(const mapping::Device& device) {
  if (!device.device || *device.device == "cpu") return -1;
  const std::string& name = *device.device;
  return name == "cuda" ? 0 : std::stoi(name.substr(name.find(':') + 1));
}

void require_placement_available(const mapping::Topology& topology, int rank) {
  if (rank < 0 || rank >= static_cast<int>(topology.devices.size()))
    throw ConfigError(topology.source + ": rank " + std::to_string(rank) + " has no device (" +
                      std::to_string(topology.devices.size()) + " listed)");
  const mapping::Device& device = topology.devices[rank];
  int index = cuda_index(device);
  if (index < 0) return;
  std::string where = topology.source + ": device '" + device.name + "' (rank " + std::to_string(rank) +
                      ").device is \"" + *device.device + "\"";
#ifdef HDDNN_WITH_NCCL
  int visible = comm::nccl::visible_devices();
  if (index >= visible)
    throw ConfigError(where + " but " + std::to_string(visible) + " CUDA device(s) are visible on this host");
#else
  throw ConfigError(where + " but this build has no CUDA support (configure with -DHDDNN_WITH_NCCL=ON)");
#endif
}

}  // namespace hddnn::parallel
