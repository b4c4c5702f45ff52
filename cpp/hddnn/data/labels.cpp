#include "hddnn/data/labels.hpp"

namespace hddnn::data {

const std::array<std::string, kFineClasses>& fine_label_names() {
  static const std::array<std::string, kFineClasses> names = {
      "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
  return names;
}

const std::array<std::string, kCoarseClasses>& coarse_label_names() {
  static const std::array<std::string, kCoarseClasses> names = {"top", "bottom/dress", "footwear", "bag"};
  return names;
}

const std::array<int64_t, kFineClasses>& coarse_of_fine() {
  // T-shirt, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot
  static const std::array<int64_t, kFineClasses> map = {0, 1, 0, 1, 0, 2, 0, 2, 3, 2};
  return map;
}

}  // namespace hddnn::data
