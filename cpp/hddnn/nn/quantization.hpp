// Quantization of the features crossing a tier boundary.
//   float32 - unchanged, 4 bytes per value on the wire;
//   8bit    - clamped to [-kRange8, kRange8], 256 uniform levels, forward gives the
//             dequantized float; one uint8 per value on the wire;
//   1bit    - binarized as in DDNN: +1 where x >= 0, else -1; trained with the
//             straight-through estimator (gradient of hardtanh); 8 values per byte.
// Rounding and sign are trained with straight-through gradients in both quantized modes.
#pragma once

#include <cstdint>
#include <string>

namespace hddnn::nn {

enum class Quantization { kFloat32, kInt8, kBinary };

constexpr double kRange8 = 4.0;

/// "float32" | "8bit" | "1bit"; anything else throws ConfigError naming `field`.
Quantization parse_quantization(const std::string& name, const std::string& field = "quantize");
std::string quantization_name(Quantization quantization);

/// Bytes one sample of `values` features takes on the wire.
int64_t packed_bytes(int64_t values, Quantization quantization);

/// TorchScript statements quantizing variable `in` into `out`.
std::string quantization_script(Quantization quantization, const std::string& in, const std::string& out);

}  // namespace hddnn::nn
