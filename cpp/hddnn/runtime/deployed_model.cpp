#include "hddnn/runtime/deployed_model.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <fstream>

#include "hddnn/data/labels.hpp"
#include "hddnn/errors.hpp"
#include "hddnn/nn/exit_policy.hpp"
#include "hddnn/nn/feature_codec.hpp"

namespace hddnn::runtime {
namespace {

const std::vector<Tier> kChain = {Tier::kEnd, Tier::kEdge, Tier::kCloud};

nlohmann::json read_manifest(const std::string& dir) {
  const std::string path = dir + "/manifest.json";
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": missing (is this an `hddnn train --out` export folder?)");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw ConfigError(path + ": not valid JSON: " + e.what());
  }
}

torch::Tensor tensor_or_empty(const c10::Dict<std::string, torch::Tensor>& dict, const std::string& key) {
  auto it = dict.find(key);
  return it == dict.end() ? torch::Tensor() : it->value();
}

}  // namespace

struct DeployedModel::Section {
  torch::jit::Module module;
  bool loaded = false;
  nn::Quantization quantization = nn::Quantization::kFloat32;  ///< of the features it sends on
  std::vector<int64_t> feature_shape;                          ///< 1 x ... of the features it sends on
  double threshold = 0;                                        ///< entropy threshold of its fine exit
  double coarse_threshold = 0;                                 ///< of its coarse exit, if any
};

DeployedModel::DeployedModel(const std::string& export_dir, const std::vector<Tier>& tiers)
    : manifest_(read_manifest(export_dir)), dir_(export_dir) {
  if (manifest_.value("view_count", 1) != 1) {
    throw ConfigError(export_dir + "/manifest.json: multi-view models are not deployable by the runtime yet");
  }
  for (Tier tier : kChain) {
    auto section = std::make_shared<Section>();
    read_section_manifest(tier, *section);
    if (std::find(tiers.begin(), tiers.end(), tier) != tiers.end()) load_module(tier, *section);
    sections_[tier] = section;
  }
  warm_up();
}

void DeployedModel::load_module(Tier tier, Section& section) const {
  const std::string path = dir_ + "/" + tier_name(tier) + ".pt";
  try {
    section.module = torch::jit::load(path);
  } catch (const c10::Error& e) {
    throw ConfigError(path + ": cannot load TorchScript section: " + e.what_without_backtrace());
  }
  section.module.eval();
  section.loaded = true;
}

void DeployedModel::warm_up() {
  // TorchScript optimises a module on its first calls: make them before serving.
  torch::Tensor x = torch::zeros({1, 1, 28, 28});
  for (Tier tier : kChain) {
    auto& section = *sections_.at(tier);
    if (section.loaded) {
      for (int i = 0; i < 3; ++i) run(tier, x);
    }
    if (tier != Tier::kCloud) x = torch::zeros(section.feature_shape);
  }
}

SectionResult DeployedModel::run(Tier tier, const torch::Tensor& input) {
  torch::NoGradGuard no_grad;
  auto& section = *sections_.at(tier);
  if (!section.loaded) throw ConfigError("section '" + tier_name(tier) + "' is not loaded on this rank");
  auto out = section.module.forward({input}).toGenericDict();
  c10::Dict<std::string, torch::Tensor> dict;
  for (const auto& item : out) dict.insert(item.key().toStringRef(), item.value().toTensor());
  return {tensor_or_empty(dict, "fine"), tensor_or_empty(dict, "coarse"), tensor_or_empty(dict, "features")};
}

void DeployedModel::read_section_manifest(Tier tier, Section& section) const {
  const std::string name = tier_name(tier), where = dir_ + "/manifest.json";
  try {
    for (const auto& boundary : manifest_.at("boundaries")) {
      if (boundary.at("from") != name) continue;
      section.quantization = nn::parse_quantization(boundary.at("quantization"), where + ": boundaries.quantization");
      section.feature_shape = {1};
      for (int64_t d : boundary.at("shape")) section.feature_shape.push_back(d);
    }
    const auto& thresholds = manifest_.at("exit_policy").at("thresholds");
    section.threshold = thresholds.value(name + "/fine", 0.0);
    section.coarse_threshold = thresholds.value(name + "/coarse", section.threshold);
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(where + ": section '" + name + "': " + e.what());
  }
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
  ExitDecision d;
  d.fine = static_cast<int>(result.fine.argmax(1).item<int64_t>());
  const double t = override_threshold >= 0 ? override_threshold : section.threshold;
  d.fine_confident = tier == Tier::kCloud || nn::normalized_entropy(result.fine).item<double>() < t;
  if (result.coarse.defined()) {
    d.coarse = static_cast<int>(result.coarse.argmax(1).item<int64_t>());
    const double tc = override_threshold >= 0 ? override_threshold : section.coarse_threshold;
    d.coarse_confident = nn::normalized_entropy(result.coarse).item<double>() < tc;
  } else {
    d.coarse = coarse_of(d.fine);
  }
  return d;
}

int DeployedModel::coarse_of(int fine) const { return static_cast<int>(data::coarse_of_fine().at(fine)); }

}  // namespace hddnn::runtime
