// Multi-device views of an image: how each end device sees a sample.
//   single    - the whole image, one view;
//   quadrants - 4 overlapping 16x16 crops (corners);
//   grid6     - 6 crops of 14x14 on a 2x3 grid (rows at 0,14; columns at 0,7,14),
//               the six-camera setting of DDNN.
// Contract: views are float in [0,1], shaped N x V x C x H x W, all views one size.
#pragma once

#include <torch/types.h>

#include <string>
#include <vector>

namespace hddnn::data {

enum class ViewLayout { kSingle, kQuadrants, kGrid6 };

/// Parses "single" | "quadrants" | "grid6"; anything else throws ConfigError.
ViewLayout parse_view_layout(const std::string& name);
int64_t view_count(ViewLayout layout);

/// Cuts N x H x W uint8 images into N x V x 1 x h x w float views in [0,1].
torch::Tensor make_views(const torch::Tensor& images, ViewLayout layout);
/// Cuts N x C x H x W float images into N x V x C x h x w views.
torch::Tensor cut_views(const torch::Tensor& images, ViewLayout layout);
/// Shape C x h x w of one view of a C x H x W image.
std::vector<int64_t> view_shape(ViewLayout layout, const std::vector<int64_t>& image_shape);

}  // namespace hddnn::data
