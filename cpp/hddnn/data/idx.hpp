// Reader for IDX files (LeCun's MNIST format), plain or gzip-compressed (zlib).
//
// Contract: returns the whole file as a uint8 tensor shaped by the header's dims.
// Only unsigned-byte IDX (type 0x08) is accepted. Any problem (missing file, wrong
// magic, truncated data, trailing bytes) throws DataError naming the file and the fault.
#pragma once

#include <torch/types.h>

#include <string>

namespace hddnn::data {

/// Reads an unsigned-byte IDX file (".gz" or not) into a uint8 tensor.
torch::Tensor read_idx(const std::string& path);

}  // namespace hddnn::data
