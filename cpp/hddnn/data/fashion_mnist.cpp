#include "hddnn/data/fashion_mnist.hpp"

#include <torch/torch.h>

#include "hddnn/data/idx.hpp"
#include "hddnn/data/labels.hpp"
#include "hddnn/data/views.hpp"
#include "hddnn/errors.hpp"

namespace hddnn::data {
namespace {

struct RawSplit {
  torch::Tensor images;  // N x 28 x 28 uint8
  torch::Tensor labels;  // N uint8
};

RawSplit read_pair(const std::string& root, const std::string& prefix) {
  const std::string images_path = root + "/" + prefix + "-images-idx3-ubyte.gz";
  const std::string labels_path = root + "/" + prefix + "-labels-idx1-ubyte.gz";
  RawSplit raw{read_idx(images_path), read_idx(labels_path)};
  if (raw.images.dim() != 3)
    throw DataError(images_path + ": expected 3 dims (N x H x W), got " + std::to_string(raw.images.dim()));
  if (raw.labels.dim() != 1)
    throw DataError(labels_path + ": expected 1 dim (N), got " + std::to_string(raw.labels.dim()));
  if (raw.images.size(0) != raw.labels.size(0)) {
    throw DataError(labels_path + ": " + std::to_string(raw.labels.size(0)) + " labels for " +
                    std::to_string(raw.images.size(0)) + " images in " + images_path);
  }
  if (raw.labels.numel() > 0 && raw.labels.max().item<int64_t>() >= kFineClasses) {
    throw DataError(labels_path + ": label " + std::to_string(raw.labels.max().item<int64_t>()) + " out of range 0..9");
  }
  return raw;
}

torch::Tensor split_indices(const FashionMnistConfig& config, int64_t total) {
  if (config.val_size < 0 || config.val_size >= total) {
    throw ConfigError("val_size: " + std::to_string(config.val_size) + " must be in 0.." + std::to_string(total - 1));
  }
  auto gen = at::make_generator<at::CPUGeneratorImpl>(config.seed);
  auto order = torch::randperm(total, gen, torch::kInt64);
  return config.split == "val" ? order.slice(0, 0, config.val_size) : order.slice(0, config.val_size, total);
}

}  // namespace

std::string default_dataset_dir() { return HDDNN_DATASET_DIR; }

LabelledImages load_fashion_mnist(const FashionMnistConfig& config) {
  if (config.split != "train" && config.split != "val" && config.split != "test") {
    throw ConfigError("split: unknown split '" + config.split + "' (expected train, val or test)");
  }
  const auto layout = parse_view_layout(config.views);
  const std::string root = config.root.empty() ? default_dataset_dir() : config.root;
  RawSplit raw = read_pair(root, config.split == "test" ? "t10k" : "train");
  if (config.split != "test") {
    auto idx = split_indices(config, raw.images.size(0));
    raw = {raw.images.index_select(0, idx), raw.labels.index_select(0, idx)};
  }
  if (config.limit >= 0 && config.limit < raw.images.size(0)) {
    raw = {raw.images.slice(0, 0, config.limit), raw.labels.slice(0, 0, config.limit)};
  }
  auto fine = raw.labels.to(torch::kInt64);
  return {make_views(raw.images, layout), fine};
}

}  // namespace hddnn::data
