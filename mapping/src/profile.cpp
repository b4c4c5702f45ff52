#include "hddnn/mapping/profile.hpp"

#include <cmath>

#include "hddnn/errors.hpp"
#include "hddnn/mapping/json_fields.hpp"

namespace hddnn::mapping {

using nlohmann::json;

double ModelProfile::reach(std::size_t k) const {
  double fraction = 1.0;
  for (std::size_t i = 0; i < k && i < sections.size(); ++i) fraction *= sections[i].escalate_fraction;
  return k < sections.size() ? fraction : 0.0;
}

namespace {

Section parse_section(const FieldReader& fields, bool last) {
  Section section;
  section.name = fields.string("name");
  section.tier = parse_tier(fields.string("tier"), fields.where() + ".tier");
  section.param_bytes = fields.non_negative("param_bytes");
  section.out_bytes = fields.non_negative("out_bytes");
  FieldReader compute = fields.child("compute_ms");
  section.compute_ms_batch1 = compute.non_negative("batch1");
  section.compute_ms_batch32 = compute.non_negative_or("batch32", 32 * section.compute_ms_batch1);
  section.escalate_fraction = fields.non_negative("escalate_fraction");
  if (section.escalate_fraction > 1) fields.fail("escalate_fraction", "a fraction in [0, 1]");
  if (last && section.escalate_fraction != 0) fields.fail("escalate_fraction", "0 for the last section");
  if (last && section.out_bytes != 0) fields.fail("out_bytes", "0 for the last section");
  section.params = static_cast<int64_t>(fields.non_negative_or("params", 0));
  section.flops = static_cast<int64_t>(fields.non_negative_or("flops", 0));
  return section;
}

int64_t whole(double bytes) { return static_cast<int64_t>(std::llround(bytes)); }

json section_to_json(const Section& s) {
  return {{"name", s.name},
          {"tier", tier_name(s.tier)},
          {"params", s.params},
          {"flops", s.flops},
          {"param_bytes", whole(s.param_bytes)},
          {"out_bytes", whole(s.out_bytes)},
          {"compute_ms", {{"batch1", s.compute_ms_batch1}, {"batch32", s.compute_ms_batch32}}},
          {"escalate_fraction", s.escalate_fraction}};
}

}  // namespace

ModelProfile parse_profile(const json& document, const std::string& source_name) {
  FieldReader top(document, source_name);
  ModelProfile profile;
  profile.input_bytes = top.non_negative("input_bytes", true);
  const json& sections = top.array("sections");
  if (sections.empty()) top.fail("sections", "a non-empty list");
  for (std::size_t i = 0; i < sections.size(); ++i) {
    FieldReader fields(sections[i], element_name(source_name + ": sections", i));
    profile.sections.push_back(parse_section(fields, i + 1 == sections.size()));
    if (i > 0 && profile.sections[i].tier < profile.sections[i - 1].tier)
      fields.fail("tier", "not below the previous section's tier (chain order end, edge, cloud)");
  }
  return profile;
}

ModelProfile load_profile(const std::string& path) { return parse_profile(read_json_file(path), path); }

json profile_to_json(const ModelProfile& profile) {
  json sections = json::array();
  for (const auto& section : profile.sections) sections.push_back(section_to_json(section));
  return {{"input_bytes", whole(profile.input_bytes)}, {"sections", sections}};
}

std::vector<double> escalate_fractions(const std::vector<double>& answered,
                                       const std::vector<std::size_t>& exit_section, std::size_t sections) {
  std::vector<double> escalate(sections, 0.0);
  for (std::size_t i = 0; i + 1 < sections; ++i) {
    double reaching = 0.0, passing = 0.0;
    for (std::size_t e = 0; e < answered.size() && e < exit_section.size(); ++e) {
      if (exit_section[e] >= i) reaching += answered[e];
      if (exit_section[e] > i) passing += answered[e];
    }
    escalate[i] = reaching > 0 ? passing / reaching : 0.0;
  }
  return escalate;
}

}  // namespace hddnn::mapping
