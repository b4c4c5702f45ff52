// The `routing` problem file (docs/design.md) to and from RoutingProblem.
#include <map>
#include <set>

#include "hddnn/errors.hpp"
#include "hddnn/mapping/json_fields.hpp"
#include "hddnn/mapping/routing.hpp"

namespace hddnn::mapping {

using nlohmann::json;

namespace {

std::map<std::string, int> parse_nodes(const FieldReader& top, RoutingProblem& problem) {
  std::map<std::string, int> index;
  const json& nodes = top.array("nodes");
  if (nodes.empty()) top.fail("nodes", "a non-empty list");
  for (std::size_t j = 0; j < nodes.size(); ++j) {
    FieldReader fields(nodes[j], element_name(top.where() + ": nodes", j));
    RoutingNode node{fields.string("id"), 0};
    FieldReader named(nodes[j], top.where() + ": node '" + node.id + "'");
    node.service_rate_per_s = named.non_negative("service_rate_per_s", true);
    if (!index.emplace(node.id, static_cast<int>(j)).second) throw ConfigError(named.where() + ": duplicate node id");
    problem.nodes.push_back(node);
  }
  return index;
}

RoutingStream parse_stream(const FieldReader& fields, const std::map<std::string, int>& nodes) {
  RoutingStream stream;
  stream.id = fields.string("id");
  FieldReader named(fields.object(), fields.where() + " ('" + stream.id + "')");
  stream.rate_per_s = named.non_negative("rate_per_s");
  const json& options = named.array("options");
  if (options.empty()) named.fail("options", "a non-empty list of {node, cost_ms}");
  std::set<int> seen;
  for (std::size_t k = 0; k < options.size(); ++k) {
    FieldReader option(options[k], element_name(named.where() + ".options", k));
    std::string node = option.string("node");
    auto found = nodes.find(node);
    if (found == nodes.end()) throw ConfigError(option.where() + ": unknown node '" + node + "'");
    if (!seen.insert(found->second).second) throw ConfigError(option.where() + ": node '" + node + "' listed twice");
    stream.options.push_back({found->second, option.non_negative("cost_ms")});
  }
  return stream;
}

}  // namespace

RoutingProblem parse_routing(const json& document, const std::string& source_name) {
  FieldReader top(document, source_name);
  RoutingProblem problem;
  problem.rho_max = top.number_or("rho_max", 0.95);
  if (problem.rho_max <= 0 || problem.rho_max >= 1) top.fail("rho_max", "a utilisation in (0, 1)");
  std::map<std::string, int> nodes = parse_nodes(top, problem);
  const json& streams = top.array("streams");
  std::set<std::string> ids;
  for (std::size_t i = 0; i < streams.size(); ++i) {
    problem.streams.push_back(parse_stream(FieldReader(streams[i], element_name(source_name + ": streams", i)), nodes));
    if (!ids.insert(problem.streams.back().id).second)
      throw ConfigError(source_name + ": duplicate stream id '" + problem.streams.back().id + "'");
  }
  return problem;
}

json routing_result_to_json(const RoutingProblem& problem, const RoutingResult& result) {
  json split = json::object();
  for (std::size_t i = 0; i < problem.streams.size(); ++i) {
    json row = json::object();
    for (std::size_t k = 0; k < problem.streams[i].options.size(); ++k)
      row[problem.nodes[problem.streams[i].options[k].node].id] = result.fraction[i][k];
    split[problem.streams[i].id] = row;
  }
  json utilisation = json::object();
  for (std::size_t j = 0; j < problem.nodes.size(); ++j)
    utilisation[problem.nodes[j].id] = result.load_per_s[j] / problem.nodes[j].service_rate_per_s;
  json answer = {{"objective_ms", result.objective_ms},
                 {"feasible", result.feasible},
                 {"split", split},
                 {"utilisation", utilisation}};
  if (!result.feasible) answer["max_scale"] = result.max_scale;
  return answer;
}

}  // namespace hddnn::mapping
