#include "hddnn/parallel/device_placement.hpp"

#include "hddnn/errors.hpp"
#include "hddnn/nn/device.hpp"

namespace hddnn::parallel {

torch::Device accelerator_of(const mapping::Device& device) {
  return device.accelerator ? nn::parse_device(*device.accelerator, device.name + ".accelerator") : torch::kCPU;
}

void require_placement_available(const mapping::Topology& topology, int rank) {
  if (rank < 0 || rank >= static_cast<int>(topology.devices.size()))
    throw ConfigError(topology.source + ": rank " + std::to_string(rank) + " has no device (" +
                      std::to_string(topology.devices.size()) + " listed)");
  const mapping::Device& device = topology.devices[rank];
  nn::require_device_available(accelerator_of(device), topology.source + ": device '" + device.name + "' (rank " +
                                                           std::to_string(rank) + ").accelerator");
}

}  // namespace hddnn::parallel
