#include "hddnn/mapping/topology.hpp"

#include <regex>
#include <set>

#include "hddnn/errors.hpp"
#include "hddnn/mapping/json_fields.hpp"

namespace hddnn::mapping {

using nlohmann::json;

std::string tier_name(Tier tier) {
  switch (tier) {
    case Tier::End: return "end";
    case Tier::Edge: return "edge";
    case Tier::Cloud: return "cloud";
  }
  return "?";
}

Tier parse_tier(const std::string& name, const std::string& where) {
  if (name == "end") return Tier::End;
  if (name == "edge") return Tier::Edge;
  if (name == "cloud") return Tier::Cloud;
  throw ConfigError(where + ": unknown tier '" + name + "' (expected end, edge or cloud)");
}

double Link::transfer_ms(double bytes) const { return latency_ms + bytes * 8.0 / (bandwidth_mbps * 1000.0); }

int Topology::cloud() const {
  for (std::size_t i = 0; i < devices.size(); ++i)
    if (devices[i].tier == Tier::Cloud) return static_cast<int>(i);
  return -1;
}

std::vector<int> Topology::of_tier(Tier tier) const {
  std::vector<int> found;
  for (std::size_t i = 0; i < devices.size(); ++i)
    if (devices[i].tier == tier) found.push_back(static_cast<int>(i));
  return found;
}

int Topology::index_of(const std::string& name) const {
  for (std::size_t i = 0; i < devices.size(); ++i)
    if (devices[i].name == name) return static_cast<int>(i);
  return -1;
}

const Link* Topology::link_between(int from, int to) const {
  for (const Link& link : devices.at(from).links)
    if (link.to == to) return &link;
  for (const Link& link : devices.at(to).links)
    if (link.to == from) return &link;
  return nullptr;
}

namespace {

// A device reference is a name or a rank index.
int resolve_device(const json& ref, const std::vector<std::string>& names, const std::string& where) {
  if (ref.is_number_integer()) {
    long long index = ref.get<long long>();
    if (index >= 0 && index < static_cast<long long>(names.size())) return static_cast<int>(index);
  } else if (ref.is_string()) {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == ref.get<std::string>()) return static_cast<int>(i);
  }
  throw ConfigError(where + ": unknown device " + ref.dump());
}

Link parse_link(const FieldReader& fields, const std::vector<std::string>& names) {
  Link link;
  link.to = resolve_device(fields.required("to"), names, fields.where() + ".to");
  link.latency_ms = fields.non_negative("latency_ms");
  link.bandwidth_mbps = fields.non_negative("bandwidth_mbps", true);
  return link;
}

Device parse_device(const FieldReader& fields, const std::vector<std::string>& names) {
  Device device;
  device.name = fields.string("name");
  std::string where = fields.where() + " ('" + device.name + "')";
  device.tier = parse_tier(fields.string("tier"), where + ".tier");
  device.speed = fields.non_negative("speed", true);
  if (fields.has("parent")) device.parent = resolve_device(fields.required("parent"), names, where + ".parent");
  const json& links = fields.has("links") ? fields.array("links") : json::array();
  for (std::size_t i = 0; i < links.size(); ++i)
    device.links.push_back(parse_link(FieldReader(links[i], element_name(where + ".links", i)), names));
  device.memory_mb = fields.non_negative_or("memory_mb", 0);
  device.power_w = fields.non_negative_or("power_w", 0);
  device.idle_w = fields.non_negative_or("idle_w", 0);
  device.radio_nj_per_byte = fields.non_negative_or("radio_nj_per_byte", 0);
  if (fields.has("views"))
    for (const json& view : fields.array("views")) {
      if (!view.is_number_integer() || view.get<long long>() < 0) fields.fail("views", "a list of view indices >= 0");
      device.views.push_back(view.get<int>());
    }
  if (fields.has("accelerator")) {
    device.accelerator = fields.string("accelerator");
    static const std::regex accepted("cpu|cuda(:[0-9]{1,4})?");
    if (!std::regex_match(*device.accelerator, accepted))
      throw ConfigError(where + ".accelerator: unknown accelerator '" + *device.accelerator +
                        "' (expected \"cpu\", \"cuda\" or \"cuda:N\")");
  }
  return device;
}

void check_structure(const Topology& topology) {
  std::set<std::string> seen;
  int clouds = 0;
  for (std::size_t i = 0; i < topology.devices.size(); ++i) {
    const Device& device = topology.devices[i];
    std::string where = topology.source + ": device '" + device.name + "'";
    if (!seen.insert(device.name).second) throw ConfigError(where + ": duplicate name");
    if (device.tier == Tier::Cloud) {
      ++clouds;
      continue;
    }
    if (device.parent < 0)
      throw ConfigError(where + ": field 'parent' is required for an " + tier_name(device.tier) + " device");
    if (device.parent == static_cast<int>(i)) throw ConfigError(where + ": is its own parent");
    bool linked = false;
    for (const Link& link : device.links) linked = linked || link.to == device.parent;
    if (!linked)
      throw ConfigError(where + ": no link to its parent '" + topology.devices[device.parent].name + "' in 'links'");
  }
  if (clouds == 0) throw ConfigError(topology.source + ": no device with tier 'cloud'");
  if (clouds > 1) throw ConfigError(topology.source + ": more than one device with tier 'cloud'");
}

}  // namespace

Topology parse_topology(const json& document, const std::string& source_name) {
  FieldReader top(document, source_name);
  const json& list = top.array("devices");
  if (list.empty()) top.fail("devices", "a non-empty list");
  std::vector<std::string> names;
  for (std::size_t i = 0; i < list.size(); ++i)
    names.push_back(FieldReader(list[i], element_name(source_name + ": devices", i)).string("name"));
  Topology topology;
  topology.source = source_name;
  for (std::size_t i = 0; i < list.size(); ++i)
    topology.devices.push_back(parse_device(FieldReader(list[i], element_name(source_name + ": devices", i)), names));
  check_structure(topology);
  return topology;
}

Topology load_topology(const std::string& path) { return parse_topology(read_json_file(path), path); }

std::string shipped_topology_dir() { return HDDNN_TOPOLOGY_DIR; }

json topology_to_json(const Topology& topology) {
  json devices = json::array();
  for (const Device& device : topology.devices) {
    json links = json::array();
    for (const Link& link : device.links)
      links.push_back({{"to", topology.devices[link.to].name},
                       {"latency_ms", link.latency_ms},
                       {"bandwidth_mbps", link.bandwidth_mbps}});
    json entry = {{"name", device.name},
                  {"tier", tier_name(device.tier)},
                  {"speed", device.speed},
                  {"parent", device.parent < 0 ? json(nullptr) : json(topology.devices[device.parent].name)},
                  {"links", links},
                  {"memory_mb", device.memory_mb},
                  {"power_w", device.power_w},
                  {"idle_w", device.idle_w},
                  {"radio_nj_per_byte", device.radio_nj_per_byte}};
    if (!device.views.empty()) entry["views"] = device.views;
    if (device.accelerator) entry["accelerator"] = *device.accelerator;
    devices.push_back(entry);
  }
  return {{"devices", devices}};
}

}  // namespace hddnn::mapping
