#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "hddnn/data/fashion_mnist.hpp"
#include "hddnn/data/idx.hpp"
#include "hddnn/data/labels.hpp"
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
  auto coarse = data::to_coarse(torch::tensor({5, 7, 9, 8, 1}, torch::kInt64));
  EXPECT_TRUE(torch::equal(coarse, torch::tensor({2, 2, 2, 3, 1}, torch::kInt64)));
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

}  // namespace
