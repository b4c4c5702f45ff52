#include "hddnn/runtime/multi_view.hpp"

#include <set>

#include "hddnn/errors.hpp"

namespace hddnn::runtime {

bool is_multi_view(const mapping::Topology& topology) {
  size_t with_views = 0;
  const auto ends = topology.of_tier(mapping::Tier::End);
  for (int rank : ends) with_views += !topology.devices[rank].views.empty();
  if (with_views != 0 && with_views != ends.size()) {
    throw ConfigError(topology.source + ": " + std::to_string(with_views) + " of " + std::to_string(ends.size()) +
                      " end devices name views; either every end device sees a view of shared samples or none does");
  }
  return with_views > 0;
}

int aggregator_of(const mapping::Topology& topology, const std::string& scheme, int camera) {
  return scheme == "end-cloud" ? topology.cloud() : topology.devices.at(camera).parent;
}

std::map<int, int> cameras_of(const mapping::Topology& topology, const std::string& scheme, int aggregator) {
  std::map<int, int> cameras;
  if (!is_multi_view(topology)) return cameras;
  std::set<int> views;
  for (int rank : topology.of_tier(mapping::Tier::End)) {
    if (aggregator_of(topology, scheme, rank) != aggregator) continue;
    const int view = topology.devices[rank].views.front();
    if (!views.insert(view).second) {
      throw ConfigError(topology.source + ": device '" + topology.devices[rank].name + "' sees view " +
                        std::to_string(view) + ", as another device with the same aggregator does");
    }
    cameras[rank] = view;
  }
  return cameras;
}

std::vector<int> record_owners(const mapping::Topology& topology, const std::string& scheme) {
  if (!is_multi_view(topology)) return topology.of_tier(mapping::Tier::End);
  std::set<int> owners;
  for (int rank : topology.of_tier(mapping::Tier::End)) owners.insert(aggregator_of(topology, scheme, rank));
  return {owners.begin(), owners.end()};
}

}  // namespace hddnn::runtime
