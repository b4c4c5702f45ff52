// Device placement of a topology on this host: where a rank runs its sections
// ("accelerator": "cpu" | "cuda" | "cuda:N" in the topology file; the CPU when absent)
// and whether this torch and host can give it. Checked once at start-up, before any
// section is placed or any request served, so a topology naming a GPU fails with a
// ConfigError on a CPU-only torch or a host without that GPU instead of reaching CUDA
// code (CI has no GPU).
#pragma once

#include <torch/types.h>

#include "hddnn/mapping/topology.hpp"

namespace hddnn::parallel {

/// The torch device a topology device's "accelerator" names (the syntax was checked
/// by parse_topology): the CPU without one, cuda:0 for "cuda".
torch::Device accelerator_of(const mapping::Device& device);

/// ConfigError naming the topology, the device, the rank and the field when rank's
/// accelerator is CUDA but this torch has no CUDA or the device is not visible here.
void require_placement_available(const mapping::Topology& topology, int rank);

}  // namespace hddnn::parallel
