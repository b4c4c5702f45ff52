// The manifest.json of an export folder (`hddnn train --out`), as the runtime reads it
// (format: docs/design.md, "Model folder").
//
// Contract: ConfigError naming the file when it is missing or not valid JSON. Torch-free.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace hddnn::runtime {

/// `<export_dir>/manifest.json`, parsed.
nlohmann::json read_export_manifest(const std::string& export_dir);

}  // namespace hddnn::runtime
