#include "hddnn/nn/network.hpp"

#include <torch/torch.h>

#include "hddnn/data/views.hpp"
#include "hddnn/errors.hpp"
#include "hddnn/nn/section_builder.hpp"

namespace hddnn::nn {

Network::Network(NetworkSpec spec, uint64_t seed) : spec_(std::move(spec)) {
  torch::manual_seed(seed);
  const bool per_view = spec_.view_count > 1 && !spec_.sections[0].shared;
  device_count_ = per_view ? static_cast<size_t>(spec_.view_count) : 1;
  for (size_t v = 0; v < device_count_; ++v) {
    const std::string name = per_view ? "end" + std::to_string(v) : "end";
    sections_.push_back(
        {name, 0, per_view ? static_cast<int64_t>(v) : (spec_.view_count > 1 ? -1 : 0), build_section(spec_, 0, name)});
  }
  for (size_t i = 1; i < spec_.sections.size(); ++i)
    sections_.push_back({spec_.sections[i].tier, i, -1, build_section(spec_, i, spec_.sections[i].tier)});
}

torch::Tensor Network::views_of(const torch::Tensor& images) const {
  const auto& in = spec_.input_shape;
  if (images.dim() == 4 && spec_.view_count == 1) return views_of(images.unsqueeze(1));
  if (images.dim() == 4) return views_of(data::cut_views(images, data::parse_view_layout(spec_.views)));
  if (images.dim() != 5 || images.size(1) != spec_.view_count || images.size(2) != in[0] || images.size(3) != in[1] ||
      images.size(4) != in[2])
    throw DataError("network '" + spec_.name + "': expected images N x " + std::to_string(spec_.view_count) + " x " +
                    std::to_string(in[0]) + " x " + std::to_string(in[1]) + " x " + std::to_string(in[2]) + ", got " +
                    c10::str(images.sizes()));
  return images;
}

std::vector<c10::Dict<std::string, torch::Tensor>> Network::section_outputs(
    const torch::Tensor& images, const torch::Tensor& mask, std::vector<std::vector<c10::IValue>>* inputs) {
  const torch::Tensor views = views_of(images);
  std::vector<c10::Dict<std::string, torch::Tensor>> outputs;
  std::vector<torch::Tensor> device_features;
  for (int64_t v = 0; v < spec_.view_count; ++v) {
    auto& device = sections_[device_count_ == 1 ? 0 : v];
    std::vector<c10::IValue> args{views.select(1, v)};
    if (inputs && static_cast<size_t>(v) < device_count_) inputs->push_back(args);
    auto out = c10::impl::toTypedDict<std::string, torch::Tensor>(device.module.forward(args).toGenericDict());
    device_features.push_back(out.contains("features") ? out.at("features") : torch::Tensor());
    outputs.push_back(out);
  }
  torch::Tensor carried = device_features.front();
  for (size_t s = device_count_; s < sections_.size(); ++s) {
    std::vector<c10::IValue> args;
    if (s == device_count_ && spec_.view_count > 1) {
      const auto present = mask.defined() ? mask : torch::ones({views.size(0), spec_.view_count}, views.options());
      args = {torch::stack(device_features, 1), present.to(torch::kFloat32)};
    } else {
      args = {carried};
    }
    if (inputs) inputs->push_back(args);
    auto out = c10::impl::toTypedDict<std::string, torch::Tensor>(sections_[s].module.forward(args).toGenericDict());
    if (out.contains("features")) carried = out.at("features");
    outputs.push_back(out);
  }
  return outputs;
}

std::vector<ExitOutput> Network::forward(const torch::Tensor& images, const torch::Tensor& mask) {
  const auto outputs = section_outputs(images, mask);
  std::vector<ExitOutput> exits;
  for (size_t o = 0; o < outputs.size(); ++o) {
    const bool device = o < static_cast<size_t>(spec_.view_count);
    const size_t index = device ? 0 : sections_[device_count_ + o - spec_.view_count].index;
    const std::string name = !device                ? spec_.sections[index].tier
                             : spec_.view_count > 1 ? "end" + std::to_string(o)
                                                    : "end";
    for (const auto& e : spec_.sections[index].exits) {
      const std::string& tag = label_set_name(spec_, e);
      exits.push_back({name + "/" + tag, index, device && spec_.view_count > 1 ? static_cast<int64_t>(o) : -1, e.labels,
                       e.weight, outputs[o].at(tag)});
    }
  }
  return exits;
}

std::vector<torch::Tensor> Network::parameters() {
  std::vector<torch::Tensor> params;
  for (auto& s : sections_)
    for (const auto& p : s.module.parameters()) params.push_back(p);
  return params;
}

std::vector<torch::Tensor> Network::float_buffers() {
  std::vector<torch::Tensor> buffers;
  for (auto& s : sections_)
    for (const auto& b : s.module.buffers())
      if (b.is_floating_point()) buffers.push_back(b);
  return buffers;
}

void Network::train(bool on) {
  for (auto& s : sections_) s.module.train(on);
}

void Network::to(const torch::Device& device) {
  for (auto& s : sections_) s.module.to(device);
  device_ = device;
}

void Network::set_input_normalization(double mean, double std) {
  for (size_t v = 0; v < device_count_; ++v) {
    sections_[v].module.attr("in_mean").toTensor().fill_(mean);
    sections_[v].module.attr("in_std").toTensor().fill_(std);
  }
}

std::pair<double, double> Network::input_normalization() const {
  auto& m = sections_.front().module;
  return {m.attr("in_mean").toTensor().item<double>(), m.attr("in_std").toTensor().item<double>()};
}

std::vector<std::pair<std::string, torch::Tensor>> Network::state() {
  std::vector<std::pair<std::string, torch::Tensor>> entries;
  for (auto& s : sections_) {
    for (const auto& p : s.module.named_parameters(true)) entries.emplace_back(s.name + "." + p.name, p.value);
    for (const auto& b : s.module.named_buffers(true)) entries.emplace_back(s.name + "." + b.name, b.value);
  }
  return entries;
}

}  // namespace hddnn::nn
