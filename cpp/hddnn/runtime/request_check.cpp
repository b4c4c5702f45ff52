#include "hddnn/runtime/request_check.hpp"

#include <torch/torch.h>

#include "hddnn/data/label_sets.hpp"
#include "hddnn/data/request_samples.hpp"
#include "hddnn/errors.hpp"
#include "hddnn/runtime/export_manifest.hpp"

namespace hddnn::runtime {
namespace {

std::vector<int64_t> end_input_shape(const nlohmann::json& manifest, const std::string& path) {
  try {
    for (const auto& section : manifest.at("sections")) {
      if (section.at("tier") != "end") continue;
      std::vector<int64_t> shape = {1};
      for (int64_t d : section.at("input_shape")) shape.push_back(d);
      return shape;
    }
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(path + ": sections: " + e.what());
  }
  throw ConfigError(path + ": sections: no end section");
}

}  // namespace

void check_request_samples(const data::LabelledImages& samples, const std::vector<int64_t>& end_input_shape,
                           const data::LabelSets& labels, const std::string& source, const std::string& manifest) {
  const auto view = samples.images[0][0].unsqueeze(0);  // 1 x C x H x W, as the end section takes it
  if (view.sizes() != c10::IntArrayRef(end_input_shape))
    throw DataError(source + ": test: images are " + c10::str(samples.images.sizes().slice(2)) +
                    " per view but the model's end section takes " +
                    c10::str(c10::IntArrayRef(end_input_shape).slice(1)) + " (" + manifest + ")");
  const int64_t high = samples.fine.max().item<int64_t>();
  if (high >= labels.classes(0))
    throw DataError(source + ": test: labels: out of range: found " + std::to_string(high) + ", but the model's " +
                    "finest label set '" + labels[0].name + "' has classes 0.." +
                    std::to_string(labels.classes(0) - 1) + " (" + manifest + ")");
}

void check_request_data(const std::string& model_dir, const std::string& data_file) {
  const std::string path = model_dir + "/manifest.json";
  const auto manifest = read_export_manifest(model_dir);
  const auto samples = data::load_request_samples({data_file, manifest.value("views", "single"), 0, -1});
  check_request_samples(samples, end_input_shape(manifest, path), data::label_sets_of_manifest(manifest, path),
                        data_file, path);
}

}  // namespace hddnn::runtime
