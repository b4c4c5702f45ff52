#include "hddnn/nn/spec.hpp"

#include <filesystem>
#include <fstream>
#include <set>

#include "hddnn/data/views.hpp"
#include "hddnn/errors.hpp"
#include "hddnn/nn/blocks.hpp"

namespace hddnn::nn {
namespace {

using nlohmann::json;

const std::vector<std::string> kTierOrder = {"end", "edge", "cloud"};

template <typename T>
T field(const json& j, const std::string& key, const std::string& path, T fallback) {
  if (!j.contains(key)) return fallback;
  try {
    return j.at(key).get<T>();
  } catch (const json::exception&) {
    throw ConfigError(path + "." + key + ": wrong type (" + j.at(key).dump() + ")");
  }
}

void check_keys(const json& j, const std::set<std::string>& allowed, const std::string& path) {
  if (!j.is_object()) throw ConfigError(path + ": expected an object");
  for (const auto& item : j.items())
    if (!allowed.count(item.key())) throw ConfigError(path + "." + item.key() + ": unknown field");
}

void require_positive(int64_t value, const std::string& path) {
  if (value < 1) throw ConfigError(path + ": must be a positive integer, got " + std::to_string(value));
}

BlockSpec parse_block(const json& j, const std::string& path) {
  check_keys(j, {"type", "out", "kernel", "stride", "padding", "function", "mode", "global", "p", "file"}, path);
  BlockSpec b;
  b.path = path;
  if (!j.contains("type")) throw ConfigError(path + ".type: missing");
  b.type = parse_block_type(field<std::string>(j, "type", path, ""), path + ".type");
  b.out = field<int64_t>(j, "out", path, 0);
  b.kernel = field<int64_t>(j, "kernel", path, b.type == BlockType::kPool ? 2 : 3);
  b.stride = field<int64_t>(j, "stride", path, b.type == BlockType::kPool ? b.kernel : 1);
  b.padding = field<int64_t>(j, "padding", path, -1);
  b.function = field<std::string>(j, "function", path, "relu");
  b.mode = field<std::string>(j, "mode", path, "max");
  b.global = field<bool>(j, "global", path, false);
  b.p = field<double>(j, "p", path, 0.0);
  b.file = field<std::string>(j, "file", path, "");
  if (b.type == BlockType::kTorchScript && b.file.empty())
    throw ConfigError(path + ".file: a torchscript block needs its file");
  if (b.type == BlockType::kTorchScript && !std::filesystem::exists(b.file))
    throw ConfigError(path + ".file: " + b.file + ": no such file");
  const bool has_out = b.type == BlockType::kConv || b.type == BlockType::kDwSep || b.type == BlockType::kResidual ||
                       b.type == BlockType::kLinear;
  if (has_out) require_positive(b.out, path + ".out");
  require_positive(b.kernel, path + ".kernel");
  require_positive(b.stride, path + ".stride");
  if (b.function != "relu" && b.function != "relu6" && b.function != "tanh" && b.function != "sigmoid")
    throw ConfigError(path + ".function: unknown activation '" + b.function +
                      "' (expected relu, relu6, tanh or sigmoid)");
  if (b.mode != "max" && b.mode != "avg")
    throw ConfigError(path + ".mode: unknown pooling '" + b.mode + "' (expected max or avg)");
  if (b.p < 0.0 || b.p >= 1.0) throw ConfigError(path + ".p: dropout probability must be in [0, 1)");
  return b;
}

std::vector<BlockSpec> parse_blocks(const json& j, const std::string& key, const std::string& path) {
  std::vector<BlockSpec> blocks;
  if (!j.contains(key)) return blocks;
  if (!j.at(key).is_array()) throw ConfigError(path + "." + key + ": expected a list of blocks");
  for (size_t i = 0; i < j.at(key).size(); ++i)
    blocks.push_back(parse_block(j.at(key)[i], path + "." + key + "[" + std::to_string(i) + "]"));
  return blocks;
}

size_t parse_label_set(const data::LabelSets& labels, const std::string& name, const std::string& path) {
  const int index = labels.index_of(name);
  if (index < 0) throw ConfigError(path + ": unknown label set '" + name + "' (expected " + labels.names() + ")");
  return static_cast<size_t>(index);
}

ExitSpec parse_exit(const json& j, const data::LabelSets& labels, const std::string& path) {
  check_keys(j, {"labels", "weight", "blocks"}, path);
  ExitSpec e;
  e.labels = parse_label_set(labels, field<std::string>(j, "labels", path, ""), path + ".labels");
  e.weight = field<double>(j, "weight", path, 1.0);
  if (e.weight < 0.0) throw ConfigError(path + ".weight: must be >= 0");
  e.blocks = parse_blocks(j, "blocks", path);
  return e;
}

Aggregator parse_aggregator(const std::string& name, const std::string& path) {
  if (name == "max") return Aggregator::kMax;
  if (name == "avg") return Aggregator::kAverage;
  if (name == "concat") return Aggregator::kConcat;
  throw ConfigError(path + ": unknown aggregator '" + name + "' (expected max, avg or concat)");
}

void parse_exits(const json& j, const data::LabelSets& labels, const std::string& path, SectionSpec& s) {
  if (!j.contains("exits") || !j.at("exits").is_array() || j.at("exits").empty())
    throw ConfigError(path + ".exits: expected a non-empty list of exits");
  std::set<size_t> seen;
  for (size_t i = 0; i < j.at("exits").size(); ++i) {
    const std::string exit_path = path + ".exits[" + std::to_string(i) + "]";
    s.exits.push_back(parse_exit(j.at("exits")[i], labels, exit_path));
    if (!seen.insert(s.exits.back().labels).second)
      throw ConfigError(exit_path + ".labels: a section has at most one exit per label set");
  }
  if (!seen.count(0))
    throw ConfigError(path + ".exits: every section needs an exit onto the finest label set '" + labels[0].name + "'");
}

SectionSpec parse_section(const json& j, const data::LabelSets& labels, const std::string& path) {
  check_keys(j, {"tier", "aggregator", "shared", "blocks", "exits", "output"}, path);
  SectionSpec s;
  s.tier = field<std::string>(j, "tier", path, "");
  if (std::find(kTierOrder.begin(), kTierOrder.end(), s.tier) == kTierOrder.end())
    throw ConfigError(path + ".tier: unknown tier '" + s.tier + "' (expected end, edge or cloud)");
  if (j.contains("aggregator"))
    s.aggregator = parse_aggregator(field<std::string>(j, "aggregator", path, ""), path + ".aggregator");
  s.shared = field<bool>(j, "shared", path, false);
  s.blocks = parse_blocks(j, "blocks", path);
  parse_exits(j, labels, path, s);
  if (j.contains("output")) {
    const auto& out = j.at("output");
    check_keys(out, {"blocks", "quantize"}, path + ".output");
    s.output_blocks = parse_blocks(out, "blocks", path + ".output");
    s.quantization = parse_quantization(field<std::string>(out, "quantize", path + ".output", "float32"),
                                        path + ".output.quantize");
  }
  return s;
}

// TorchScript files named relative to the spec's folder become absolute, so the spec
// (kept in checkpoints) finds them from anywhere.
void resolve_block_files(json& blocks, const std::filesystem::path& base) {
  if (!blocks.is_array()) return;
  for (auto& block : blocks) {
    if (!block.is_object() || !block.contains("file") || !block.at("file").is_string()) continue;
    const std::filesystem::path file = block.at("file").get<std::string>();
    block["file"] = std::filesystem::absolute(file.is_absolute() ? file : base / file).lexically_normal().string();
  }
}

json with_absolute_files(json j, const std::string& origin) {
  std::error_code error;
  const auto base = std::filesystem::is_regular_file(origin, error) ? std::filesystem::path(origin).parent_path()
                                                                    : std::filesystem::current_path();
  if (!j.is_object() || !j.contains("sections") || !j.at("sections").is_array()) return j;
  for (auto& section : j.at("sections")) {
    if (!section.is_object()) continue;
    if (section.contains("blocks")) resolve_block_files(section.at("blocks"), base);
    if (section.contains("output") && section.at("output").is_object() && section.at("output").contains("blocks"))
      resolve_block_files(section.at("output").at("blocks"), base);
    if (!section.contains("exits") || !section.at("exits").is_array()) continue;
    for (auto& exit : section.at("exits"))
      if (exit.is_object() && exit.contains("blocks")) resolve_block_files(exit.at("blocks"), base);
  }
  return j;
}

data::LabelSets parse_labels(const json& j, const std::string& origin) {
  if (!j.contains("labels")) return data::fashion_mnist_label_sets();
  return data::LabelSets::from_json(j.at("labels"), origin + ": labels");
}

Shape parse_image_shape(const json& j, const std::string& origin) {
  const Shape shape = field<Shape>(j, "input", origin, Shape{1, 28, 28});
  if (shape.size() != 3 || shape[0] < 1 || shape[1] < 2 || shape[2] < 2)
    throw ConfigError(origin + ".input: expected [channels, height, width] (each >= 1, height and width >= 2), got " +
                      json(shape).dump());
  return shape;
}

void check_chain_order(const NetworkSpec& spec, const std::string& origin) {
  if (spec.sections.empty()) throw ConfigError(origin + ": sections: expected at least one section");
  if (spec.sections.front().tier != "end") throw ConfigError(origin + ": sections[0].tier: the chain starts at 'end'");
  for (size_t i = 1; i < spec.sections.size(); ++i) {
    auto rank = [](const std::string& t) {
      return std::find(kTierOrder.begin(), kTierOrder.end(), t) - kTierOrder.begin();
    };
    if (rank(spec.sections[i].tier) <= rank(spec.sections[i - 1].tier))
      throw ConfigError(origin + ": sections[" + std::to_string(i) +
                        "].tier: tiers must follow end, edge, cloud in order");
  }
}

void check_aggregators(const NetworkSpec& spec, const std::string& origin) {
  for (size_t i = 0; i < spec.sections.size(); ++i) {
    const bool wants = spec.view_count > 1 && i == 1;
    const bool has = spec.sections[i].aggregator != Aggregator::kNone;
    if (wants && !has)
      throw ConfigError(origin + ": sections[1].aggregator: a multi-view spec needs max, avg or concat");
    if (!wants && has)
      throw ConfigError(origin + ": sections[" + std::to_string(i) +
                        "].aggregator: only the section after the devices of a multi-view spec aggregates");
  }
  if (spec.view_count > 1 && spec.sections.size() < 2)
    throw ConfigError(origin + ": sections: a multi-view spec needs a section after the devices");
}

void check_shapes(const NetworkSpec& spec) {
  for (size_t i = 0; i < spec.sections.size(); ++i) {
    const auto& s = spec.sections[i];
    const Shape trunk = chain_shape(s.blocks, section_input_shape(spec, i));
    for (const auto& e : s.exits) chain_shape(e.blocks, trunk);
    const bool last = i + 1 == spec.sections.size();
    if (last && !s.output_blocks.empty())
      throw ConfigError("sections[" + std::to_string(i) + "].output: the last section sends no features");
  }
}

}  // namespace

const std::string& label_set_name(const NetworkSpec& spec, const ExitSpec& exit) {
  return spec.labels[exit.labels].name;
}
int64_t label_count(const NetworkSpec& spec, const ExitSpec& exit) { return spec.labels.classes(exit.labels); }

std::string aggregator_name(Aggregator aggregator) {
  switch (aggregator) {
    case Aggregator::kNone: return "none";
    case Aggregator::kMax: return "max";
    case Aggregator::kAverage: return "avg";
    case Aggregator::kConcat: return "concat";
  }
  return "none";
}

Shape chain_shape(const std::vector<BlockSpec>& blocks, Shape in) {
  for (const auto& b : blocks) in = block_output_shape(b, in);
  return in;
}

Shape section_output_shape(const NetworkSpec& spec, size_t index) {
  if (index + 1 >= spec.sections.size()) return {};
  const auto& s = spec.sections[index];
  return chain_shape(s.output_blocks, chain_shape(s.blocks, section_input_shape(spec, index)));
}

Shape section_input_shape(const NetworkSpec& spec, size_t index) {
  if (index == 0) return spec.input_shape;
  Shape in = section_output_shape(spec, index - 1);
  if (index == 1 && spec.sections[1].aggregator == Aggregator::kConcat) in[0] *= spec.view_count;
  return in;
}

NetworkSpec parse_spec(const json& given, const std::string& origin) {
  const json j = with_absolute_files(given, origin);
  check_keys(j, {"name", "description", "views", "training", "labels", "input", "sections"}, origin);
  NetworkSpec spec;
  spec.source = j;
  spec.name = field<std::string>(j, "name", origin, "network");
  spec.views = field<std::string>(j, "views", origin, "single");
  const auto layout = data::parse_view_layout(spec.views);
  spec.view_count = data::view_count(layout);
  spec.image_shape = parse_image_shape(j, origin);
  spec.input_shape = data::view_shape(layout, spec.image_shape);
  spec.labels = parse_labels(j, origin);
  if (!j.contains("sections") || !j.at("sections").is_array()) throw ConfigError(origin + ".sections: expected a list");
  for (size_t i = 0; i < j.at("sections").size(); ++i)
    spec.sections.push_back(parse_section(j.at("sections")[i], spec.labels, "sections[" + std::to_string(i) + "]"));
  check_chain_order(spec, origin);
  check_aggregators(spec, origin);
  try {
    check_shapes(spec);
  } catch (const ConfigError& e) {
    throw ConfigError(origin + ": " + e.what());
  }
  return spec;
}

NetworkSpec spec_for_data(json j, const std::string& origin, const Shape& data_image_shape) {
  if (!data_image_shape.empty() && j.is_object()) {
    if (!j.contains("input")) {
      j["input"] = data_image_shape;
    } else if (j.at("input") != json(data_image_shape)) {
      throw ConfigError(origin + ".input: the spec says " + j.at("input").dump() + " but the data's images are " +
                        json(data_image_shape).dump() + " (channels, height, width)");
    }
  }
  return parse_spec(j, origin);
}

NetworkSpec load_spec(const std::string& path, const Shape& data_image_shape) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot read the spec file");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::parse_error& e) {
    throw ConfigError(path + ": not valid JSON: " + e.what());
  }
  return spec_for_data(std::move(j), path, data_image_shape);
}

}  // namespace hddnn::nn
