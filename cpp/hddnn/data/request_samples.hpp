// Where a run's requests come from: the test split an end device (or a multi-view
// camera, or the aggregator that owns a shared stream) draws its samples from, either
// Fashion-MNIST's or that of a data file (`hddnn run --data FILE`, see
// labelled_images.hpp), cut into the model's views.
//
// Contract: images come back N x V x C x H x W float in [0,1] with the finest labels;
// `limit` >= 0 keeps the first `limit` samples. A file's images given as N x C x H x W
// are cut as `views` says; N x V x C x H x W ones must already have that many views
// (DataError naming the file otherwise), as must any fault the file has.
#pragma once

#include <cstdint>
#include <string>

#include "hddnn/data/labelled_images.hpp"

namespace hddnn::data {

struct RequestSampleSource {
  std::string data_file;         ///< a data file; empty = Fashion-MNIST
  std::string views = "single";  ///< single | quadrants | grid6; empty: a file's images as stored (labels only)
  uint64_t seed = 0;
  int64_t limit = -1;
};

/// The test split the source names, cut into views.
LabelledImages load_request_samples(const RequestSampleSource& source);

/// Cuts a set's N x C x H x W images into views (5-dim images are checked to have the
/// layout's view count); `where` names the set in errors.
LabelledImages with_views(LabelledImages set, const std::string& views, const std::string& where);

}  // namespace hddnn::data
