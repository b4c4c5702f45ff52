// plan_buckets: packing order, exact boundaries, oversized tensors, groups apart.
#include <gtest/gtest.h>

#include "hddnn/errors.hpp"
#include "hddnn/parallel/bucket_plan.hpp"

namespace {

using hddnn::parallel::Bucket;
using hddnn::parallel::plan_buckets;
using hddnn::parallel::TensorSlot;

std::vector<std::vector<std::size_t>> members(const std::vector<Bucket>& buckets) {
  std::vector<std::vector<std::size_t>> out;
  for (const Bucket& bucket : buckets) out.push_back(bucket.members);
  return out;
}

TEST(BucketPlan, PacksInOrderUpToTheLimitInclusive) {
  // 32 + 32 fills a 64-byte bucket exactly; the next tensor opens a new one.
  auto buckets = plan_buckets({{32, 0}, {32, 0}, {4, 0}, {60, 0}, {4, 0}}, 64);
  EXPECT_EQ(members(buckets), (std::vector<std::vector<std::size_t>>{{0, 1}, {2, 3}, {4}}));
  EXPECT_EQ(buckets[0].bytes, 64u);
  EXPECT_EQ(buckets[1].bytes, 64u);
}

TEST(BucketPlan, OversizedTensorGetsItsOwnBucket) {
  auto buckets = plan_buckets({{8, 0}, {1000, 0}, {8, 0}}, 64);
  EXPECT_EQ(members(buckets), (std::vector<std::vector<std::size_t>>{{0}, {1}, {2}}));
  EXPECT_EQ(buckets[1].bytes, 1000u);
}

TEST(BucketPlan, GroupsNeverShareABucket) {
  auto buckets = plan_buckets({{8, 0}, {8, 1}, {8, 0}, {8, 1}}, 1 << 20);
  EXPECT_EQ(members(buckets), (std::vector<std::vector<std::size_t>>{{0, 2}, {1, 3}}));
  EXPECT_EQ(buckets[0].group, 0);
  EXPECT_EQ(buckets[1].group, 1);
}

TEST(BucketPlan, EmptyListAndZeroLimit) {
  EXPECT_TRUE(plan_buckets({}, 64).empty());
  EXPECT_THROW(plan_buckets({{8, 0}}, 0), hddnn::ConfigError);
}

}  // namespace
