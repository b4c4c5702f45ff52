#include "hddnn/runtime/messages.hpp"

#include "hddnn/errors.hpp"

namespace hddnn::runtime {

std::vector<uint8_t> encode_control(const nlohmann::json& body) { return nlohmann::json::to_cbor(body); }

nlohmann::json decode_control(const std::vector<uint8_t>& payload) {
  nlohmann::json body = nlohmann::json::from_cbor(payload, true, false);
  if (!body.is_object()) throw CommError("control payload: not a CBOR object");
  return body;
}

}  // namespace hddnn::runtime
