// Whether a run's request samples fit its model: the images of one view must be what
// the end section takes, the labels within the finest label set. End devices and
// cameras check the samples they load; the launcher checks a run's data file the same
// way before it starts any rank (`check_run_config`), so a file that does not fit fails
// at once.
//
// Contract: DataError naming the source (the data file, or Fashion-MNIST), the split,
// the fault and the model's manifest. Torch-free header.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hddnn::data {
struct LabelledImages;
class LabelSets;
}  // namespace hddnn::data

namespace hddnn::runtime {

/// samples: images N x V x C x H x W; end_input_shape: 1 x C x H x W.
void check_request_samples(const data::LabelledImages& samples, const std::vector<int64_t>& end_input_shape,
                           const data::LabelSets& labels, const std::string& source, const std::string& manifest);

/// Loads `data_file`'s test split cut into the model's views and checks it against the
/// model in `model_dir` (its manifest.json).
void check_request_data(const std::string& model_dir, const std::string& data_file);

}  // namespace hddnn::runtime
