// Checkpoints: a network with everything needed to use it or resume its training
// (spec, weights and statistics, optimizer state, step, history, thresholds).
//
// Contract: save_network writes `path`.tmp and renames it over `path`, so a process
// killed while saving leaves the previous checkpoint intact. load_network throws
// ConfigError for a file that is missing or not an hddnn checkpoint.
#pragma once

#include <string>

#include "hddnn/nn/network.hpp"

namespace hddnn::nn {

void save_network(Network& network, const std::string& path);
Network load_network(const std::string& path);

}  // namespace hddnn::nn
