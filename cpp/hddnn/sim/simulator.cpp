#include "hddnn/sim/simulator.hpp"

#include <queue>
#include <random>

#include "hddnn/errors.hpp"
#include "hddnn/runtime/arrivals.hpp"
#include "hddnn/runtime/outcome.hpp"
#include "hddnn/runtime/payloads.hpp"
#include "hddnn/runtime/placement.hpp"
#include "hddnn/runtime/router.hpp"
#include "hddnn/wire/wire_format.hpp"

namespace hddnn::sim {
namespace {

using runtime::Placement;
using runtime::RequestOutcome;
using runtime::Stage;
using runtime::Tier;

/// Where a request goes next: run a stage on a node, or arrive home with its answer.
enum class Step : uint8_t { kEndCompute, kEdgeCompute, kCloudCompute, kEdgeThenCloud, kAnswerHome };

struct Event {
  double at_ms;
  uint32_t request;
  int node;
  Step step;
  bool operator>(const Event& other) const { return at_ms > other.at_ms; }
};

struct Section {
  double compute_ms = 0, escalate = 0, accuracy = -1;
  size_t out_bytes = 0;
};

class Simulation {
 public:
  Simulation(const mapping::Topology& topology, const mapping::ModelProfile& profile, const SimConfig& config);
  nlohmann::json run();

 private:
  void offer_arrivals();
  void dispatch(const Event& e);
  double serve(int node, double at_ms, double service_ms);
  double transfer(int from, int to, double at_ms, size_t payload_bytes);
  /// Runs the sections placed on the end device; answers there or escalates.
  void run_on_end(const Event& e);
  void escalate_from_end(uint32_t request, int end, double at_ms);
  const Section& section(Tier tier) const {
    return tier == Tier::kEnd ? end_ : tier == Tier::kEdge ? edge_ : cloud_section_;
  }
  void answer(uint32_t request, int from, double at_ms, Tier exit);
  bool exits(const Section& section) { return coin_(rng_) >= section.escalate; }
  int cloud() const { return cloud_; }

  const mapping::Topology& topology_;
  SimConfig config_;
  Section end_, edge_, cloud_section_;
  int cloud_ = -1;
  std::vector<RequestOutcome> records_;
  std::vector<double> free_at_, busy_ms_, wait_ms_;
  std::vector<uint64_t> bytes_sent_, messages_sent_, answered_here_;
  std::map<std::pair<int, int>, double> link_free_at_;
  std::vector<runtime::Router> routers_;
  std::vector<Placement> placements_;  ///< per device (used for end devices)
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> coin_{0.0, 1.0};
  double plan_predicted_ms_ = 0;
  int plan_iterations_ = 0;
};

Section section_of(const mapping::ModelProfile& profile, const std::string& name) {
  for (const auto& s : profile.sections) {
    if (s.name == name) return {s.compute_ms_batch1, s.escalate_fraction, -1, static_cast<size_t>(s.out_bytes)};
  }
  throw ConfigError("profile: no section named '" + name + "'");
}

Simulation::Simulation(const mapping::Topology& topology, const mapping::ModelProfile& profile, const SimConfig& config)
    : topology_(topology), config_(config), rng_(config.seed ^ 0x5eedULL) {
  end_ = section_of(profile, "end");
  edge_ = section_of(profile, "edge");
  cloud_section_ = section_of(profile, "cloud");
  const size_t n = topology.devices.size();
  for (size_t i = 0; i < n; ++i) {
    if (topology.devices[i].tier == mapping::Tier::Cloud) cloud_ = static_cast<int>(i);
  }
  if (cloud_ < 0) throw ConfigError("topology: no cloud device");
  free_at_.assign(n, 0);
  busy_ms_.assign(n, 0);
  wait_ms_.assign(n, 0);
  bytes_sent_.assign(n, 0);
  messages_sent_.assign(n, 0);
  answered_here_.assign(n, 0);
  routers_.resize(n);
  placements_.assign(n, Placement::for_scheme(config.scheme));
  if (config.scheme == "end-cloud") {
    for (auto& router : routers_) router.set_fractions({{cloud_, 1.0}});
  } else if (config.scheme == "mapping") {
    const std::vector<double> rates(topology.of_tier(mapping::Tier::End).size(), config.rate_per_s);
    const auto plan = mapping::plan(topology, profile, rates, mapping::PlanOptions{});
    for (const auto& device : plan.devices) {
      routers_[device.device].set_fractions(std::map<int, double>(device.routing.begin(), device.routing.end()));
      placements_[device.device] = Placement::from_plan(device.section_tier);
    }
    plan_predicted_ms_ = plan.mean_latency_ms;
    plan_iterations_ = plan.iterations;
  } else if (config.scheme != "end") {
    throw ConfigError("scheme: unknown scheme '" + config.scheme + "' (expected end, end-cloud or mapping)");
  }
}

void Simulation::offer_arrivals() {
  for (size_t d = 0; d < topology_.devices.size(); ++d) {
    if (topology_.devices[d].tier != mapping::Tier::End) continue;
    for (const auto& a :
         runtime::poisson_arrivals(config_.rate_per_s, config_.duration_s, 1, config_.seed, static_cast<int>(d))) {
      RequestOutcome r;
      r.id = (uint64_t(d) << 32) | records_.size();
      r.origin = static_cast<int>(d);
      r.arrival_ms = a.at_ms;
      r.deadline_ms = config_.deadline_ms;
      records_.push_back(r);
      events_.push({a.at_ms, static_cast<uint32_t>(records_.size() - 1), static_cast<int>(d), Step::kEndCompute});
    }
  }
}

double Simulation::serve(int node, double at_ms, double service_ms) {
  const double start = std::max(at_ms, free_at_[node]);
  const double scaled = service_ms / topology_.devices[node].speed;
  wait_ms_[node] += start - at_ms;
  busy_ms_[node] += scaled;
  free_at_[node] = start + scaled;
  return free_at_[node];
}

double Simulation::transfer(int from, int to, double at_ms, size_t payload_bytes) {
  const size_t wire = comm::wire_size(payload_bytes, config_.encrypt);
  bytes_sent_[from] += wire;
  ++messages_sent_[from];
  const auto* link = topology_.link_between(from, to);
  if (link == nullptr) return at_ms;
  double& free_at = link_free_at_[{from, to}];
  const double depart = std::max(at_ms, free_at) + wire * 8.0 / (link->bandwidth_mbps * 1000.0);
  free_at = depart;
  return depart + link->latency_ms;
}

void Simulation::answer(uint32_t request, int from, double at_ms, Tier exit) {
  auto& r = records_[request];
  r.exit = exit;
  ++answered_here_[from];
  const double home = from == r.origin ? at_ms : transfer(from, r.origin, at_ms, runtime::kAnswerBytes);
  events_.push({home, request, r.origin, Step::kAnswerHome});
}

void Simulation::run_on_end(const Event& e) {
  const Placement& placement = placements_[e.node];
  double at = e.at_ms;
  for (size_t k = 0; k < placement.local_sections(); ++k) {
    const Tier tier = Placement::section(k);
    at = serve(e.node, at, section(tier).compute_ms);
    if (k + 1 == placement.size() || exits(section(tier))) return answer(e.request, e.node, at, tier);
  }
  escalate_from_end(e.request, e.node, at);
}

void Simulation::escalate_from_end(uint32_t request, int end, double at_ms) {
  int destination = routers_[end].next();
  if (destination < 0) destination = cloud_;  // a plan that routes nothing from this device: the cloud
  const Placement& placement = placements_[end];
  const Tier last_local = Placement::section(placement.local_sections() - 1);
  const size_t payload = runtime::kWorkHeaderBytes + section(last_local).out_bytes;
  records_[request].bytes_up += static_cast<uint32_t>(comm::wire_size(payload, config_.encrypt));
  const auto dispatch = placement.dispatch(destination == cloud_);
  double at = transfer(end, destination, at_ms, payload);
  if (dispatch.relay) {
    at = transfer(destination, cloud_, at, payload);
    destination = cloud_;
  }
  const Step step = dispatch.stage == Stage::kCloud  ? Step::kCloudCompute
                    : dispatch.stage == Stage::kEdge ? Step::kEdgeCompute
                                                     : Step::kEdgeThenCloud;
  events_.push({at, request, destination, step});
}

void Simulation::dispatch(const Event& e) {
  switch (e.step) {
    case Step::kEndCompute: return run_on_end(e);
    case Step::kEdgeCompute: {
      const double done = serve(e.node, e.at_ms, edge_.compute_ms);
      if (exits(edge_)) return answer(e.request, e.node, done, Tier::kEdge);
      const double at_cloud = transfer(e.node, cloud_, done, runtime::kWorkHeaderBytes + edge_.out_bytes);
      return events_.push({at_cloud, e.request, cloud_, Step::kCloudCompute});
    }
    case Step::kEdgeThenCloud: {
      const double edge_done = serve(e.node, e.at_ms, edge_.compute_ms);
      if (exits(edge_)) return answer(e.request, e.node, edge_done, Tier::kEdge);
      return answer(e.request, e.node, serve(e.node, edge_done, cloud_section_.compute_ms), Tier::kCloud);
    }
    case Step::kCloudCompute:
      return answer(e.request, e.node, serve(e.node, e.at_ms, cloud_section_.compute_ms), Tier::kCloud);
    case Step::kAnswerHome: {
      auto& r = records_[e.request];
      r.answered_ms = e.at_ms;
      r.answers = 1;
      const Section& s = section(r.exit);
      // Labels are not simulated: a correct answer has prediction == label == 0.
      r.fine_label = 0;
      r.fine_pred = r.answer_pred = (s.accuracy < 0 || coin_(rng_) < s.accuracy) ? 0 : 1;
      return;
    }
  }
}

nlohmann::json Simulation::run() {
  offer_arrivals();
  double last = 0;
  while (!events_.empty()) {
    const Event e = events_.top();
    events_.pop();
    last = std::max(last, e.at_ms);
    dispatch(e);
  }
  std::vector<runtime::DeviceStats> devices;
  for (size_t i = 0; i < topology_.devices.size(); ++i) {
    const auto& d = topology_.devices[i];
    runtime::DeviceStats s;
    s.rank = static_cast<int>(i);
    s.name = d.name;
    s.tier = mapping::tier_name(d.tier);
    s.busy_ms = busy_ms_[i];
    s.elapsed_ms = last;
    s.queue_time_avg = last > 0 ? wait_ms_[i] / last : 0;  // Little's law: mean number waiting
    s.bytes_sent = bytes_sent_[i];
    s.messages_sent = messages_sent_[i];
    s.answered_here = answered_here_[i];
    s.energy_j = (d.power_w * busy_ms_[i] + d.idle_w * std::max(0.0, last - busy_ms_[i])) / 1000.0 +
                 d.radio_nj_per_byte * 1e-9 * bytes_sent_[i];
    s.memory_budget_mb = d.memory_mb;
    devices.push_back(s);
  }
  runtime::RunInfo info;
  info.scheme = config_.scheme;
  info.topology = config_.topology_name;
  info.model = config_.model_name;
  info.duration_s = config_.duration_s;
  info.rate_per_s = config_.rate_per_s;
  info.wall_s = last / 1000.0;
  info.encrypted = config_.encrypt;
  info.extra = {{"simulated", true}, {"plan_predicted_ms", plan_predicted_ms_}, {"plan_iterations", plan_iterations_}};
  auto results = runtime::summarize(records_, devices, info);
  if (end_.accuracy < 0) results["accuracy"] = results["coarse_accuracy"] = nullptr;
  return results;
}

}  // namespace

nlohmann::json simulate(const mapping::Topology& topology, const mapping::ModelProfile& profile,
                        const SimConfig& config) {
  return Simulation(topology, profile, config).run();
}

mapping::Topology synthetic_topology(int ends, int edges) {
  if (ends < 1 || edges < 1) throw ConfigError("synthetic topology: needs >= 1 end device and >= 1 edge node");
  using nlohmann::json;
  json devices = json::array();
  auto edge_name = [](int e) { return "edge" + std::to_string(e); };
  for (int i = 0; i < ends; ++i) {
    const int home = i % edges, other = (i + 1) % edges;
    json links = {{{"to", edge_name(home)}, {"latency_ms", 3.0}, {"bandwidth_mbps", 20.0}},
                  {{"to", "cloud"}, {"latency_ms", 40.0}, {"bandwidth_mbps", 5.0}}};
    if (other != home) links.push_back({{"to", edge_name(other)}, {"latency_ms", 6.0}, {"bandwidth_mbps", 10.0}});
    devices.push_back({{"name", "end" + std::to_string(i)},
                       {"tier", "end"},
                       {"speed", 0.125},
                       {"parent", edge_name(home)},
                       {"links", links},
                       {"memory_mb", 256},
                       {"power_w", 2.5},
                       {"idle_w", 0.5},
                       {"radio_nj_per_byte", 100.0}});
  }
  for (int e = 0; e < edges; ++e) {
    devices.push_back({{"name", edge_name(e)},
                       {"tier", "edge"},
                       {"speed", 0.5},
                       {"parent", "cloud"},
                       {"links", {{{"to", "cloud"}, {"latency_ms", 25.0}, {"bandwidth_mbps", 100.0}}}},
                       {"memory_mb", 4096},
                       {"power_w", 15.0},
                       {"idle_w", 5.0},
                       {"radio_nj_per_byte", 20.0}});
  }
  devices.push_back({{"name", "cloud"},
                     {"tier", "cloud"},
                     {"speed", 1.0},
                     {"links", json::array()},
                     {"memory_mb", 65536},
                     {"power_w", 250.0},
                     {"idle_w", 80.0},
                     {"radio_nj_per_byte", 5.0}});
  const std::string name = "synthetic-" + std::to_string(ends) + "x" + std::to_string(edges);
  return mapping::parse_topology({{"devices", devices}}, name);
}

}  // namespace hddnn::sim
