// Device placement of a topology on this host: whether the device a rank is
// asked to run on ("device": "cpu" | "cuda" | "cuda:N" in the topology file) exists
// in this build and on this machine. Checked once at start-up, before any section
// is placed, so a topology naming a GPU fails with a ConfigError on a host or build
// without one instead of reaching CUDA code (CI has no GPU).
#pragma once

#include <string>

#include "hddnn/mapping/topology.hpp"

namespace hddnn::parallel {

/// CUDA device index named by a topology device field: -1 for "cpu" or no field,
/// 0 for "cuda", N for "cuda:N" (the syntax was checked by parse_topology).
int cuda_index(const mapping::Device& device);

/// ConfigError naming the topology, the device, the rank and the field when rank's
/// device asks for CUDA but this build has no CUDA support (HDDNN_WITH_NCCL off) or
/// the CUDA device is not visible on this host.
void require_placement_available(const mapping::Topology& topology, int rank);

}  // namespace hddnn::parallel
