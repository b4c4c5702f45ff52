// The emulated links of one rank, from the topology: toward every peer the link the
// rank declares, else the one the peer declares toward it (links are symmetric), as
// the run emulates them under time dilation (time_scale: delays last that many times
// longer on the wall; bandwidth is divided by it). Torch-free.
#pragma once

#include <map>

#include "hddnn/comm/link.hpp"
#include "hddnn/mapping/topology.hpp"

namespace hddnn::runtime {

std::map<int, comm::LinkSpec> emulated_links(const mapping::Topology& topology, int rank, double time_scale);

}  // namespace hddnn::runtime
