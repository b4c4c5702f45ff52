#include "hddnn/nn/quantization.hpp"

#include "hddnn/errors.hpp"

namespace hddnn::nn {

Quantization parse_quantization(const std::string& name, const std::string& field) {
  if (name == "float32") return Quantization::kFloat32;
  if (name == "8bit") return Quantization::kInt8;
  if (name == "1bit") return Quantization::kBinary;
  throw ConfigError(field + ": unknown quantization '" + name + "' (expected float32, 8bit or 1bit)");
}

std::string quantization_name(Quantization quantization) {
  switch (quantization) {
    case Quantization::kFloat32: return "float32";
    case Quantization::kInt8: return "8bit";
    case Quantization::kBinary: return "1bit";
  }
  throw ConfigError("unknown quantization");
}

int64_t packed_bytes(int64_t values, Quantization quantization) {
  switch (quantization) {
    case Quantization::kFloat32: return values * 4;
    case Quantization::kInt8: return values;
    case Quantization::kBinary: return (values + 7) / 8;
  }
  throw ConfigError("unknown quantization");
}

std::string quantization_script(Quantization quantization, const std::string& in, const std::string& out) {
  const std::string r = std::to_string(kRange8);
  switch (quantization) {
    case Quantization::kFloat32: return "    " + out + " = " + in + "\n";
    case Quantization::kInt8:
      // round((x + R) / step) * step - R, with the rounding's gradient passed straight through
      return "    " + out + "_c = torch.clamp(" + in + ", -" + r + ", " + r + ")\n" + "    " + out + "_s = " + r +
             " * 2.0 / 255.0\n" + "    " + out + "_q = torch.round((" + out + "_c + " + r + ") / " + out + "_s) * " +
             out + "_s - " + r + "\n" + "    " + out + " = " + out + "_q.detach() + (" + out + "_c - " + out +
             "_c.detach())\n";
    case Quantization::kBinary:
      // exactly +-1 forward; hardtanh's gradient backward
      return "    " + out + "_h = torch.hardtanh(" + in + ", -1.0, 1.0)\n" + "    " + out + "_b = (" + in +
             " >= 0.0).to(" + in + ".dtype) * 2.0 - 1.0\n" + "    " + out + " = " + out + "_b.detach() + (" + out +
             "_h - " + out + "_h.detach())\n";
  }
  throw ConfigError("unknown quantization");
}

}  // namespace hddnn::nn
