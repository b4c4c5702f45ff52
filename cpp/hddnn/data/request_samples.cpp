#include "hddnn/data/request_samples.hpp"

#include <torch/torch.h>

#include "hddnn/data/fashion_mnist.hpp"
#include "hddnn/data/views.hpp"
#include "hddnn/errors.hpp"

namespace hddnn::data {

LabelledImages with_views(LabelledImages set, const std::string& views, const std::string& where) {
  const auto layout = parse_view_layout(views);
  if (set.images.dim() == 4) {
    set.images = cut_views(set.images, layout);
  } else if (set.images.size(1) != view_count(layout)) {
    throw DataError(where + ": images have " + std::to_string(set.images.size(1)) + " views but the model's layout '" +
                    views + "' has " + std::to_string(view_count(layout)));
  }
  return set;
}

LabelledImages load_request_samples(const RequestSampleSource& source) {
  if (source.data_file.empty())
    return load_fashion_mnist(
        {"", "test", source.views.empty() ? "single" : source.views, source.seed, 5000, source.limit});
  auto set = load_data_file(source.data_file, "test");
  if (!source.views.empty()) set = with_views(std::move(set), source.views, source.data_file + ": test");
  if (source.limit >= 0 && source.limit < set.images.size(0))
    set = {set.images.slice(0, 0, source.limit), set.fine.slice(0, 0, source.limit)};
  return set;
}

}  // namespace hddnn::data
