#include "hddnn/data/label_sets.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "hddnn/data/labels.hpp"
#include "hddnn/errors.hpp"

namespace hddnn::data {
namespace {

constexpr int64_t kMaxClasses = 256;  ///< the wire carries a class in one byte

bool is_identifier(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

std::vector<std::string> numbered(int64_t count) {
  std::vector<std::string> names;
  for (int64_t i = 0; i < count; ++i) names.push_back(std::to_string(i));
  return names;
}

template <typename T>
T read(const nlohmann::json& j, const std::string& key, const std::string& where) {
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw ConfigError(where + "." + key + ": " +
                      (j.contains(key) ? "wrong type (" + j.at(key).dump() + ")" : "missing"));
  }
}

void check_keys(const nlohmann::json& j, const std::set<std::string>& allowed, const std::string& where) {
  if (!j.is_object()) throw ConfigError(where + ": expected an object");
  for (const auto& item : j.items())
    if (!allowed.count(item.key())) throw ConfigError(where + "." + item.key() + ": unknown field");
}

// A derived set: its map must be total over the source set, its classes in range.
void parse_map(const nlohmann::json& j, const LabelSets& earlier, const std::string& where, LabelSet& set) {
  const std::string from = read<std::string>(j, "from", where);
  set.from = earlier.index_of(from);
  if (set.from < 0)
    throw ConfigError(where + ".from: unknown label set '" + from +
                      "' (expected one declared before it: " + earlier.names() + ")");
  set.map = read<std::vector<int64_t>>(j, "map", where);
  const int64_t source = earlier.classes(set.from);
  if (static_cast<int64_t>(set.map.size()) != source)
    throw ConfigError(where + ".map: gives " + std::to_string(set.map.size()) + " classes but '" + from + "' has " +
                      std::to_string(source) + " (the map must be total: one entry per class of '" + from + "')");
  const int64_t count = j.contains("classes")
                            ? static_cast<int64_t>(read<std::vector<std::string>>(j, "classes", where).size())
                            : (set.map.empty() ? 0 : *std::max_element(set.map.begin(), set.map.end()) + 1);
  for (size_t i = 0; i < set.map.size(); ++i)
    if (set.map[i] < 0 || set.map[i] >= count)
      throw ConfigError(where + ".map[" + std::to_string(i) + "]: class " + std::to_string(set.map[i]) +
                        " out of range 0.." + std::to_string(count - 1));
  set.classes = j.contains("classes") ? read<std::vector<std::string>>(j, "classes", where) : numbered(count);
}

LabelSet parse_set(const nlohmann::json& j, const LabelSets& earlier, const std::string& where) {
  check_keys(j, {"name", "classes", "from", "map", "of_finest"}, where);
  LabelSet set;
  set.name = read<std::string>(j, "name", where);
  if (!is_identifier(set.name) || set.name == "features")
    throw ConfigError(where + ".name: '" + set.name +
                      "' must be an identifier (letters, digits, _) other than 'features'");
  if (earlier.index_of(set.name) >= 0) throw ConfigError(where + ".name: label set '" + set.name + "' declared twice");
  if (earlier.empty()) {
    if (j.contains("from") || j.contains("map"))
      throw ConfigError(where + ": the first label set is the finest: it has no 'from' or 'map'");
    set.classes = read<std::vector<std::string>>(j, "classes", where);
  } else {
    if (!j.contains("from") || !j.contains("map"))
      throw ConfigError(where + ": every label set after the first needs 'from' and 'map'");
    parse_map(j, earlier, where, set);
  }
  if (set.classes.size() < 2 || static_cast<int64_t>(set.classes.size()) > kMaxClasses)
    throw ConfigError(where + ".classes: a label set needs 2.." + std::to_string(kMaxClasses) + " classes, got " +
                      std::to_string(set.classes.size()));
  return set;
}

}  // namespace

LabelSets::LabelSets(std::vector<LabelSet> sets) : sets_(std::move(sets)) {
  for (auto& set : sets_) {
    set.of_finest.clear();
    if (set.from < 0) {
      for (int64_t i = 0; i < static_cast<int64_t>(set.classes.size()); ++i) set.of_finest.push_back(i);
    } else {
      for (int64_t parent : sets_.at(set.from).of_finest) set.of_finest.push_back(set.map.at(parent));
    }
  }
}

LabelSets LabelSets::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_array() || j.empty()) throw ConfigError(where + ": expected a non-empty list of label sets");
  LabelSets parsed;
  for (size_t i = 0; i < j.size(); ++i) {
    auto set = parse_set(j[i], parsed, where + "[" + std::to_string(i) + "]");
    auto sets = parsed.sets_;
    sets.push_back(std::move(set));
    parsed = LabelSets(std::move(sets));
  }
  return parsed;
}

nlohmann::json LabelSets::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& set : sets_) {
    nlohmann::json entry = {{"name", set.name}, {"classes", set.classes}, {"of_finest", set.of_finest}};
    if (set.from >= 0) {
      entry["from"] = sets_.at(set.from).name;
      entry["map"] = set.map;
    }
    list.push_back(entry);
  }
  return list;
}

int LabelSets::index_of(const std::string& name) const {
  for (size_t i = 0; i < sets_.size(); ++i)
    if (sets_[i].name == name) return static_cast<int>(i);
  return -1;
}

std::string LabelSets::names() const {
  std::string out;
  for (size_t i = 0; i < sets_.size(); ++i)
    out += (i == 0 ? "" : i + 1 == sets_.size() ? " or " : ", ") + sets_[i].name;
  return out;
}

int64_t LabelSets::derive(size_t from, int64_t label, size_t to) const {
  const auto& source = sets_.at(from).of_finest;
  const auto& target = sets_.at(to).of_finest;
  int64_t result = -1;
  for (size_t fine = 0; fine < source.size(); ++fine) {
    if (source[fine] != label) continue;
    if (result >= 0 && target[fine] != result) return -1;
    result = target[fine];
  }
  return result;
}

const LabelSets& fashion_mnist_label_sets() {
  static const LabelSets sets = [] {
    const auto& fine = fine_label_names();
    const auto& coarse = coarse_label_names();
    const auto& map = coarse_of_fine();
    LabelSet f{"fine", {fine.begin(), fine.end()}, -1, {}, {}};
    LabelSet c{"coarse", {coarse.begin(), coarse.end()}, 0, {map.begin(), map.end()}, {}};
    return LabelSets({f, c});
  }();
  return sets;
}

LabelSets label_sets_of_manifest(const nlohmann::json& manifest, const std::string& where) {
  if (!manifest.contains("labels")) throw ConfigError(where + ": labels: missing");
  // Exports made before label sets were declared name Fashion-MNIST's as an object.
  const auto& labels = manifest.at("labels");
  if (labels.is_object() && labels.contains("coarse_of_fine")) return fashion_mnist_label_sets();
  return LabelSets::from_json(labels, where + ": labels");
}

}  // namespace hddnn::data
