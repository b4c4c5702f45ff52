#include "hddnn/nn/feature_codec.hpp"

#include <torch/torch.h>

#include <cstring>

#include "hddnn/errors.hpp"

namespace hddnn::nn {
namespace {

std::vector<uint8_t> pack_bits(const torch::Tensor& values) {
  const auto bits = (values > 0).to(torch::kUInt8).contiguous();
  const int64_t n = bits.numel();
  const uint8_t* b = bits.data_ptr<uint8_t>();
  std::vector<uint8_t> out(static_cast<size_t>((n + 7) / 8), 0);
  for (int64_t i = 0; i < n; ++i)
    if (b[i]) out[static_cast<size_t>(i / 8)] |= static_cast<uint8_t>(0x80u >> (i % 8));
  return out;
}

torch::Tensor unpack_bits(const uint8_t* data, int64_t n) {
  auto values = torch::empty({n}, torch::kFloat32);
  float* v = values.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) v[i] = (data[i / 8] & (0x80u >> (i % 8))) ? 1.0f : -1.0f;
  return values;
}

double step8() { return 2.0 * kRange8 / 255.0; }

}  // namespace

std::vector<uint8_t> pack_features(const torch::Tensor& features, Quantization quantization) {
  const auto flat = features.detach().to(torch::kCPU, torch::kFloat32).contiguous().view(-1);
  switch (quantization) {
    case Quantization::kBinary: return pack_bits(flat);
    case Quantization::kInt8: {
      const auto q = torch::round((flat.clamp(-kRange8, kRange8) + kRange8) / step8()).to(torch::kUInt8).contiguous();
      return std::vector<uint8_t>(q.data_ptr<uint8_t>(), q.data_ptr<uint8_t>() + q.numel());
    }
    case Quantization::kFloat32: {
      std::vector<uint8_t> out(static_cast<size_t>(flat.numel()) * 4);
      std::memcpy(out.data(), flat.data_ptr<float>(), out.size());
      return out;
    }
  }
  throw ConfigError("pack_features: unknown quantization");
}

torch::Tensor unpack_features(const uint8_t* data, size_t size, c10::IntArrayRef shape, Quantization quantization) {
  const int64_t n = c10::multiply_integers(shape);
  if (static_cast<int64_t>(size) != packed_bytes(n, quantization))
    throw DataError("unpack_features: " + std::to_string(size) + " bytes for shape " + c10::str(shape) + " in " +
                    quantization_name(quantization) + ", expected " + std::to_string(packed_bytes(n, quantization)));
  switch (quantization) {
    case Quantization::kBinary: return unpack_bits(data, n).view(shape);
    case Quantization::kInt8: {
      const auto q = torch::from_blob(const_cast<uint8_t*>(data), {n}, torch::kUInt8).to(torch::kFloat32);
      return (q * step8() - kRange8).view(shape);
    }
    case Quantization::kFloat32:
      return torch::from_blob(const_cast<uint8_t*>(data), {n}, torch::kFloat32).clone().view(shape);
  }
  throw ConfigError("unpack_features: unknown quantization");
}

}  // namespace hddnn::nn
