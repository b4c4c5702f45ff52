#include "hddnn/runtime/deployed_model.hpp"

#include <torch/torch.h>

#include <algorithm>

#include "hddnn/errors.hpp"
#include "hddnn/nn/exit_policy.hpp"
#include "hddnn/nn/feature_codec.hpp"
#include "hddnn/runtime/export_manifest.hpp"
#include "hddnn/runtime/request_check.hpp"

namespace hddnn::runtime {
namespace {

const std::vector<Tier> kChain = {Tier::kEnd, Tier::kEdge, Tier::kCloud};

torch::Tensor tensor_or_empty(const c10::Dict<std::string, torch::Tensor>& dict, const std::string& key) {
  auto it = dict.find(key);
  return it == dict.end() ? torch::Tensor() : it->value();
}

}  // namespace

struct DeployedModel::Section {
  std::string name;  ///< e.g. end, end3, edge, cloud
  torch::jit::Module module;
  bool loaded = false;
  std::vector<int64_t> input_shape;                            ///< 1 x ... of its input
  bool aggregates = false;                                     ///< takes every view's features and a mask
  nn::Quantization quantization = nn::Quantization::kFloat32;  ///< of the features it sends on
  std::vector<int64_t> feature_shape;                          ///< 1 x ... of the features it sends on
  std::vector<double> thresholds;                              ///< entropy threshold per label set's exit
};

DeployedModel::DeployedModel(const std::string& export_dir, const std::vector<Tier>& tiers, int view,
                             torch::Device device)
    : manifest_(read_export_manifest(export_dir)),
      labels_(data::label_sets_of_manifest(manifest_, export_dir + "/manifest.json")),
      dir_(export_dir),
      view_count_(manifest_.value("view_count", 1)),
      device_(device) {
  const bool runs_end = std::find(tiers.begin(), tiers.end(), Tier::kEnd) != tiers.end();
  if (runs_end) check_view(view);
  for (Tier tier : kChain) {
    auto section = std::make_shared<Section>();
    read_section_manifest(tier, section_name(tier, view), *section);
    if (std::find(tiers.begin(), tiers.end(), tier) != tiers.end()) load_module(*section);
    sections_[tier] = section;
  }
  warm_up();
}

void DeployedModel::check_view(int view) const {
  const std::string where = dir_ + "/manifest.json: ";
  if (view_count_ > 1 && view < 0) {
    throw ConfigError(where + "a multi-view model (" + std::to_string(view_count_) + " views, " + views() +
                      "): each end device of the topology must name its view (\"views\": [v])");
  }
  if (view_count_ == 1 && view >= 0) {
    throw ConfigError(where + "a single-view model: the topology's end devices must not name views");
  }
  if (view >= view_count_) {
    throw ConfigError(where + "view " + std::to_string(view) + " out of range (the model has " +
                      std::to_string(view_count_) + " views)");
  }
}

std::string DeployedModel::section_name(Tier tier, int view) const {
  const std::string name = tier_name(tier);
  if (tier != Tier::kEnd || view_count_ == 1) return name;
  const std::string own = name + std::to_string(std::max(view, 0));
  for (const auto& entry : manifest_.value("sections", nlohmann::json::array())) {
    if (entry.value("name", "") == own) return own;
  }
  return name;  // one end section shared by every view
}

void DeployedModel::load_module(Section& section) const {
  const std::string path = dir_ + "/" + section.name + ".pt";
  try {
    section.module = torch::jit::load(path, device_);
  } catch (const c10::Error& e) {
    throw ConfigError(path + ": cannot load TorchScript section: " + e.what_without_backtrace());
  }
  section.module.eval();
  section.loaded = true;
}

void DeployedModel::warm_up() {
  // TorchScript optimises a module on its first calls: make them before serving.
  for (Tier tier : kChain) {
    auto& section = *sections_.at(tier);
    if (!section.loaded) continue;
    const torch::Tensor x = torch::zeros(section.input_shape);
    const torch::Tensor mask = section.aggregates ? torch::ones({1, view_count_}) : torch::Tensor();
    for (int i = 0; i < 3; ++i) run(tier, x, mask);
  }
}

SectionResult DeployedModel::run(Tier tier, const torch::Tensor& input, const torch::Tensor& mask) {
  torch::NoGradGuard no_grad;
  auto& section = *sections_.at(tier);
  if (!section.loaded) throw ConfigError("section '" + tier_name(tier) + "' is not loaded on this rank");
  std::vector<torch::jit::IValue> inputs = {input.to(device_)};
  if (section.aggregates) inputs.emplace_back((mask.defined() ? mask : torch::ones({1, view_count_})).to(device_));
  auto out = section.module.forward(inputs).toGenericDict();
  c10::Dict<std::string, torch::Tensor> dict;  // on the host: the copies wait for the section to finish
  for (const auto& item : out) dict.insert(item.key().toStringRef(), item.value().toTensor().to(torch::kCPU));
  SectionResult result{{}, tensor_or_empty(dict, "features")};
  for (const auto& set : labels_.sets()) result.logits.push_back(tensor_or_empty(dict, set.name));
  return result;
}

void DeployedModel::read_section_manifest(Tier tier, const std::string& name, Section& section) const {
  const std::string tier_label = tier_name(tier), where = dir_ + "/manifest.json";
  section.name = name;
  try {
    for (const auto& entry : manifest_.at("sections")) {
      if (entry.at("name") != name) continue;
      section.input_shape = {1};
      for (int64_t d : entry.at("input_shape")) section.input_shape.push_back(d);
      section.aggregates = entry.contains("aggregator");
    }
    for (const auto& boundary : manifest_.at("boundaries")) {
      if (boundary.at("from") != tier_label) continue;
      section.quantization = nn::parse_quantization(boundary.at("quantization"), where + ": boundaries.quantization");
      section.feature_shape = {1};
      for (int64_t d : boundary.at("shape")) section.feature_shape.push_back(d);
    }
    // An exit without its own threshold takes the finest exit's.
    const auto& thresholds = manifest_.at("exit_policy").at("thresholds");
    const double finest = thresholds.value(tier_label + "/" + labels_[0].name, 0.0);
    for (const auto& set : labels_.sets())
      section.thresholds.push_back(thresholds.value(tier_label + "/" + set.name, finest));
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(where + ": section '" + name + "': " + e.what());
  }
  if (section.input_shape.empty()) throw ConfigError(where + ": no section named '" + name + "'");
  if (tier != Tier::kCloud && section.feature_shape.empty()) {
    throw ConfigError(where + ": no boundary from section '" + name + "'");
  }
}

std::vector<uint8_t> DeployedModel::pack(Tier from, const torch::Tensor& features) const {
  return nn::pack_features(features, sections_.at(from)->quantization);
}

torch::Tensor DeployedModel::unpack(Tier to, const std::vector<uint8_t>& bytes) const {
  const auto& sender = *sections_.at(to == Tier::kEdge ? Tier::kEnd : Tier::kEdge);
  return nn::unpack_features(bytes.data(), bytes.size(), sender.feature_shape, sender.quantization);
}

ExitDecision DeployedModel::decide(Tier tier, const SectionResult& result, double override_threshold) const {
  const auto& section = *sections_.at(tier);
  auto confident = [&](size_t set) {
    const double t = override_threshold >= 0 ? override_threshold : section.thresholds.at(set);
    return nn::normalized_entropy(result.logits[set]).item<double>() < t;
  };
  ExitDecision d;
  d.fine = static_cast<int>(result.logits.at(0).argmax(1).item<int64_t>());
  d.fine_confident = tier == Tier::kCloud || confident(0);
  // Near a deadline the device may answer coarser: the confident coarser exit with the most classes.
  for (size_t set = 1; set < result.logits.size(); ++set) {
    if (!result.logits[set].defined() || !confident(set)) continue;
    if (d.coarse_set >= 0 && labels_.classes(set) <= labels_.classes(d.coarse_set)) continue;
    d.coarse_set = static_cast<int>(set);
    d.coarse = static_cast<int>(result.logits[set].argmax(1).item<int64_t>());
  }
  return d;
}

void DeployedModel::check_requests(const data::LabelledImages& samples, const std::string& source) const {
  check_request_samples(samples, sections_.at(Tier::kEnd)->input_shape, labels_, source, dir_ + "/manifest.json");
}

std::pair<torch::Tensor, torch::Tensor> DeployedModel::stack_views(
    const std::vector<std::vector<uint8_t>>& views) const {
  if (static_cast<int>(views.size()) != view_count_) {
    throw HddnnError("stack_views: " + std::to_string(views.size()) + " views for a model of " +
                     std::to_string(view_count_));
  }
  const auto& end = *sections_.at(Tier::kEnd);
  std::vector<torch::Tensor> stacked;
  torch::Tensor mask = torch::zeros({1, view_count_});
  for (int v = 0; v < view_count_; ++v) {
    if (views[v].empty()) {
      stacked.push_back(torch::zeros(end.feature_shape));
      continue;
    }
    stacked.push_back(unpack(Tier::kEdge, views[v]));
    mask[0][v] = 1.0;
  }
  return {torch::stack(stacked, 1), mask};
}

}  // namespace hddnn::runtime
