#include "hddnn/data/views.hpp"

#include <torch/torch.h>

#include <vector>

#include "hddnn/errors.hpp"

namespace hddnn::data {
namespace {

struct Crop {
  int64_t top, left, height, width;
};

std::vector<Crop> crops_of(ViewLayout layout, int64_t height, int64_t width) {
  switch (layout) {
    case ViewLayout::kSingle: return {{0, 0, height, width}};
    case ViewLayout::kQuadrants: {
      const int64_t h = height * 4 / 7, w = width * 4 / 7;  // 16 of 28: crops overlap
      return {{0, 0, h, w}, {0, width - w, h, w}, {height - h, 0, h, w}, {height - h, width - w, h, w}};
    }
    case ViewLayout::kGrid6: {
      const int64_t h = height / 2, w = width / 2, step = (width - w) / 2;
      std::vector<Crop> crops;
      for (int64_t row = 0; row < 2; ++row)
        for (int64_t col = 0; col < 3; ++col) crops.push_back({row * h, col * step, h, w});
      return crops;
    }
  }
  throw ConfigError("unknown view layout");
}

}  // namespace

ViewLayout parse_view_layout(const std::string& name) {
  if (name == "single") return ViewLayout::kSingle;
  if (name == "quadrants") return ViewLayout::kQuadrants;
  if (name == "grid6") return ViewLayout::kGrid6;
  throw ConfigError("views: unknown layout '" + name + "' (expected single, quadrants or grid6)");
}

int64_t view_count(ViewLayout layout) { return static_cast<int64_t>(crops_of(layout, 28, 28).size()); }

torch::Tensor make_views(const torch::Tensor& images, ViewLayout layout) {
  if (images.dim() != 3)
    throw DataError("make_views: expected N x H x W images, got " + std::to_string(images.dim()) + " dims");
  return cut_views(images.to(torch::kFloat32).div_(255.0f).unsqueeze(1), layout);
}

torch::Tensor cut_views(const torch::Tensor& images, ViewLayout layout) {
  if (images.dim() != 4)
    throw DataError("cut_views: expected N x C x H x W images, got " + std::to_string(images.dim()) + " dims");
  std::vector<torch::Tensor> views;
  for (const auto& c : crops_of(layout, images.size(2), images.size(3))) {
    views.push_back(images.slice(2, c.top, c.top + c.height).slice(3, c.left, c.left + c.width));
  }
  return torch::stack(views, 1).contiguous();
}

std::vector<int64_t> view_shape(ViewLayout layout, const std::vector<int64_t>& image_shape) {
  const auto crop = crops_of(layout, image_shape.at(1), image_shape.at(2)).front();
  return {image_shape.at(0), crop.height, crop.width};
}

}  // namespace hddnn::data
