#include "hddnn/nn/checkpoint.hpp"

#include <torch/torch.h>

#include <filesystem>

#include "hddnn/errors.hpp"

namespace hddnn::nn {
namespace {

constexpr const char* kFormat = "hddnn-network-1";

nlohmann::json meta_of(Network& network) {
  auto& state = network.training_state();
  nlohmann::json history = nlohmann::json::array();
  for (const auto& r : state.history) history.push_back(to_json(r));
  return {{"format", kFormat},  {"spec", network.spec().source},     {"step", state.step}, {"loss_sum", state.loss_sum},
          {"history", history}, {"thresholds", network.thresholds()}};
}

torch::Tensor text_tensor(const std::string& text) {
  return torch::from_blob(const_cast<char*>(text.data()), {static_cast<int64_t>(text.size())}, torch::kUInt8).clone();
}

std::string tensor_text(const torch::Tensor& t) {
  return std::string(reinterpret_cast<const char*>(t.data_ptr<uint8_t>()), static_cast<size_t>(t.numel()));
}

void restore_meta(Network& network, const nlohmann::json& meta) {
  auto& state = network.training_state();
  state.step = meta.at("step").get<int64_t>();
  state.loss_sum = meta.at("loss_sum").get<double>();
  for (const auto& r : meta.at("history")) state.history.push_back(epoch_record_from_json(r));
  network.set_thresholds(meta.at("thresholds").get<std::vector<double>>());
}

}  // namespace

void save_network(Network& network, const std::string& path) {
  torch::serialize::OutputArchive archive;
  archive.write("meta", text_tensor(meta_of(network).dump()));
  for (const auto& [name, tensor] : network.state()) archive.write("state." + name, tensor.detach().cpu());
  if (network.training_state().optimizer.defined()) archive.write("optimizer", network.training_state().optimizer);
  const std::string temporary = path + ".tmp";
  archive.save_to(temporary);
  std::filesystem::rename(temporary, path);
}

Network load_network(const std::string& path) {
  if (!std::filesystem::exists(path)) throw ConfigError(path + ": no such checkpoint");
  torch::serialize::InputArchive archive;
  torch::Tensor meta_text;
  nlohmann::json meta;
  try {
    archive.load_from(path, torch::Device(torch::kCPU));  // written from any device, read on the CPU
    archive.read("meta", meta_text);
    meta = nlohmann::json::parse(tensor_text(meta_text));
  } catch (const std::exception& e) {
    throw ConfigError(path + ": not an hddnn checkpoint (" + std::string(e.what()).substr(0, 200) + ")");
  }
  if (meta.value("format", "") != kFormat) throw ConfigError(path + ": unknown checkpoint format");
  Network network(parse_spec(meta.at("spec"), path + ":spec"));
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : network.state()) {
    torch::Tensor saved;
    archive.read("state." + name, saved);
    tensor.copy_(saved);
  }
  torch::Tensor optimizer;
  if (archive.try_read("optimizer", optimizer)) network.training_state().optimizer = optimizer;
  restore_meta(network, meta);
  return network;
}

}  // namespace hddnn::nn
