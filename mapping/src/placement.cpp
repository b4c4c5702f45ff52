#include "hddnn/mapping/placement.hpp"

#include <algorithm>
#include <cmath>

#include "hddnn/errors.hpp"
#include "placement_cut.hpp"

namespace hddnn::mapping {

namespace {

constexpr double kInfinite = std::numeric_limits<double>::infinity();

// Highest tier among each producer's consumers (index layers.size() = the input).
std::vector<int> highest_consumer(const PlacementProblem& problem, const std::vector<int>& tier) {
  std::vector<int> highest(problem.layers.size() + 1, -1);
  for (std::size_t v = 0; v < problem.layers.size(); ++v)
    for (int p : problem.layers[v].inputs) {
      int& slot = highest[p == kInputLayer ? problem.layers.size() : static_cast<std::size_t>(p)];
      slot = std::max(slot, tier[v]);
    }
  return highest;
}

bool respects_constraints(const PlacementProblem& problem, const std::vector<int>& tier) {
  std::vector<double> used(problem.tiers.size(), 0);
  for (std::size_t v = 0; v < problem.layers.size(); ++v) {
    const PlacementLayer& layer = problem.layers[v];
    if (tier[v] < 0 || tier[v] >= static_cast<int>(problem.tiers.size())) return false;
    if (layer.pinned >= 0 && layer.pinned != tier[v]) return false;
    if (layer.compute_ms[tier[v]] == kInfinite) return false;
    for (int p : layer.inputs)
      if (p != kInputLayer && tier[p] > tier[v]) return false;
    used[tier[v]] += layer.param_bytes;
  }
  for (std::size_t t = 0; t < problem.memory_bytes.size(); ++t)
    if (used[t] > problem.memory_bytes[t]) return false;
  return true;
}

// Memory search state: the best feasible assignment found so far.
struct Incumbent {
  std::vector<int> tier;
  double cost = kInfinite;
  double flow_ms = 0;
  int cuts = 0;
};

int overfull_tier(const PlacementProblem& problem, const std::vector<int>& tier) {
  std::vector<double> used(problem.tiers.size(), 0);
  for (std::size_t v = 0; v < problem.layers.size(); ++v) used[tier[v]] += problem.layers[v].param_bytes;
  for (std::size_t t = 0; t < problem.memory_bytes.size(); ++t)
    if (used[t] > problem.memory_bytes[t]) return static_cast<int>(t);
  return -1;
}

// The largest not-yet-pinned layer on `tier`, or -1.
int branching_layer(const PlacementProblem& problem, const detail::CutRestrictions& restrictions,
                    const std::vector<int>& assignment, int tier) {
  int chosen = -1;
  for (std::size_t v = 0; v < problem.layers.size(); ++v) {
    bool free = problem.layers[v].pinned < 0 && restrictions.pinned[v] < 0;
    if (assignment[v] == tier && free && problem.layers[v].param_bytes > 0 &&
        (chosen < 0 || problem.layers[v].param_bytes > problem.layers[chosen].param_bytes))
      chosen = static_cast<int>(v);
  }
  return chosen;
}

// Branch and bound over memory budgets. Each node solves the cut relaxation (budgets
// dropped), a lower bound for its subtree; a relaxed optimum that fits every budget
// is optimal for the subtree. Otherwise it branches on the largest free layer of an
// overfull tier: off that tier (forbidden) or pinned to it. Exhaustive, hence exact.
void search(const PlacementProblem& problem, const detail::CutRestrictions& restrictions, MaxFlowAlgorithm algorithm,
            Incumbent& best) {
  detail::CutOutcome cut = detail::min_cut_placement(problem, restrictions, algorithm);
  ++best.cuts;
  if (!cut.feasible) return;
  PlacementProblem relaxed = problem;
  relaxed.memory_bytes.clear();
  double bound = placement_cost(relaxed, cut.tier);
  if (std::abs(bound - cut.flow_ms) > 1e-6 * std::max(1.0, bound) + 1e-5 * (problem.layers.size() + 1))
    throw std::logic_error("placement: cut value " + std::to_string(cut.flow_ms) +
                           " disagrees with the recomputed objective " + std::to_string(bound));
  if (bound >= best.cost - 1e-12) return;
  int tier = overfull_tier(problem, cut.tier);
  if (tier < 0) {
    best.tier = cut.tier;
    best.cost = bound;
    best.flow_ms = cut.flow_ms;
    return;
  }
  int layer = branching_layer(problem, restrictions, cut.tier, tier);
  if (layer < 0) return;  // pinned layers alone overfill the tier
  detail::CutRestrictions off = restrictions;
  off.forbidden[layer][tier] = 1;
  search(problem, off, algorithm, best);
  detail::CutRestrictions on = restrictions;
  on.pinned[layer] = tier;
  search(problem, on, algorithm, best);
}

}  // namespace

double placement_cost(const PlacementProblem& problem, const std::vector<int>& tier) {
  if (tier.size() != problem.layers.size() || !respects_constraints(problem, tier)) return kInfinite;
  double cost = 0;
  for (std::size_t v = 0; v < problem.layers.size(); ++v) cost += problem.layers[v].compute_ms[tier[v]];
  std::vector<int> highest = highest_consumer(problem, tier);
  for (std::size_t p = 0; p <= problem.layers.size(); ++p) {
    bool input = p == problem.layers.size();
    double bytes = input ? problem.input_bytes : problem.layers[p].out_bytes;
    double weight = input ? problem.input_send_weight : problem.layers[p].send_weight;
    for (int h = input ? 0 : tier[p]; h < highest[p]; ++h) cost += weight * problem.hops[h].transfer_ms(bytes);
  }
  for (std::size_t v = 0; v < problem.layers.size(); ++v)
    for (int h = 0; h < tier[v]; ++h)
      cost += problem.layers[v].return_weight * problem.hops[h].transfer_ms(problem.result_bytes);
  return cost + problem.energy_weight * end_energy_mj(problem, tier) * 1e-3;
}

double end_energy_mj(const PlacementProblem& problem, const std::vector<int>& tier) {
  double compute_ms = 0;
  for (std::size_t v = 0; v < problem.layers.size(); ++v)
    if (tier[v] == 0) compute_ms += problem.layers[v].compute_ms[0];
  double sent_bytes = 0;
  std::vector<int> highest = highest_consumer(problem, tier);
  for (std::size_t p = 0; p <= problem.layers.size(); ++p) {
    bool input = p == problem.layers.size();
    bool from_end = input || tier[p] == 0;
    if (from_end && highest[p] > 0)
      sent_bytes += input ? problem.input_send_weight * problem.input_bytes
                          : problem.layers[p].send_weight * problem.layers[p].out_bytes;
  }
  double radio = problem.hops.empty() ? 0 : problem.hops[0].radio_nj_per_byte;
  return compute_ms * problem.end_power_w + sent_bytes * radio * 1e-6;
}

PlacementResult solve_placement(const PlacementProblem& problem, MaxFlowAlgorithm algorithm) {
  Incumbent best;
  search(problem, detail::no_restrictions(problem), algorithm, best);
  if (best.cost == kInfinite)
    throw ConfigError("placement: no assignment satisfies the pins, forbidden tiers and memory budgets");
  PlacementResult result;
  result.tier = best.tier;
  result.objective_ms = best.cost;
  result.end_energy_mj = end_energy_mj(problem, best.tier);
  result.max_flow_ms = best.flow_ms;
  result.cuts_solved = best.cuts;
  return result;
}

}  // namespace hddnn::mapping
