#include "hddnn/runtime/placement.hpp"

#include "hddnn/errors.hpp"

namespace hddnn::runtime {
namespace {

constexpr size_t kSections = 3;  // end, edge, cloud
static_assert(int(Tier::kEnd) == int(mapping::Tier::End) && int(Tier::kEdge) == int(mapping::Tier::Edge) &&
                  int(Tier::kCloud) == int(mapping::Tier::Cloud),
              "runtime and mapping tiers share their values");

}  // namespace

Placement::Placement(std::vector<Tier> tiers) : tiers_(std::move(tiers)) {}

Placement Placement::for_scheme(const std::string& scheme) {
  if (scheme == "end") return Placement({Tier::kEnd});
  if (scheme == "end-cloud") return Placement({Tier::kEnd, Tier::kCloud, Tier::kCloud});
  return Placement({Tier::kEnd, Tier::kEdge, Tier::kCloud});
}

Placement Placement::from_plan(const std::vector<mapping::Tier>& tiers) {
  std::vector<Tier> placed;
  for (auto tier : tiers) placed.push_back(static_cast<Tier>(static_cast<int>(tier)));
  return checked(std::move(placed));
}

Placement Placement::from_names(const std::vector<std::string>& names) {
  std::vector<Tier> tiers;
  for (const auto& name : names) tiers.push_back(parse_tier(name));
  return checked(std::move(tiers));
}

Placement Placement::checked(std::vector<Tier> tiers) {
  if (tiers.size() != kSections) {
    throw ConfigError("plan: \"sections\" has " + std::to_string(tiers.size()) + " tiers, expected " +
                      std::to_string(kSections) + " (end, edge, cloud sections)");
  }
  if (tiers.front() != Tier::kEnd) {
    throw ConfigError("plan: \"sections\"[0] is '" + tier_name(tiers.front()) +
                      "', expected 'end' (raw inputs never leave the device)");
  }
  for (size_t k = 1; k < tiers.size(); ++k) {
    if (tiers[k] < tiers[k - 1]) {
      throw ConfigError("plan: \"sections\"[" + std::to_string(k) + "] is '" + tier_name(tiers[k]) +
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
