#include "hddnn/data/labelled_images.hpp"

#include <torch/serialize.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "hddnn/errors.hpp"

namespace hddnn::data {
namespace {

constexpr const char* kFormat = "hddnn-data-1";
const std::vector<std::string> kSplits = {"train", "val", "test"};

std::string shape_of(const torch::Tensor& t) { return c10::str(t.sizes()); }

void check_images(const torch::Tensor& images, const std::string& where) {
  if (!images.defined()) throw DataError(where + ": images: missing");
  if (images.dim() != 4 && images.dim() != 5)
    throw DataError(where + ": images: expected N x C x H x W (or N x V x C x H x W for views), got " +
                    std::to_string(images.dim()) + " dims " + shape_of(images));
  if (!images.is_floating_point())
    throw DataError(where + ": images: expected floats in [0, 1], got " +
                    std::string(c10::toString(images.scalar_type())));
  if (images.size(0) == 0) throw DataError(where + ": empty split (no images)");
  if (torch::isnan(images).any().item<bool>()) throw DataError(where + ": images: contains NaN");
  const double low = images.min().item<double>(), high = images.max().item<double>();
  if (low < 0.0 || high > 1.0)
    throw DataError(where + ": images: values must lie in [0, 1], found " + std::to_string(low) + ".." +
                    std::to_string(high));
}

void check_labels(const torch::Tensor& labels, int64_t count, const std::string& where) {
  if (!labels.defined()) throw DataError(where + ": labels: missing");
  if (labels.dim() != 1 || labels.scalar_type() != torch::kInt64)
    throw DataError(where + ": labels: expected N int64, got " + std::string(c10::toString(labels.scalar_type())) +
                    " " + shape_of(labels));
  if (labels.size(0) != count)
    throw DataError(where + ": labels: " + std::to_string(labels.size(0)) + " labels for " + std::to_string(count) +
                    " images");
  if (labels.min().item<int64_t>() < 0)
    throw DataError(where + ": labels: out of range: " + std::to_string(labels.min().item<int64_t>()) + " < 0");
}

c10::impl::GenericDict read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open (missing file or no permission)");
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  c10::IValue value;
  try {
    value = torch::pickle_load(bytes);
  } catch (const c10::Error& e) {
    throw DataError(path + ": not a data file written by hddnn.datasets.save (" +
                    std::string(e.what_without_backtrace()).substr(0, 200) + ")");
  }
  if (!value.isGenericDict()) throw DataError(path + ": not a data file written by hddnn.datasets.save (no dict)");
  auto dict = value.toGenericDict();
  if (!dict.contains("format") || !dict.at("format").isString() || dict.at("format").toStringRef() != kFormat)
    throw DataError(path + ": format: expected '" + std::string(kFormat) + "'");
  return dict;
}

torch::Tensor tensor_entry(const c10::impl::GenericDict& split, const std::string& key, const std::string& where) {
  if (!split.contains(key) || !split.at(key).isTensor()) throw DataError(where + ": " + key + ": missing");
  return split.at(key).toTensor();
}

}  // namespace

void check_labelled(const LabelledImages& set, const std::string& where) {
  check_images(set.images, where);
  check_labels(set.fine, set.images.size(0), where);
}

void save_data_file(const std::string& path, const std::map<std::string, LabelledImages>& splits) {
  c10::impl::GenericDict file(c10::StringType::get(), c10::AnyType::get());
  file.insert("format", std::string(kFormat));
  for (const auto& [name, set] : splits) {
    if (std::find(kSplits.begin(), kSplits.end(), name) == kSplits.end())
      throw DataError(path + ": unknown split '" + name + "' (expected train, val or test)");
    check_labelled(set, path + ": " + name);
    c10::impl::GenericDict entry(c10::StringType::get(), c10::TensorType::get());
    entry.insert("images", set.images.to(torch::kFloat32).contiguous());
    entry.insert("labels", set.fine.contiguous());
    file.insert(name, entry);
  }
  const auto bytes = torch::pickle_save(file);
  const std::string temporary = path + ".tmp";
  std::ofstream(temporary, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  std::filesystem::rename(temporary, path);
}

LabelledImages load_data_file(const std::string& path, const std::string& split) {
  const auto file = read_file(path);
  const std::string where = path + ": " + split;
  if (!file.contains(split) || !file.at(split).isGenericDict())
    throw DataError(where + ": the file has no '" + split + "' split");
  const auto entry = file.at(split).toGenericDict();
  LabelledImages set{tensor_entry(entry, "images", where), tensor_entry(entry, "labels", where)};
  check_labelled(set, where);
  set.images = set.images.to(torch::kFloat32);
  return set;
}

std::vector<std::string> data_file_splits(const std::string& path) {
  const auto file = read_file(path);
  std::vector<std::string> present;
  for (const auto& split : kSplits)
    if (file.contains(split)) present.push_back(split);
  return present;
}

}  // namespace hddnn::data
