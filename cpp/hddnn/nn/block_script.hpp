// TorchScript emission: each block writes its own statements into a section's
// forward and registers its parameters and buffers on the section module, so the
// network that trains in C++ is the very TorchScript that gets exported.
//
// Contract: names are unique within a section (`prefix` per block); parameters are
// initialised with Kaiming-normal weights (fan-in) and zero biases, batch norms with
// unit scale; statements are indented for a method body.
#pragma once

#include <torch/script.h>

#include <sstream>
#include <string>

#include "hddnn/nn/spec.hpp"

namespace hddnn::nn {

/// Emits `block` reading variable `in` (shape `shape`); returns the output variable.
std::string emit_block(const BlockSpec& block, const Shape& shape, const std::string& prefix, const std::string& in,
                       torch::jit::Module& module, std::ostringstream& code);

/// Emits a chain of blocks; returns the last output variable.
std::string emit_blocks(const std::vector<BlockSpec>& blocks, Shape shape, const std::string& prefix,
                        const std::string& in, torch::jit::Module& module, std::ostringstream& code);

/// Emits a linear layer onto `classes` outputs from a map or vector (flattened first).
std::string emit_classifier(int64_t classes, const Shape& shape, const std::string& prefix, const std::string& in,
                            torch::jit::Module& module, std::ostringstream& code);

}  // namespace hddnn::nn
