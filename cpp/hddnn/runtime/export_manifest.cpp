#include "hddnn/runtime/export_manifest.hpp"

#include <fstream>

#include "hddnn/errors.hpp"

namespace hddnn::runtime {

nlohmann::json read_export_manifest(const std::string& export_dir) {
  const std::string path = export_dir + "/manifest.json";
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": missing (is this an `hddnn train --out` export folder?)");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw ConfigError(path + ": not valid JSON: " + e.what());
  }
}

}  // namespace hddnn::runtime
