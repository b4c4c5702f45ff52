// Who gathers which views in a multi-view setting (DDNN's, e.g. ddnn6.json): end
// devices that name a view in the topology ("cameras") all see each sample of one
// shared request stream, run their view's end section, and send the features to
// one aggregator, which owns the requests (their records and answers):
//   - under `end` and `mapping`, the camera's parent: the edge aggregates the views
//     and answers at its exit (`end`: always; `mapping`: when confident, escalating
//     the rest to the cloud);
//   - under `end-cloud`, the cloud (DDNN without the edge tier).
// Torch-free. A topology mixing end devices with and without views, or giving one
// aggregator two cameras of the same view, is a ConfigError.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "hddnn/mapping/topology.hpp"

namespace hddnn::runtime {

/// Whether the topology's end devices see views of shared samples.
bool is_multi_view(const mapping::Topology& topology);
/// The rank that gathers `camera`'s views under `scheme`.
int aggregator_of(const mapping::Topology& topology, const std::string& scheme, int camera);
/// camera rank -> its view, for the cameras sending to `aggregator` (empty: not an aggregator).
std::map<int, int> cameras_of(const mapping::Topology& topology, const std::string& scheme, int aggregator);
/// The ranks that own request records: every end device, or every aggregator.
std::vector<int> record_owners(const mapping::Topology& topology, const std::string& scheme);

}  // namespace hddnn::runtime
