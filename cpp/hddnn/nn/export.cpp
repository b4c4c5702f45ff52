#include "hddnn/nn/export.hpp"

#include <filesystem>
#include <fstream>

#include "hddnn/errors.hpp"
#include "hddnn/nn/blocks.hpp"

namespace hddnn::nn {
namespace {

nlohmann::json section_entry(const Network& network, const NamedSection& s) {
  const auto& spec = network.spec();
  const auto& section = spec.sections[s.index];
  nlohmann::json outputs;
  for (const auto& e : section.exits) outputs[label_set_name(spec, e)] = label_count(spec, e);
  const Shape out = section_output_shape(spec, s.index);
  if (!out.empty()) outputs["features"] = out;
  nlohmann::json entry = {{"name", s.name}, {"file", s.name + ".pt"}, {"tier", section.tier}, {"outputs", outputs}};
  if (s.index == 0) {
    entry["inputs"] = {"image"};
    entry["input_shape"] = spec.input_shape;
    entry["view"] = s.view >= 0 ? nlohmann::json(s.view) : nlohmann::json("all");
    entry["signature"] = "forward(x: N x C x H x W float in [0,1]) -> Dict[str, Tensor]";
  } else if (section.aggregator != Aggregator::kNone) {
    Shape stacked = section_output_shape(spec, 0);
    stacked.insert(stacked.begin(), spec.view_count);
    entry["inputs"] = {"end"};
    entry["input_shape"] = stacked;
    entry["aggregator"] = aggregator_name(section.aggregator);
    entry["signature"] = "forward(x: N x V x features, mask: N x V float, 1 = view present) -> Dict[str, Tensor]";
  } else {
    entry["inputs"] = {spec.sections[s.index - 1].tier};
    entry["input_shape"] = section_output_shape(spec, s.index - 1);
    entry["signature"] = "forward(x: previous section's features) -> Dict[str, Tensor]";
  }
  return entry;
}

nlohmann::json boundaries(const NetworkSpec& spec) {
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i + 1 < spec.sections.size(); ++i) {
    const Shape shape = section_output_shape(spec, i);
    const auto q = spec.sections[i].quantization;
    list.push_back(
        {{"from", spec.sections[i].tier},
         {"to", spec.sections[i + 1].tier},
         {"quantization", quantization_name(q)},
         {"shape", shape},
         {"bytes_per_sample", packed_bytes(values_of(shape), q)},
         {"per_device", i == 0 && spec.view_count > 1},
         {"values", q == Quantization::kBinary ? "+1/-1 floats; wire: 1 bit each, 1 = +1, MSB first"
                    : q == Quantization::kInt8 ? "dequantized floats on a 255-step grid over [-4, 4]; wire: uint8"
                                               : "float32"}});
  }
  return list;
}

nlohmann::json manifest_of(Network& network, const std::vector<std::string>& policy_exits) {
  const auto& spec = network.spec();
  nlohmann::json sections = nlohmann::json::array(), chain = nlohmann::json::array(),
                 thresholds = nlohmann::json::object();
  for (const auto& s : network.sections()) sections.push_back(section_entry(network, s));
  for (const auto& s : spec.sections) chain.push_back(s.tier);
  for (size_t i = 0; i < network.thresholds().size() && i < policy_exits.size(); ++i)
    thresholds[policy_exits[i]] = network.thresholds()[i];
  const auto [mean, std] = network.input_normalization();
  return {{"format", "hddnn-export-1"},
          {"name", spec.name},
          {"views", spec.views},
          {"view_count", spec.view_count},
          {"chain", chain},
          {"sections", sections},
          {"boundaries", boundaries(spec)},
          {"exit_policy",
           {{"rule",
             "answer at the first policy exit whose normalized entropy (entropy of softmax / log(classes)) < its "
             "threshold; the last policy exit answers the rest"},
            {"exits", policy_exits},
            {"thresholds", thresholds}}},
          {"normalization",
           {{"mean", mean}, {"std", std}, {"applied", "inside the end section: inputs are raw pixels in [0,1]"}}},
          {"image_shape", spec.image_shape},
          {"labels", spec.labels.to_json()}};
}

}  // namespace

nlohmann::json export_network(Network& network, const std::string& dir, const std::vector<std::string>& policy_exits) {
  std::filesystem::create_directories(dir);
  network.train(false);
  for (auto& s : network.sections()) s.module.save((std::filesystem::path(dir) / (s.name + ".pt")).string());
  const auto manifest = manifest_of(network, policy_exits);
  const auto path = std::filesystem::path(dir) / "manifest.json";
  std::ofstream out(path);
  if (!out) throw ConfigError(path.string() + ": cannot write the manifest");
  out << manifest.dump(2) << "\n";
  return manifest;
}

}  // namespace hddnn::nn
