#include "hddnn/nn/device.hpp"

#include <torch/cuda.h>

#include <cstdlib>
#include <regex>

#include "hddnn/errors.hpp"

namespace hddnn::nn {

torch::Device parse_device(const std::string& name, const std::string& field) {
  static const std::regex accepted("cpu|cuda(:[0-9]{1,4})?");
  if (!std::regex_match(name, accepted))
    throw ConfigError(field + ": unknown device '" + name + "' (expected \"cpu\", \"cuda\" or \"cuda:N\")");
  if (name == "cpu") return torch::Device(torch::kCPU);
  const auto colon = name.find(':');
  const int index = colon == std::string::npos ? 0 : std::stoi(name.substr(colon + 1));
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

int cuda_device_count() { return torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0; }

void require_device_available(const torch::Device& device, const std::string& where) {
  if (!device.is_cuda()) return;
  const int visible = cuda_device_count();
  if (visible == 0)
    throw ConfigError(where + " is \"" + device.str() +
                      "\" but this torch has no usable CUDA (CPU-only build, or no GPU or driver on this host)");
  if (device.index() >= visible)
    throw ConfigError(where + " is \"" + device.str() + "\" but " + std::to_string(visible) +
                      " CUDA device(s) are visible on this host");
}

torch::Device training_device(const std::string& name, int local_rank) {
  torch::Device device = parse_device(name, "training.device");
  if (name == "cuda") {
    const int visible = cuda_device_count();
    if (visible > 0) device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank % visible));
  }
  require_device_available(device, "training.device");
  return device;
}

int local_rank_from_environment() {
  const char* value = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK");
  return value ? std::atoi(value) : 0;
}

data::LabelledImages on_device(const data::LabelledImages& images, const torch::Device& device) {
  return {images.images.to(device), images.fine.to(device)};
}

}  // namespace hddnn::nn
