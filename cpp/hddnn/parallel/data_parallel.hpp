// data_parallel(): the trainer's DataParallel over a DistributedGradients (its
// communicator's ranks train together). The returned value refers to `gradients`,
// which must outlive the fit() it is passed to.
#pragma once

#include "hddnn/nn/data_parallel.hpp"
#include "hddnn/parallel/distributed_gradients.hpp"

namespace hddnn::parallel {

nn::DataParallel data_parallel(DistributedGradients& gradients);

}  // namespace hddnn::parallel
