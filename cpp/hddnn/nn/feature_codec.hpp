// Wire format of the features crossing a tier boundary, for the runtime.
//   float32 - the floats' native (little-endian) bytes, 4 per value;
//   8bit    - one uint8 per value: q = round((clamp(x, -R, R) + R) / (2R / 255)),
//             value = q * 2R / 255 - R with R = kRange8 (the section's forward already
//             returns such dequantized values, so unpack(pack(x)) == x);
//   1bit    - one bit per value, 1 for x > 0 (+1) and 0 otherwise (-1), packed 8 per
//             byte, first value in the most significant bit; unpack gives +-1 floats.
// Contract: values are taken in row-major order of the tensor (any shape, any batch);
// unpack_features throws DataError when the byte count does not match the shape.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "hddnn/nn/quantization.hpp"

namespace hddnn::nn {

std::vector<uint8_t> pack_features(const torch::Tensor& features, Quantization quantization);

torch::Tensor unpack_features(const uint8_t* data, size_t size, c10::IntArrayRef shape, Quantization quantization);

}  // namespace hddnn::nn
