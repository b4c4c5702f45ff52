// Label sets: the granularities a network's exits answer at. The first set is the
// finest (the labels a dataset carries); every other set is derived from another
// one by a class map, so each has a table from the finest classes to its own.
// Fashion-MNIST's are `fine` (10 classes) and `coarse` (4 groups).
//
// JSON form (a spec's top-level "labels", the export manifest's "labels"):
//   [{"name": "digit", "classes": ["0", ..., "9"]},
//    {"name": "parity", "from": "digit", "map": [0, 1, 0, 1, ...]}]
// `map[i]` is the class of the `from` set's class i; "classes" of a derived set is
// optional (default "0".."K-1", K = the largest class in the map + 1). The manifest
// adds `of_finest` to each set.
// Contract: parsing checks everything (names are identifiers, unique, not "features";
// a map is total over its source set and names only classes the set has; "from" names
// an earlier set; at most 256 classes, as the wire carries one byte per class) and
// throws ConfigError naming `where` and the field. Torch-free (the simulator and the
// results summary use it).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace hddnn::data {

struct LabelSet {
  std::string name;
  std::vector<std::string> classes;  ///< class names, in label order
  int from = -1;                     ///< index of the set it is derived from (-1: the finest)
  std::vector<int64_t> map;          ///< class of each class of `from`
  std::vector<int64_t> of_finest;    ///< class of each finest class
};

class LabelSets {
 public:
  LabelSets() = default;
  explicit LabelSets(std::vector<LabelSet> sets);

  /// Parses the JSON list form; `where` prefixes error messages (e.g. "models/x.json: labels").
  static LabelSets from_json(const nlohmann::json& j, const std::string& where);
  nlohmann::json to_json() const;

  const std::vector<LabelSet>& sets() const { return sets_; }
  size_t size() const { return sets_.size(); }
  bool empty() const { return sets_.empty(); }
  const LabelSet& operator[](size_t i) const { return sets_.at(i); }
  int64_t classes(size_t set) const { return static_cast<int64_t>(sets_.at(set).classes.size()); }
  /// Index of the set called `name`, or -1.
  int index_of(const std::string& name) const;
  /// "fine, coarse" style list of the names, for error messages.
  std::string names() const;

  /// The class in set `to` that class `label` of set `from` determines, or -1 when
  /// `from` does not determine `to` (two of its finest classes differ in `to`).
  int64_t derive(size_t from, int64_t label, size_t to) const;

 private:
  std::vector<LabelSet> sets_;
};

/// Fashion-MNIST's `fine` (10 classes) and `coarse` (4 groups) sets: what a spec
/// without "labels" means.
const LabelSets& fashion_mnist_label_sets();

/// The "labels" of an export manifest (`where` names it in errors); ConfigError when
/// missing or invalid.
LabelSets label_sets_of_manifest(const nlohmann::json& manifest, const std::string& where);

}  // namespace hddnn::data
