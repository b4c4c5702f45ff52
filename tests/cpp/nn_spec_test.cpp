// Spec parsing: valid specs build, invalid ones throw ConfigError naming block and field.
#include <gtest/gtest.h>

#include <filesystem>

#include "hddnn/errors.hpp"
#include "hddnn/nn/spec.hpp"
#include "nn_tiny_spec.hpp"

namespace {

using namespace hddnn;
using namespace hddnn::nn;

std::string config_error(const nlohmann::json& spec) {
  try {
    parse_spec(spec, "t.json");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(NnSpec, ParsesTinySpecAndChainsShapes) {
  const auto spec = parse_spec(specs::tiny_single_spec());
  ASSERT_EQ(spec.sections.size(), 3u);
  EXPECT_EQ(spec.input_shape, (Shape{1, 28, 28}));
  EXPECT_EQ(section_output_shape(spec, 0), (Shape{2, 7, 7}));
  EXPECT_EQ(section_input_shape(spec, 1), (Shape{2, 7, 7}));
  EXPECT_EQ(section_output_shape(spec, 1), (Shape{8, 7, 7}));
  EXPECT_EQ(spec.sections[0].quantization, Quantization::kBinary);
  EXPECT_EQ(spec.sections[1].quantization, Quantization::kInt8);
}

TEST(NnSpec, ConcatAggregatorMultipliesChannels) {
  const auto spec = parse_spec(specs::tiny_multiview_spec("concat"));
  EXPECT_EQ(spec.view_count, 6);
  EXPECT_EQ(spec.input_shape, (Shape{1, 14, 14}));
  EXPECT_EQ(section_input_shape(spec, 1), (Shape{12, 4, 4}));
}

TEST(NnSpec, UnknownBlockTypeNamesBlockAndField) {
  auto j = specs::tiny_single_spec();
  j["sections"][1]["blocks"][1]["type"] = "attention";
  const auto message = config_error(j);
  EXPECT_NE(message.find("sections[1].blocks[1].type"), std::string::npos) << message;
  EXPECT_NE(message.find("attention"), std::string::npos) << message;
}

TEST(NnSpec, ShapesThatDoNotChainNameTheBlock) {
  auto j = specs::tiny_single_spec();
  j["sections"][2]["blocks"].push_back({{"type", "conv"}, {"out", 4}});  // conv after linear
  const auto message = config_error(j);
  EXPECT_NE(message.find("sections[2].blocks[3]"), std::string::npos) << message;
  EXPECT_NE(message.find("do not chain"), std::string::npos) << message;
}

TEST(NnSpec, KernelLargerThanMapIsRejected) {
  auto j = specs::tiny_single_spec();
  j["sections"][1]["blocks"][0]["kernel"] = 9;
  j["sections"][1]["blocks"][0]["padding"] = 0;
  EXPECT_NE(config_error(j).find("sections[1].blocks[0].kernel"), std::string::npos);
}

TEST(NnSpec, UnknownLabelSetIsRejected) {
  auto j = specs::tiny_single_spec();
  j["sections"][0]["exits"][1]["labels"] = "medium";
  const auto message = config_error(j);
  EXPECT_NE(message.find("sections[0].exits[1].labels"), std::string::npos) << message;
  EXPECT_NE(message.find("medium"), std::string::npos) << message;
}

nlohmann::json digits_labels() {
  return nlohmann::json::parse(R"([
    {"name": "digit", "classes": ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]},
    {"name": "parity", "from": "digit", "map": [0, 1, 0, 1, 0, 1, 0, 1, 0, 1], "classes": ["even", "odd"]},
    {"name": "small", "from": "digit", "map": [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]}])");
}

TEST(NnSpec, DeclaredLabelSetsAndInputShape) {
  auto j = specs::tiny_single_spec();
  j["labels"] = digits_labels();
  j["input"] = {3, 16, 16};
  j["sections"][0]["exits"][0]["labels"] = "digit";
  j["sections"][0]["exits"][1]["labels"] = "small";
  j["sections"][1]["exits"][0]["labels"] = "digit";
  j["sections"][1]["exits"].push_back({{"labels", "parity"}});
  j["sections"][2]["exits"][0]["labels"] = "digit";
  const auto spec = parse_spec(j);
  EXPECT_EQ(spec.input_shape, (Shape{3, 16, 16}));
  EXPECT_EQ(spec.labels.size(), 3u);
  EXPECT_EQ(label_set_name(spec, spec.sections[0].exits[1]), "small");
  EXPECT_EQ(label_count(spec, spec.sections[1].exits[1]), 2);
  // A section must answer at the finest set.
  j["sections"][2]["exits"][0]["labels"] = "parity";
  EXPECT_NE(config_error(j).find("finest label set 'digit'"), std::string::npos) << config_error(j);
}

TEST(NnSpec, BadLabelMappingNamesTheSpecPath) {
  auto j = specs::tiny_single_spec();
  j["labels"] = digits_labels();
  j["labels"][1]["map"] = {0, 1, 0};
  const auto message = config_error(j);
  EXPECT_NE(message.find("t.json: labels[1].map"), std::string::npos) << message;
}

TEST(NnSpec, DataShapeFillsOrContradictsTheSpecInput) {
  auto j = specs::tiny_single_spec();
  EXPECT_EQ(spec_for_data(j, "t.json", {1, 20, 20}).input_shape, (Shape{1, 20, 20}));
  j["input"] = {1, 28, 28};
  try {
    spec_for_data(j, "t.json", {3, 28, 28});
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("t.json.input"), std::string::npos) << e.what();
  }
}

TEST(NnSpec, MissingTorchScriptFileIsNamed) {
  auto j = specs::tiny_single_spec();
  j["sections"][2]["blocks"].push_back({{"type", "torchscript"}, {"file", "no_such_layer.pt"}});
  const auto message = config_error(j);
  EXPECT_NE(message.find("sections[2].blocks[3].file"), std::string::npos) << message;
  EXPECT_NE(message.find("no_such_layer.pt"), std::string::npos) << message;
}

TEST(NnSpec, OtherFieldErrors) {
  auto j = specs::tiny_single_spec();
  j["sections"][0]["output"]["quantize"] = "2bit";
  EXPECT_NE(config_error(j).find("sections[0].output.quantize"), std::string::npos);
  j = specs::tiny_single_spec();
  j["sections"][0]["blocks"][0].erase("out");
  EXPECT_NE(config_error(j).find("sections[0].blocks[0].out"), std::string::npos);
  j = specs::tiny_single_spec();
  j["sections"][1]["tier"] = "end";
  EXPECT_NE(config_error(j).find("sections[1].tier"), std::string::npos);
  j = specs::tiny_single_spec();
  j["sections"][0]["exits"].erase(0);
  EXPECT_NE(config_error(j).find("exit onto the finest label set"), std::string::npos);
  j = specs::tiny_multiview_spec();
  j["sections"][1].erase("aggregator");
  EXPECT_NE(config_error(j).find("sections[1].aggregator"), std::string::npos);
  j = specs::tiny_single_spec();
  j["sections"][0]["blocks"][0]["strides"] = 2;
  EXPECT_NE(config_error(j).find("sections[0].blocks[0].strides: unknown field"), std::string::npos);
}

TEST(NnSpec, ShippedSpecsParse) {
  for (const char* name : {"fmnist_hetero.json", "fmnist_ddnn6.json"}) {
    const auto path = std::filesystem::path(HDDNN_MODELS_DIR) / name;
    EXPECT_NO_THROW(load_spec(path.string())) << path;
  }
  EXPECT_THROW(load_spec("/nonexistent/spec.json"), ConfigError);
}

}  // namespace
