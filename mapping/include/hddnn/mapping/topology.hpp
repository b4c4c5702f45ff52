// Topology files: the devices of a deployment in rank order (rank i runs device i),
// their tiers, speeds, links and budgets (docs/design.md, "Topology file").
//
// Contract: a Topology returned by parse_topology/load_topology is valid: exactly
// one cloud, every parent and link target exists, every non-cloud device links to
// its parent, speeds and bandwidths are positive, latencies and budgets are not
// negative, names are unique. Anything else is a ConfigError naming the device and field.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace hddnn::mapping {

enum class Tier { End = 0, Edge = 1, Cloud = 2 };

std::string tier_name(Tier tier);
/// Parses "end" | "edge" | "cloud"; ConfigError naming `where` otherwise.
Tier parse_tier(const std::string& name, const std::string& where);

/// A directed link from its device toward device `to`.
struct Link {
  int to = -1;
  double latency_ms = 0;
  double bandwidth_mbps = 0;

  /// latency + bytes*8/(bandwidth_mbps*1000), in ms.
  double transfer_ms(double bytes) const;
};

struct Device {
  std::string name;
  Tier tier = Tier::End;
  double speed = 1.0;  ///< relative compute speed (1.0 = the measuring machine)
  int parent = -1;     ///< default upstream device; -1 for the cloud
  std::vector<Link> links;
  double memory_mb = 0;  ///< 0: no budget given
  double power_w = 0;    ///< active power
  double idle_w = 0;
  double radio_nj_per_byte = 0;            ///< energy to send one byte
  std::vector<int> views;                  ///< views of a multi-view sample this end device sees
  std::optional<std::string> accelerator;  ///< "cpu", "cuda" or "cuda:N": where its sections run (checked
                                           ///< against the host by parallel::require_placement_available)
};

struct Topology {
  std::string source;  ///< file or name it came from, for messages
  std::vector<Device> devices;

  int cloud() const;
  std::vector<int> of_tier(Tier tier) const;
  int index_of(const std::string& name) const;  ///< -1 when absent
  /// The link from `from` to `to`, or else the reverse one (links are symmetric
  /// unless both directions are listed); nullptr when neither exists.
  const Link* link_between(int from, int to) const;
};

Topology parse_topology(const nlohmann::json& document, const std::string& source_name);
Topology load_topology(const std::string& path);
/// Folder of the shipped topologies (lab7.json, ddnn6.json) in the source tree.
std::string shipped_topology_dir();
nlohmann::json topology_to_json(const Topology& topology);

}  // namespace hddnn::mapping
