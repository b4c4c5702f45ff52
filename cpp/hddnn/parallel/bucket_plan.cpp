#include "hddnn/parallel/bucket_plan.hpp"

#include <algorithm>
#include <map>

#include "hddnn/errors.hpp"

namespace hddnn::parallel {

std::vector<Bucket> plan_buckets(const std::vector<TensorSlot>& tensors, std::size_t bucket_bytes) {
  if (bucket_bytes == 0) throw ConfigError("bucket_bytes: expected a size > 0");
  std::vector<Bucket> buckets;
  std::map<int, std::size_t> open;  // group -> index of its open bucket in `buckets`
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const TensorSlot& tensor = tensors[i];
    auto found = open.find(tensor.group);
    bool fits = found != open.end() && buckets[found->second].bytes + tensor.bytes <= bucket_bytes;
    if (!fits) {
      buckets.push_back(Bucket{tensor.group, {}, 0});
      open[tensor.group] = buckets.size() - 1;
    }
    Bucket& bucket = buckets[open[tensor.group]];
    bucket.members.push_back(i);
    bucket.bytes += tensor.bytes;
  }
  return buckets;
}

}  // namespace hddnn::parallel
