#include "hddnn/nn/spec_data.hpp"

#include <torch/torch.h>

#include "hddnn/errors.hpp"

namespace hddnn::nn {
namespace {

std::string shape_text(const Shape& s) { return c10::str(c10::IntArrayRef(s)); }

void check_images(const NetworkSpec& spec, const torch::Tensor& images, const std::string& where) {
  const auto sizes = images.sizes();
  const Shape per_sample(sizes.begin() + 1, sizes.end());
  if (images.dim() == 4 && per_sample != spec.image_shape)
    throw DataError(where + ": images are " + shape_text(per_sample) + " (channels, height, width) but network '" +
                    spec.name + "' takes " + shape_text(spec.image_shape));
  if (images.dim() != 5) return;
  Shape expected = spec.input_shape;
  expected.insert(expected.begin(), spec.view_count);
  if (per_sample != expected)
    throw DataError(where + ": images are " + shape_text(per_sample) +
                    " (views, channels, height, width) but network '" + spec.name + "' takes " + shape_text(expected));
}

}  // namespace

void check_dataset(const NetworkSpec& spec, const data::LabelledImages& set, const std::string& where) {
  if (set.fine.numel() == 0) return;  // an empty validation split: nothing to score
  if (set.images.dim() != 4 && set.images.dim() != 5)
    throw DataError(where + ": images: expected N x C x H x W or N x V x C x H x W, got " +
                    std::to_string(set.images.dim()) + " dims");
  check_images(spec, set.images, where);
  const int64_t classes = spec.labels.classes(0), low = set.fine.min().item<int64_t>(),
                high = set.fine.max().item<int64_t>();
  if (low < 0 || high >= classes)
    throw DataError(where + ": labels: out of range: found " + std::to_string(low < 0 ? low : high) +
                    ", but the finest label set '" + spec.labels[0].name + "' has classes 0.." +
                    std::to_string(classes - 1));
}

std::vector<torch::Tensor> label_targets(const NetworkSpec& spec, const torch::Tensor& fine) {
  std::vector<torch::Tensor> targets;
  for (const auto& set : spec.labels.sets()) {
    const auto table = torch::tensor(set.of_finest, torch::kInt64).to(fine.device());
    targets.push_back(table.index_select(0, fine.to(torch::kInt64).flatten()).view(fine.sizes()));
  }
  return targets;
}

}  // namespace hddnn::nn
