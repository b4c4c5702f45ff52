#include "hddnn/mapping/json_fields.hpp"

#include <cmath>
#include <fstream>

#include "hddnn/errors.hpp"

namespace hddnn::mapping {

using nlohmann::json;

FieldReader::FieldReader(const json& object, std::string where) : object_(object), where_(std::move(where)) {
  if (!object_.is_object()) throw ConfigError(where_ + ": expected a JSON object, got " + object_.dump());
}

bool FieldReader::has(const std::string& key) const { return object_.contains(key) && !object_.at(key).is_null(); }

void FieldReader::fail(const std::string& key, const std::string& expected) const {
  std::string got = has(key) ? object_.at(key).dump() : "nothing";
  throw ConfigError(where_ + ": field '" + key + "' must be " + expected + ", got " + got);
}

const json& FieldReader::required(const std::string& key) const {
  if (!has(key)) fail(key, "present");
  return object_.at(key);
}

std::string FieldReader::string(const std::string& key) const {
  const json& value = required(key);
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return std::to_string(value.get<long long>());
  fail(key, "a string");
}

double FieldReader::number(const std::string& key) const {
  const json& value = required(key);
  if (!value.is_number() || !std::isfinite(value.get<double>())) fail(key, "a finite number");
  return value.get<double>();
}

double FieldReader::number_or(const std::string& key, double fallback) const {
  return has(key) ? number(key) : fallback;
}

double FieldReader::non_negative(const std::string& key, bool strictly_positive) const {
  double value = number(key);
  if (strictly_positive && value <= 0) fail(key, "a positive number");
  if (value < 0) fail(key, "a number >= 0");
  return value;
}

double FieldReader::non_negative_or(const std::string& key, double fallback) const {
  return has(key) ? non_negative(key) : fallback;
}

long long FieldReader::integer(const std::string& key) const {
  const json& value = required(key);
  if (!value.is_number_integer()) fail(key, "an integer");
  return value.get<long long>();
}

const json& FieldReader::array(const std::string& key) const {
  const json& value = required(key);
  if (!value.is_array()) fail(key, "a list");
  return value;
}

const json& FieldReader::object_field(const std::string& key) const {
  const json& value = required(key);
  if (!value.is_object()) fail(key, "an object");
  return value;
}

FieldReader FieldReader::child(const std::string& key) const {
  return FieldReader(object_field(key), where_ + "." + key);
}

json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot open file");
  try {
    return json::parse(in);
  } catch (const json::parse_error& error) {
    throw ConfigError(path + ": not valid JSON: " + error.what());
  }
}

std::string element_name(const std::string& where, std::size_t index) {
  return where + "[" + std::to_string(index) + "]";
}

}  // namespace hddnn::mapping
