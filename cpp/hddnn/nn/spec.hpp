// Network specs: the JSON files in models/ that declare a multi-exit network.
//
// A spec lists sections in chain order (end, edge, cloud). Each section has a trunk
// of blocks, one or more exits (each a head of blocks followed by a linear layer onto
// its label set, with a loss weight) and, except the last, an output: the blocks that
// shape the features crossing to the next tier and their quantization. Multi-view
// specs ("views": "quadrants" | "grid6") run the first section once per view (one
// device each) and aggregate the devices' features at the second section.
// A spec declares its label sets ("labels", see data/label_sets.hpp; without it
// Fashion-MNIST's fine and coarse) and its input image ("input": [C, H, W], default
// Fashion-MNIST's [1, 28, 28]); each exit names the set it answers. A block may be a
// TorchScript file a user scripted from an nn.Module ({"type": "torchscript", "file":
// ...}, the path relative to the spec file); its output shape is probed by running it.
//
// Contract: parse_spec validates everything it can before any tensor is made; a bad
// spec throws ConfigError naming the block/field path (e.g. "sections[0].blocks[2].type")
// and what was expected. Shapes are checked by chaining them through every block.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "hddnn/data/label_sets.hpp"
#include "hddnn/nn/quantization.hpp"

namespace hddnn::nn {

enum class BlockType { kConv, kDwSep, kResidual, kBatchNorm, kActivation, kPool, kDropout, kLinear, kTorchScript };

/// One block; only the fields of its type are meaningful.
struct BlockSpec {
  BlockType type = BlockType::kConv;
  std::string path;               ///< where it came from, for error messages
  int64_t out = 0;                ///< output channels / features (conv, dwsep, residual, linear)
  int64_t kernel = 3;             ///< conv, dwsep, pool
  int64_t stride = 1;             ///< conv, dwsep, residual, pool (pool default: kernel)
  int64_t padding = -1;           ///< conv, pool; -1 = kernel / 2 for conv, 0 for pool
  std::string function = "relu";  ///< activation: relu | relu6 | tanh | sigmoid
  std::string mode = "max";       ///< pool: max | avg
  bool global = false;            ///< pool over the whole map (to a vector)
  double p = 0.0;                 ///< dropout probability
  std::string file;               ///< torchscript: the scripted module's file (absolute)
};

struct ExitSpec {
  size_t labels = 0;              ///< index of its label set in NetworkSpec::labels (0: the finest)
  double weight = 1.0;            ///< weight of this exit's cross-entropy in the joint loss
  std::vector<BlockSpec> blocks;  ///< head before the final linear onto the label set
};

enum class Aggregator { kNone, kMax, kAverage, kConcat };
std::string aggregator_name(Aggregator aggregator);

struct SectionSpec {
  std::string tier;                           ///< end | edge | cloud; also the section's name
  Aggregator aggregator = Aggregator::kNone;  ///< multi-view: how the edge combines devices
  bool shared = false;                        ///< multi-view end: one branch shared by all views
  std::vector<BlockSpec> blocks;              ///< trunk
  std::vector<ExitSpec> exits;
  std::vector<BlockSpec> output_blocks;  ///< features for the next tier (not on the last)
  Quantization quantization = Quantization::kFloat32;
};

using Shape = std::vector<int64_t>;  ///< C,H,W per sample, or F for vectors

struct NetworkSpec {
  std::string name;
  std::string views = "single";
  int64_t view_count = 1;
  Shape image_shape;  ///< the whole input image: C x H x W
  Shape input_shape;  ///< per view: C x h x w
  data::LabelSets labels;
  std::vector<SectionSpec> sections;
  nlohmann::json source;  ///< the JSON it was parsed from (TorchScript files made absolute)
};

/// Parses and validates a spec; `origin` names the file in error messages, and its
/// folder is where relative TorchScript files are found (the working folder when
/// `origin` is not a file).
NetworkSpec parse_spec(const nlohmann::json& json, const std::string& origin = "spec");
/// Reads and parses a spec file (ConfigError for an unreadable file or bad JSON).
/// `data_image_shape` (C x H x W), when given, is the input the data has: a spec
/// without "input" takes it, one whose "input" differs is a ConfigError.
NetworkSpec load_spec(const std::string& path, const Shape& data_image_shape = {});
/// The same for a spec given as JSON.
NetworkSpec spec_for_data(nlohmann::json json, const std::string& origin, const Shape& data_image_shape);

/// Name and class count of an exit's label set.
const std::string& label_set_name(const NetworkSpec& spec, const ExitSpec& exit);
int64_t label_count(const NetworkSpec& spec, const ExitSpec& exit);

/// Shape of a section's trunk input, after aggregation for a multi-view edge.
Shape section_input_shape(const NetworkSpec& spec, size_t index);
/// Shape a list of blocks produces from `in` (ConfigError naming the block when they
/// do not chain).
Shape chain_shape(const std::vector<BlockSpec>& blocks, Shape in);
/// Shape of the features a section sends on (empty for the last section).
Shape section_output_shape(const NetworkSpec& spec, size_t index);

}  // namespace hddnn::nn
