#include "hddnn/runtime/planner_client.hpp"

#include "hddnn/errors.hpp"
#include "hddnn/runtime/messages.hpp"
#include "hddnn/runtime/multi_view.hpp"

namespace hddnn::runtime {

PlannerClient::PlannerClient(const RunConfig& config, const mapping::Topology& topology, mapping::ModelProfile profile,
                             int coordinator, comm::Transport& transport)
    : config_(config),
      topology_(topology),
      profile_(std::move(profile)),
      coordinator_(coordinator),
      transport_(transport),
      multi_view_(is_multi_view(topology)) {
  if (config.scheme == "mapping" && profile_.sections.empty())
    throw ConfigError("coordinator: scheme \"mapping\" needs the model's profile, and none was given");
  for (int rank : topology_.of_tier(mapping::Tier::End)) observed_rate_[rank] = config_.rate_per_s;
}

void PlannerClient::note_arrivals(int rank, uint64_t count, double at_ms) { arrivals_seen_[rank] = {count, at_ms}; }

uint64_t PlannerClient::arrivals(int rank) const {
  auto it = arrivals_seen_.find(rank);
  return it == arrivals_seen_.end() ? 0 : it->second.count;
}

void PlannerClient::replan_if_due(double now_ms, const std::set<int>& dead, const std::vector<int>& online) {
  if (config_.scheme != "mapping") return;
  if (now_ms - last_plan_ms_ < config_.replan_interval_s * 1000.0) return;
  update_rates();
  send_plan(now_ms, dead, online);
}

void PlannerClient::update_rates() {
  for (auto& [rank, rate] : observed_rate_) {
    const ArrivalCount seen = arrivals_seen_[rank];
    ArrivalCount& before = arrivals_at_last_plan_[rank];
    if (seen.count >= before.count && seen.at_ms > before.at_ms) {
      rate = 1000.0 * static_cast<double>(seen.count - before.count) / (seen.at_ms - before.at_ms);
    }
    before = seen;
  }
}

void PlannerClient::send_plan(double now_ms, const std::set<int>& dead, const std::vector<int>& online) {
  last_plan_ms_ = now_ms;
  if (config_.scheme == "end" || multi_view_) return;
  nlohmann::json record = {{"at_ms", now_ms}, {"online", online}};
  std::map<int, DeviceOrders> orders;
  if (config_.scheme == "end-cloud") {
    for (int rank : topology_.of_tier(mapping::Tier::End)) orders[rank].fractions = {{coordinator_, 1.0}};
  } else {
    orders = solve_plan(dead, record);
  }
  history_.push_back(record);
  for (auto& [rank, order] : orders) {
    if (dead.count(rank)) continue;
    nlohmann::json body = {{"fractions", nlohmann::json::object()}};
    for (auto [destination, share] : order.fractions) body["fractions"][std::to_string(destination)] = share;
    if (!order.sections.empty()) body["sections"] = order.sections;
    if (record.contains("predicted_ms")) body["predicted_escalation_ms"] = record["predicted_ms"];
    transport_.send(rank, comm::MessageType::kPlan, encode_control(body));
  }
}

std::map<int, PlannerClient::DeviceOrders> PlannerClient::solve_plan(const std::set<int>& dead,
                                                                     nlohmann::json& record) const {
  std::vector<double> rates;
  for (int rank : topology_.of_tier(mapping::Tier::End))
    rates.push_back(dead.count(rank) ? 0.0 : observed_rate_.at(rank));
  mapping::PlanOptions options;
  options.exclude = dead;
  const auto plan = mapping::plan(topology_, profile_, rates, options);
  record["iterations"] = plan.iterations;
  record["predicted_ms"] = plan.mean_latency_ms;
  record["feasible"] = plan.feasible;
  std::map<int, DeviceOrders> orders;
  for (const auto& device : plan.devices) {
    auto& order = orders[device.device];
    order.fractions = std::map<int, double>(device.routing.begin(), device.routing.end());
    for (auto tier : device.section_tier) order.sections.push_back(mapping::tier_name(tier));
    auto& routing = record["routing"][std::to_string(device.device)] = nlohmann::json::object();
    for (auto [destination, share] : order.fractions) routing[std::to_string(destination)] = share;
    record["sections"][std::to_string(device.device)] = order.sections;
  }
  return orders;
}

}  // namespace hddnn::runtime
