// Typed reads of JSON fields for the mapping formats. Every failure is a
// ConfigError naming the document, the path of the field and what was expected.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace hddnn::mapping {

/// Reads fields of one JSON object; `where` names it in messages ("lab7.json: devices[3]").
class FieldReader {
 public:
  FieldReader(const nlohmann::json& object, std::string where);

  const nlohmann::json& object() const { return object_; }
  const std::string& where() const { return where_; }
  bool has(const std::string& key) const;

  const nlohmann::json& required(const std::string& key) const;
  std::string string(const std::string& key) const;
  double number(const std::string& key) const;
  double number_or(const std::string& key, double fallback) const;
  /// A number >= 0 (or > 0 when `strictly_positive`).
  double non_negative(const std::string& key, bool strictly_positive = false) const;
  double non_negative_or(const std::string& key, double fallback) const;
  long long integer(const std::string& key) const;
  const nlohmann::json& array(const std::string& key) const;
  const nlohmann::json& object_field(const std::string& key) const;
  /// A child reader for object-valued `key`.
  FieldReader child(const std::string& key) const;
  [[noreturn]] void fail(const std::string& key, const std::string& expected) const;

 private:
  const nlohmann::json& object_;
  std::string where_;
};

/// Reads a JSON file; ConfigError when it is missing or not valid JSON.
nlohmann::json read_json_file(const std::string& path);

/// "where[i]" for element i of a list named `where`.
std::string element_name(const std::string& where, std::size_t index);

}  // namespace hddnn::mapping
