// Whether ranks share a GPU: NCCL refuses two ranks of one communicator on the same
// device, so data-parallel training reduces CUDA tensors through NCCL only when every
// rank has a GPU of its own, and stages them through host memory (MPI) otherwise.
//
// Contract: ranks_share_a_device is collective over `comm` (one MPI_Allgather of each
// rank's host name and CUDA device index) and returns the same answer on every rank.
#pragma once

#include <mpi.h>

#include <string>
#include <vector>

namespace hddnn::parallel {

/// Whether two entries of `placements` ("host#device") are equal.
bool any_placement_shared(const std::vector<std::string>& placements);

/// Whether two ranks of `comm` on one host use the same CUDA device (collective).
bool ranks_share_a_device(MPI_Comm comm, int cuda_device);

}  // namespace hddnn::parallel
