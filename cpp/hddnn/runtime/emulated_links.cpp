#include "hddnn/runtime/emulated_links.hpp"

namespace hddnn::runtime {
namespace {

comm::LinkSpec dilated(const mapping::Link& link, double time_scale) {
  return {link.latency_ms * time_scale, link.bandwidth_mbps / time_scale};
}

}  // namespace

std::map<int, comm::LinkSpec> emulated_links(const mapping::Topology& topology, int rank, double time_scale) {
  std::map<int, comm::LinkSpec> links;
  for (const auto& link : topology.devices.at(rank).links) links[link.to] = dilated(link, time_scale);
  // Links are symmetric: a device answers over the link its peer declared toward it.
  for (size_t peer = 0; peer < topology.devices.size(); ++peer) {
    for (const auto& link : topology.devices[peer].links) {
      if (link.to == rank && !links.count(static_cast<int>(peer))) {
        links[static_cast<int>(peer)] = dilated(link, time_scale);
      }
    }
  }
  return links;
}

}  // namespace hddnn::runtime
