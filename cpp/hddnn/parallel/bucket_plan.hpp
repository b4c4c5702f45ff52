// Bucket planning for fused collectives: small tensors share one flat buffer so
// each bucket pays the collective's latency once.
//
// Contract: plan_buckets is a pure function of its input, so every rank given the
// same tensor list computes the same plan (the collectives then pair up). Tensors
// of different groups (dtype and device) never share a bucket. Within a group,
// tensors are packed in list order into buckets of at most `bucket_bytes`; a tensor
// larger than that gets a bucket of its own. Buckets are listed in the order of
// their first member.
#pragma once

#include <cstddef>
#include <vector>

namespace hddnn::parallel {

struct TensorSlot {
  std::size_t bytes = 0;
  int group = 0;  ///< tensors of one dtype on one device share a group
};

struct Bucket {
  int group = 0;
  std::vector<std::size_t> members;  ///< indices into the planned list, in order
  std::size_t bytes = 0;
};

std::vector<Bucket> plan_buckets(const std::vector<TensorSlot>& tensors, std::size_t bucket_bytes);

}  // namespace hddnn::parallel
