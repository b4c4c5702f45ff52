#include "hddnn/runtime/placement.hpp"

#include "hddnn/errors.hpp"

namespace hddnn::runtime {
namespace {

constexpr size_t kSections = 3;  // end, edge, cloud

}  // namespace

Placement::Placement(std::vector<Tier> tiers) : tiers_(std::move(tiers)) {}

Placement Placement::for_scheme(const std::string& scheme) {
  if (scheme == "end") return Placement({Tier::kEnd});
  if (scheme == "end-cloud") return Placement({Tier::kEnd, Tier::kCloud, Tier::kCloud});
  return Placement({Tier::kEnd, Tier::kEdge, Tier::kCloud});
}

Placement Placement::from_names(const std::vector<std::string>& names) {
  if (names.size() != kSections) {
    throw ConfigError("plan: \"sections\" has " + std::to_string(names.size()) + " tiers, expected " +
                      std::to_string(kSections) + " (end, edge, cloud sections)");
  }
  std::vector<Tier> tiers;
  for (const auto& name : names) tiers.push_back(parse_tier(name));
  if (tiers.front() != Tier::kEnd) {
    throw ConfigError("plan: \"sections\"[0] is '" + names.front() +
                      "', expected 'end' (raw inputs never leave the device)");
  }
  for (size_t k = 1; k < tiers.size(); ++k) {
    if (tiers[k] < tiers[k - 1]) {
      throw ConfigError("plan: \"sections\"[" + std::to_string(k) + "] is '" + names[k] +
                        "', below the tier of the section before it");
    }
  }
  return Placement(std::move(tiers));
}

size_t Placement::local_sections() const {
  size_t k = 0;
  while (k < tiers_.size() && tiers_[k] == Tier::kEnd) ++k;
  return k;
}

Dispatch Placement::dispatch(bool destination_is_cloud) const {
  if (!escalates()) throw ConfigError("placement: every section runs on the end device, nothing to send");
  const size_t first = local_sections();
  auto runs_there = [&](size_t k) { return destination_is_cloud || tiers_[k] == Tier::kEdge; };
  Dispatch dispatch;
  dispatch.relay = !runs_there(first);
  const bool all_there = dispatch.relay || runs_there(tiers_.size() - 1);
  if (first + 1 == tiers_.size()) {
    dispatch.stage = Stage::kCloud;
  } else {
    dispatch.stage = all_there ? Stage::kEdgeThenCloud : Stage::kEdge;
  }
  return dispatch;
}

}  // namespace hddnn::runtime
