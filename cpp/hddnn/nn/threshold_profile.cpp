#include "hddnn/nn/threshold_profile.hpp"

#include <cmath>
#include <cstdio>

#include "hddnn/errors.hpp"
#include "hddnn/mapping/json_fields.hpp"
#include "hddnn/mapping/profile.hpp"

namespace hddnn::nn {
namespace {

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

/// The curve's point of `threshold` (every policy exit at it); ConfigError naming the points otherwise.
nlohmann::json curve_point(const std::string& model_dir, double threshold) {
  const auto metrics = mapping::read_json_file(model_dir + "/metrics.json");
  const auto curve = metrics.value("exit_curve", nlohmann::json::array());
  std::string known;
  for (const auto& point : curve) {
    const double at = point.at("thresholds").at(0).get<double>();
    if (std::abs(at - threshold) < 1e-9) return point;
    known += (known.empty() ? "" : ", ") + number(at);
  }
  throw ConfigError("threshold: " + number(threshold) + " is not a point of " + model_dir + "'s exit curve (one of " +
                    known + ")");
}

size_t section_named(const nlohmann::json& sections, const std::string& name, const std::string& exit) {
  for (size_t i = 0; i < sections.size(); ++i) {
    if (sections[i].at("name") == name) return i;
  }
  throw ConfigError("metrics.json: exit '" + exit + "' belongs to no section of profile.json");
}

}  // namespace

nlohmann::json profile_at_threshold(const std::string& model_dir, double threshold) {
  const std::string path = model_dir + "/profile.json";
  nlohmann::json profile = mapping::read_json_file(path);
  mapping::parse_profile(profile, path);  // checks it
  if (threshold < 0) return profile;
  const auto exits = curve_point(model_dir, threshold).at("exit_fraction");
  bool end_exits = false;  // a multi-view model's exits are the aggregator's: not planned
  for (const auto& [exit, share] : exits.items()) end_exits = end_exits || exit.rfind("end/", 0) == 0;
  if (!end_exits) return profile;
  auto& sections = profile.at("sections");
  std::vector<double> answered;
  std::vector<size_t> exit_section;
  for (const auto& [exit, share] : exits.items()) {
    answered.push_back(share.get<double>());
    exit_section.push_back(section_named(sections, exit.substr(0, exit.find('/')), exit));
  }
  const auto escalate = mapping::escalate_fractions(answered, exit_section, sections.size());
  for (size_t i = 0; i < sections.size(); ++i) sections[i]["escalate_fraction"] = escalate[i];
  return profile;
}

}  // namespace hddnn::nn
