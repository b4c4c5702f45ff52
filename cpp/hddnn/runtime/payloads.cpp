#include "hddnn/runtime/payloads.hpp"

#include <string>

#include "hddnn/errors.hpp"

namespace hddnn::runtime {
namespace {

void put_u32(std::vector<uint8_t>& out, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

uint32_t get_u32(const std::vector<uint8_t>& in, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t(in[at + i]) << (8 * i);
  return v;
}

constexpr uint8_t kRelayBit = 0x80;
constexpr uint8_t kResentBit = 0x40;

void require_size(const std::vector<uint8_t>& payload, size_t need, const char* what) {
  if (payload.size() < need) {
    throw CommError(std::string(what) + " payload too short: " + std::to_string(payload.size()) +
                    " bytes, need at least " + std::to_string(need));
  }
}

}  // namespace

std::vector<uint8_t> encode_work(const Work& work) {
  std::vector<uint8_t> out(kWorkHeaderBytes + work.features.size());
  put_u32(out, 0, work.request);
  out[4] = static_cast<uint8_t>(work.origin);
  out[5] = static_cast<uint8_t>(work.origin >> 8);
  out[6] = static_cast<uint8_t>(static_cast<uint8_t>(work.stage) | (work.relay ? kRelayBit : 0) |
                                (work.resent ? kResentBit : 0));
  out[7] = work.view;
  std::copy(work.features.begin(), work.features.end(), out.begin() + kWorkHeaderBytes);
  return out;
}

Work decode_work(const std::vector<uint8_t>& payload) {
  require_size(payload, kWorkHeaderBytes, "work");
  Work work;
  work.request = get_u32(payload, 0);
  work.origin = static_cast<uint16_t>(payload[4] | (payload[5] << 8));
  const uint8_t stage = payload[6] & ~(kRelayBit | kResentBit);
  work.relay = (payload[6] & kRelayBit) != 0;
  work.resent = (payload[6] & kResentBit) != 0;
  if (stage < 1 || stage > 3) throw CommError("work payload: unknown stage " + std::to_string(stage));
  work.stage = static_cast<Stage>(stage);
  work.view = payload[7];
  work.features.assign(payload.begin() + kWorkHeaderBytes, payload.end());
  return work;
}

std::vector<uint8_t> encode_answer(const Answer& answer) {
  std::vector<uint8_t> out(kAnswerBytes);
  put_u32(out, 0, answer.request);
  out[4] = answer.exit_tier;
  out[5] = answer.label_set;
  out[6] = answer.fine;
  out[7] = answer.label;
  return out;
}

Answer decode_answer(const std::vector<uint8_t>& payload) {
  require_size(payload, kAnswerBytes, "answer");
  return {get_u32(payload, 0), payload[4], payload[5], payload[6], payload[7]};
}

}  // namespace hddnn::runtime
