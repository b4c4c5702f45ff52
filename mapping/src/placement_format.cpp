// The `placement` problem file (docs/design.md) to and from PlacementProblem.
#include <map>
#include <queue>

#include "hddnn/errors.hpp"
#include "hddnn/mapping/json_fields.hpp"
#include "hddnn/mapping/placement.hpp"

namespace hddnn::mapping {

using nlohmann::json;

namespace {

constexpr double kInfinite = std::numeric_limits<double>::infinity();

void parse_hops(const FieldReader& top, PlacementProblem& problem) {
  const json& hops = top.array("hops");
  if (hops.empty()) top.fail("hops", "a non-empty list (end -> edge -> cloud)");
  for (std::size_t h = 0; h < hops.size(); ++h) {
    FieldReader fields(hops[h], element_name(top.where() + ".hops", h));
    std::string from = fields.string("from");
    if (h == 0) problem.tiers.push_back(from);
    if (from != problem.tiers.back()) fields.fail("from", "'" + problem.tiers.back() + "' (hops form a chain)");
    problem.tiers.push_back(fields.string("to"));
    PlacementHop hop;
    hop.latency_ms = fields.non_negative("latency_ms");
    hop.bytes_per_ms = fields.non_negative("bytes_per_ms", true);
    hop.radio_nj_per_byte = fields.non_negative_or("radio_nj_per_byte", 0);
    problem.has_energy = problem.has_energy || fields.has("radio_nj_per_byte");
    problem.hops.push_back(hop);
  }
}

int tier_index(const PlacementProblem& problem, const std::string& name, const FieldReader& fields,
               const std::string& key) {
  for (std::size_t t = 0; t < problem.tiers.size(); ++t)
    if (problem.tiers[t] == name) return static_cast<int>(t);
  fields.fail(key, "one of the hops' tiers");
}

PlacementLayer parse_layer(const FieldReader& fields, const PlacementProblem& problem) {
  PlacementLayer layer;
  layer.id = fields.string("id");
  layer.out_bytes = fields.non_negative("out_bytes");
  layer.param_bytes = fields.non_negative_or("param_bytes", 0);
  FieldReader compute = fields.child("compute_ms");
  for (const std::string& tier : problem.tiers) layer.compute_ms.push_back(compute.non_negative(tier));
  if (fields.has("pin")) layer.pinned = tier_index(problem, fields.string("pin"), fields, "pin");
  return layer;
}

// Resolves input ids after all layers are known, so inputs may be listed in any order.
void resolve_inputs(const FieldReader& top, const json& layers, PlacementProblem& problem) {
  std::map<std::string, int> index;
  for (std::size_t v = 0; v < problem.layers.size(); ++v)
    if (!index.emplace(problem.layers[v].id, static_cast<int>(v)).second)
      throw ConfigError(top.where() + ": duplicate layer id '" + problem.layers[v].id + "'");
  for (std::size_t v = 0; v < problem.layers.size(); ++v) {
    FieldReader fields(layers[v], top.where() + ": layer '" + problem.layers[v].id + "'");
    const json& inputs = fields.array("inputs");
    if (inputs.empty()) fields.fail("inputs", "a non-empty list of layer ids or \"input\"");
    for (const json& ref : inputs) {
      std::string id = ref.is_string() ? ref.get<std::string>() : ref.dump();
      if (id == "input") {
        problem.layers[v].inputs.push_back(kInputLayer);
      } else if (index.count(id)) {
        problem.layers[v].inputs.push_back(index[id]);
      } else {
        throw ConfigError(fields.where() + ": unknown input id '" + id + "'");
      }
    }
  }
}

// The single sink returns the result; the others would be dead ends.
void mark_sink(const FieldReader& top, PlacementProblem& problem) {
  std::vector<char> consumed(problem.layers.size(), 0);
  for (const PlacementLayer& layer : problem.layers)
    for (int p : layer.inputs)
      if (p != kInputLayer) consumed[p] = 1;
  int sink = -1;
  for (std::size_t v = 0; v < problem.layers.size(); ++v) {
    if (consumed[v]) continue;
    if (sink >= 0)
      throw ConfigError(top.where() + ": layers '" + problem.layers[sink].id + "' and '" + problem.layers[v].id +
                        "' are both sinks; the DAG must have a single sink layer");
    sink = static_cast<int>(v);
  }
  problem.layers[sink].return_weight = 1;
}

void parse_budgets(const FieldReader& top, PlacementProblem& problem) {
  if (top.has("memory_bytes")) {
    FieldReader memory = top.child("memory_bytes");
    for (const std::string& tier : problem.tiers)
      problem.memory_bytes.push_back(memory.has(tier) ? memory.non_negative(tier) : kInfinite);
  }
  if (top.has("power_w")) {
    problem.end_power_w = top.child("power_w").non_negative_or(problem.tiers[0], 0);
    problem.has_energy = true;
  }
  problem.energy_weight = top.non_negative_or("energy_weight", 0);
  problem.has_energy = problem.has_energy || top.has("energy_weight");
}

}  // namespace

std::vector<int> topological_order(const PlacementProblem& problem, const std::string& where) {
  std::size_t n = problem.layers.size();
  std::vector<int> pending(n, 0);
  std::vector<std::vector<int>> consumers(n);
  for (std::size_t v = 0; v < n; ++v)
    for (int p : problem.layers[v].inputs)
      if (p != kInputLayer) {
        ++pending[v];
        consumers[p].push_back(static_cast<int>(v));
      }
  std::queue<int> ready;
  for (std::size_t v = 0; v < n; ++v)
    if (pending[v] == 0) ready.push(static_cast<int>(v));
  std::vector<int> order;
  while (!ready.empty()) {
    int v = ready.front();
    ready.pop();
    order.push_back(v);
    for (int c : consumers[v])
      if (--pending[c] == 0) ready.push(c);
  }
  for (std::size_t v = 0; v < n && order.size() < n; ++v)
    if (pending[v] > 0) throw ConfigError(where + ": layer '" + problem.layers[v].id + "' is on a cycle");
  return order;
}

PlacementProblem parse_placement(const json& document, const std::string& source_name) {
  FieldReader top(document, source_name);
  PlacementProblem problem;
  parse_hops(top, problem);
  problem.input_bytes = top.non_negative("input_bytes");
  problem.result_bytes = top.non_negative("result_bytes");
  const json& layers = top.array("layers");
  if (layers.empty()) top.fail("layers", "a non-empty list");
  for (std::size_t v = 0; v < layers.size(); ++v)
    problem.layers.push_back(parse_layer(FieldReader(layers[v], element_name(source_name + ": layers", v)), problem));
  resolve_inputs(top, layers, problem);
  topological_order(problem, source_name);
  mark_sink(top, problem);
  parse_budgets(top, problem);
  return problem;
}

json placement_result_to_json(const PlacementProblem& problem, const PlacementResult& result) {
  json tiers = json::object();
  for (std::size_t v = 0; v < problem.layers.size(); ++v) tiers[problem.layers[v].id] = problem.tiers[result.tier[v]];
  json answer = {{"objective_ms", result.objective_ms}, {"tier", tiers}};
  if (problem.has_energy) answer["end_energy_mj"] = result.end_energy_mj;
  return answer;
}

}  // namespace hddnn::mapping
