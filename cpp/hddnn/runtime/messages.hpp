// Control payloads (plans, membership, heartbeats, reports) as CBOR-encoded JSON
// objects: compact, and readable with any CBOR tool. decode_control throws
// CommError on a payload that is not a CBOR object.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

namespace hddnn::runtime {

std::vector<uint8_t> encode_control(const nlohmann::json& body);
nlohmann::json decode_control(const std::vector<uint8_t>& payload);

}  // namespace hddnn::runtime
