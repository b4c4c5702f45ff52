// Where tensors live: parsing a device name ("cpu", "cuda", "cuda:N"), checking that
// this torch and host can give it, and the per-rank choice data-parallel training
// makes. Nothing here reaches CUDA code on a host without CUDA: every CUDA question
// goes through torch::cuda, which answers "none" on a CPU-only torch.
//
// Contract: parse_device accepts exactly "cpu", "cuda" and "cuda:N" (N a decimal
// index); anything else is a ConfigError naming `field` and the value.
// require_device_available throws ConfigError naming `where` when the device is CUDA
// and this torch was built without CUDA, or shows fewer devices than the index needs.
#pragma once

#include <torch/types.h>

#include <string>

#include "hddnn/data/fashion_mnist.hpp"

namespace hddnn::nn {

/// The device a name gives, without checking that it exists here ("cuda" is cuda:0).
torch::Device parse_device(const std::string& name, const std::string& field);

/// CUDA devices this process's torch can use (0 on a CPU-only torch or without a GPU).
int cuda_device_count();

/// ConfigError unless `device` can be used here (see the contract above).
void require_device_available(const torch::Device& device, const std::string& where);

/// The device a training rank uses for `name`: "cuda" gives every rank on a host its
/// own GPU by local rank (local_rank modulo the GPUs visible, so ranks share GPUs when
/// there are more ranks than GPUs); "cuda:N" and "cpu" are taken as written.
/// Checked with require_device_available (field "training.device").
torch::Device training_device(const std::string& name, int local_rank);

/// This process's rank among the job's ranks on its host (OMPI_COMM_WORLD_LOCAL_RANK;
/// 0 outside mpirun).
int local_rank_from_environment();

/// `images` with its tensors on `device` (the same tensors when already there).
data::LabelledImages on_device(const data::LabelledImages& images, const torch::Device& device);

}  // namespace hddnn::nn
