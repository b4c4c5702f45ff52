#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "hddnn/data/fashion_mnist.hpp"
#include "hddnn/data/idx.hpp"
#include "hddnn/data/label_sets.hpp"
#include "hddnn/data/labelled_images.hpp"
#include "hddnn/data/request_samples.hpp"
#include "hddnn/data/views.hpp"
#include "hddnn/errors.hpp"

namespace {

using namespace hddnn;

std::string write_file(const std::string& name, const std::vector<unsigned char>& bytes) {
  auto path = (std::filesystem::temp_directory_path() / name).string();
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return path;
}

TEST(Idx, ReadsUncompressedFile) {
  auto path = write_file("hddnn_ok.idx", {0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6});
  auto t = data::read_idx(path);
  ASSERT_EQ(t.sizes(), torch::IntArrayRef({2, 3}));
  EXPECT_EQ(t[1][2].item<int>(), 6);
}

TEST(Idx, RejectsWrongMagic) {
  auto path = write_file("hddnn_magic.idx", {0, 0, 9, 1, 0, 0, 0, 1, 7});
  EXPECT_THROW(data::read_idx(path), DataError);
}

TEST(Idx, RejectsTruncatedData) {
  auto path = write_file("hddnn_short.idx", {0, 0, 8, 1, 0, 0, 0, 5, 1, 2});
  try {
    data::read_idx(path);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
}

TEST(Idx, MissingFileNamesThePath) {
  try {
    data::read_idx("/nonexistent/hddnn.gz");
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/hddnn.gz"), std::string::npos);
  }
}

TEST(Labels, CoarseMapGroupsFootwear) {
  const auto& sets = data::fashion_mnist_label_sets();
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(sets[1].name, "coarse");
  for (int fine : {5, 7, 9}) EXPECT_EQ(sets[1].of_finest[fine], 2);
  EXPECT_EQ(sets.derive(0, 8, 1), 3);
  EXPECT_EQ(sets.derive(1, 2, 0), -1);  // footwear does not say which shoe
}

// More than two levels: a set derived from a derived set composes the maps.
TEST(Labels, ChainedSetsComposeToTheFinest) {
  const auto sets = data::LabelSets::from_json({{{"name", "fine"}, {"classes", {"a", "b", "c", "d"}}},
                                                {{"name", "mid"}, {"from", "fine"}, {"map", {0, 0, 1, 2}}},
                                                {{"name", "top"}, {"from", "mid"}, {"map", {0, 1, 1}}}},
                                               "labels");
  EXPECT_EQ(sets[2].of_finest, (std::vector<int64_t>{0, 0, 1, 1}));
  EXPECT_EQ(sets.derive(1, 2, 2), 1);
  EXPECT_EQ(sets.classes(1), 3);
}

std::string label_error(const nlohmann::json& labels) {
  try {
    data::LabelSets::from_json(labels, "spec.json: labels");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Labels, NonTotalOrOutOfRangeMapsAreConfigErrors) {
  const nlohmann::json fine = {{"name", "digit"}, {"classes", {"0", "1", "2"}}};
  auto message = label_error({fine, {{"name", "parity"}, {"from", "digit"}, {"map", {0, 1}}}});
  EXPECT_NE(message.find("spec.json: labels[1].map"), std::string::npos) << message;
  EXPECT_NE(message.find("total"), std::string::npos) << message;
  message = label_error(
      {fine, {{"name", "parity"}, {"from", "digit"}, {"map", {0, 1, 2}}, {"classes", {"even", "odd"}}}});
  EXPECT_NE(message.find("labels[1].map[2]: class 2 out of range"), std::string::npos) << message;
  message = label_error({fine, {{"name", "parity"}, {"from", "letters"}, {"map", {0, 1, 0}}}});
  EXPECT_NE(message.find("labels[1].from: unknown label set 'letters'"), std::string::npos) << message;
  EXPECT_NE(label_error({fine, {{"name", "digit"}, {"from", "digit"}, {"map", {0, 1, 0}}}}).find("twice"),
            std::string::npos);
  EXPECT_NE(label_error({{{"name", "bad name"}, {"classes", {"a", "b"}}}}).find("identifier"), std::string::npos);
}

TEST(Views, Grid6CutsSixEqualCrops) {
  auto images = torch::arange(2 * 28 * 28, torch::kInt64).remainder(256).to(torch::kUInt8).view({2, 28, 28});
  auto views = data::make_views(images, data::ViewLayout::kGrid6);
  ASSERT_EQ(views.sizes(), torch::IntArrayRef({2, 6, 1, 14, 14}));
  // The last crop starts at row 14, column 14.
  EXPECT_FLOAT_EQ(views[0][5][0][0][0].item<float>(), images[0][14][14].item<float>() / 255.0f);
}

TEST(Views, UnknownLayoutIsConfigError) { EXPECT_THROW(data::parse_view_layout("octants"), ConfigError); }

TEST(FashionMnist, TestSplitHasRealImages) {
  if (!std::filesystem::exists(data::default_dataset_dir())) GTEST_SKIP() << "dataset not installed";
  auto set = data::load_fashion_mnist({"", "test", "quadrants", 0, 5000, 100});
  EXPECT_EQ(set.images.sizes(), torch::IntArrayRef({100, 4, 1, 16, 16}));
  EXPECT_GT(set.images.max().item<float>(), 0.9f);
  EXPECT_LT(set.fine.max().item<int64_t>(), 10);
}

TEST(DataFile, SavesLoadsAndCutsViews) {
  const auto path = (std::filesystem::temp_directory_path() / "hddnn_data_ok.pt").string();
  data::LabelledImages test{torch::rand({5, 3, 8, 8}), torch::tensor({0, 1, 2, 3, 4}, torch::kInt64)};
  data::save_data_file(path, {{"test", test}});
  EXPECT_EQ(data::data_file_splits(path), (std::vector<std::string>{"test"}));
  const auto back = data::load_data_file(path, "test");
  EXPECT_TRUE(torch::equal(back.images, test.images));
  EXPECT_TRUE(torch::equal(back.fine, test.fine));
  const auto requests = data::load_request_samples({path, "quadrants", 0, 3});
  EXPECT_EQ(requests.images.sizes(), torch::IntArrayRef({3, 4, 3, 4, 4}));
  try {
    data::load_data_file(path, "train");
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("no 'train' split"), std::string::npos) << e.what();
  }
}

std::string data_error(const data::LabelledImages& set) {
  try {
    data::check_labelled(set, "f.pt: train");
  } catch (const DataError& e) {
    return e.what();
  }
  return "no error";
}

TEST(DataFile, BadTensorsAreDataErrorsNamingTheFault) {
  const auto labels = torch::zeros({4}, torch::kInt64);
  EXPECT_NE(data_error({torch::rand({4, 8, 8}), labels}).find("f.pt: train: images: expected N x C x H x W"),
            std::string::npos);
  auto nan = torch::rand({4, 1, 8, 8});
  nan[1][0][2][2] = NAN;
  EXPECT_NE(data_error({nan, labels}).find("NaN"), std::string::npos);
  EXPECT_NE(data_error({torch::rand({4, 1, 8, 8}) * 255, labels}).find("[0, 1]"), std::string::npos);
  EXPECT_NE(data_error({torch::rand({0, 1, 8, 8}), torch::zeros({0}, torch::kInt64)}).find("empty split"),
            std::string::npos);
  EXPECT_NE(data_error({torch::rand({4, 1, 8, 8}), torch::tensor({0, -1, 0, 0}, torch::kInt64)}).find("out of range"),
            std::string::npos);
  EXPECT_NE(data_error({torch::rand({4, 1, 8, 8}), torch::zeros({3}, torch::kInt64)}).find("3 labels for 4 images"),
            std::string::npos);
  const auto junk = write_file("hddnn_junk.pt", {1, 2, 3});
  EXPECT_THROW(data::load_data_file(junk, "test"), DataError);
}

}  // namespace
