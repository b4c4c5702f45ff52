// Cluster key files: written 0600, refused when group/others can read them or
// when their size or format is wrong, with the file named in the error.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "hddnn/crypto/cluster_key.hpp"
#include "hddnn/errors.hpp"

namespace {

using namespace hddnn;
using namespace hddnn::crypto;
namespace fs = std::filesystem;

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("hddnn-key-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write_text(const std::string& name, const std::string& text, mode_t mode) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
    return path;
  }

  void expect_refused(const std::string& path, const std::string& fragment) {
    try {
      ClusterKey::load(path);
      FAIL() << "loaded " << path;
    } catch (const CryptoError& error) {
      std::string what = error.what();
      EXPECT_NE(what.find(path), std::string::npos) << what;
      EXPECT_NE(what.find(fragment), std::string::npos) << what;
    }
  }

  fs::path dir_;
};

TEST_F(KeyFileTest, SavedWithMode0600AndLoadsBack) {
  std::string path = (dir_ / "cluster.key").string();
  ClusterKey key = ClusterKey::generate();
  key.save(path);
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ClusterKey loaded = ClusterKey::load(path);
  EXPECT_TRUE(loaded.derive(1, "hddnnid_").equals(key.derive(1, "hddnnid_")));
  EXPECT_FALSE(loaded.derive(1, "hddnnid_").equals(ClusterKey::generate().derive(1, "hddnnid_")));
}

TEST_F(KeyFileTest, RefusesToOverwriteUnlessAsked) {
  std::string path = (dir_ / "cluster.key").string();
  ClusterKey::generate().save(path);
  EXPECT_THROW(ClusterKey::generate().save(path), CryptoError);
  ClusterKey replacement = ClusterKey::generate();
  ::chmod(path.c_str(), 0644);
  replacement.save(path, /*overwrite=*/true);
  struct stat info {};
  ::stat(path.c_str(), &info);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_TRUE(ClusterKey::load(path).derive(0, "hddnnid_").equals(replacement.derive(0, "hddnnid_")));
}

TEST_F(KeyFileTest, RefusesGroupOrOtherReadable) {
  std::string path = (dir_ / "cluster.key").string();
  ClusterKey::generate().save(path);
  ::chmod(path.c_str(), 0644);
  expect_refused(path, "mode 0644");
  ::chmod(path.c_str(), 0640);
  expect_refused(path, "expected 0600");
  ::chmod(path.c_str(), 0400);
  EXPECT_NO_THROW(ClusterKey::load(path));
}

TEST_F(KeyFileTest, RefusesWrongFormatOrSize) {
  expect_refused(write_text("empty.key", "", 0600), "hddnn-cluster-key-v1");
  expect_refused(write_text("other.key", "-----BEGIN KEY-----\n", 0600), "hddnn-cluster-key-v1");
  expect_refused(write_text("short.key", "hddnn-cluster-key-v1 AAAA\n", 0600), "3 bytes, expected 32");
  expect_refused(write_text("bad64.key", "hddnn-cluster-key-v1 !!!!\n", 0600), "base64");
  expect_refused(write_text("big.key", std::string(1000, 'A'), 0600), "larger than");
  expect_refused((dir_ / "missing.key").string(), "cannot open");
}

TEST(ClusterKey, DerivesDistinctSubkeysPerRankAndContext) {
  ClusterKey key = ClusterKey::generate();
  EXPECT_FALSE(key.derive(0, "hddnnid_").equals(key.derive(1, "hddnnid_")));
  EXPECT_FALSE(key.derive(0, "hddnnid_").equals(key.derive(0, "hddnnxx_")));
  EXPECT_TRUE(key.derive(7, "hddnnid_").equals(key.derive(7, "hddnnid_")));
  EXPECT_THROW(ClusterKey::from_bytes(nullptr, 31), CryptoError);
}

}  // namespace
