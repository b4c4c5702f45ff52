// Where the sections of an end device's requests run, as the plan's placement
// says (mapping::DevicePlan::section_tier): sections placed on the end tier run on
// the device itself, in order, each exit answering when confident; the first
// section placed elsewhere and every later one leave the device as one Work item.
// Sections placed on the edge tier run at the node the router picks (an edge node
// or the cloud); sections placed on the cloud tier run at the cloud, so when the
// router picks an edge node that runs none of them, the edge relays the work.
// Section k is the model's k-th section (end, edge, cloud); a placement of the end
// section alone (scheme `end`) answers every request at the end exit.
// Shared by the live runtime and the simulator, so both follow one placement rule.
// Torch-free. Contract: the first section is always on the end device (raw inputs
// never leave it); tiers never go back down the chain (end <= edge <= cloud).
#pragma once

#include <string>
#include <vector>

#include "hddnn/mapping/topology.hpp"
#include "hddnn/runtime/outcome.hpp"
#include "hddnn/runtime/payloads.hpp"

namespace hddnn::runtime {

/// What a Work item asks of the node it is sent to.
struct Dispatch {
  Stage stage = Stage::kEdge;  ///< the sections run where the work finally lands
  bool relay = false;          ///< the receiving edge forwards it to the cloud unchanged
};

class Placement {
 public:
  /// The default of each scheme: `end` runs the end section only, `end-cloud` the
  /// rest at the cloud, `mapping` (before its first plan) edge then cloud.
  static Placement for_scheme(const std::string& scheme);
  /// From a plan's section tiers (mapping::DevicePlan::section_tier), one per section;
  /// throws ConfigError naming the plan's "sections" field when malformed.
  static Placement from_plan(const std::vector<mapping::Tier>& tiers);
  /// The same from their names ("end", "edge", "cloud"), as a kPlan message carries them.
  static Placement from_names(const std::vector<std::string>& names);

  /// Sections [0, local_sections()) run on the end device.
  size_t local_sections() const;
  /// The model section at position k (end, edge, cloud): its exit's tier in the results.
  static Tier section(size_t k) { return static_cast<Tier>(k); }
  size_t size() const { return tiers_.size(); }
  bool escalates() const { return local_sections() < tiers_.size(); }
  /// The Work that carries the first remote section to `destination`.
  Dispatch dispatch(bool destination_is_cloud) const;

 private:
  explicit Placement(std::vector<Tier> tiers);
  /// Checks the placement rule (ConfigError otherwise).
  static Placement checked(std::vector<Tier> tiers);
  std::vector<Tier> tiers_;  ///< per section: the tier placed to run it
};

}  // namespace hddnn::runtime
