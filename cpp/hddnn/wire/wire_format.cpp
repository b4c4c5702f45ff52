#include "hddnn/wire/wire_format.hpp"

#include <algorithm>
#include <string>

#include "hddnn/errors.hpp"

namespace hddnn::comm {
namespace {

constexpr uint8_t kMagic0 = 0x68;  // 'h'
constexpr uint8_t kMagic1 = 0x44;  // 'D'

template <typename T>
void put_le(uint8_t* out, T value) {
  for (size_t i = 0; i < sizeof(T); ++i) out[i] = static_cast<uint8_t>(value >> (8 * i));
}

template <typename T>
T get_le(const uint8_t* in) {
  T value = 0;
  for (size_t i = 0; i < sizeof(T); ++i) value |= static_cast<T>(in[i]) << (8 * i);
  return value;
}

[[noreturn]] void malformed(const std::string& what) { throw CommError("malformed wire header: " + what); }

}  // namespace

std::string to_string(MessageType type) {
  switch (type) {
    case MessageType::kHello: return "hello";
    case MessageType::kWork: return "work";
    case MessageType::kAnswer: return "answer";
    case MessageType::kHeartbeat: return "heartbeat";
    case MessageType::kPlan: return "plan";
    case MessageType::kMembership: return "membership";
    case MessageType::kStop: return "stop";
    case MessageType::kReport: return "report";
  }
  return "type " + std::to_string(static_cast<int>(type));
}

bool Header::operator==(const Header& other) const {
  return source == other.source && destination == other.destination && sequence == other.sequence &&
         type == other.type && flags == other.flags && payload_length == other.payload_length;
}

void encode_header(const Header& header, uint8_t* out) {
  out[0] = kMagic0;
  out[1] = kMagic1;
  out[2] = kWireVersion;
  out[3] = static_cast<uint8_t>(header.type);
  out[4] = header.flags;
  put_le<uint32_t>(out + 5, header.source);
  put_le<uint32_t>(out + 9, header.destination);
  put_le<uint64_t>(out + 13, header.sequence);
  put_le<uint32_t>(out + 21, header.payload_length);
}

std::vector<uint8_t> encode(const Header& header, const std::vector<uint8_t>& body) {
  if (body.size() != header.payload_length)
    throw CommError("encode: body has " + std::to_string(body.size()) + " bytes but header.payload_length is " +
                    std::to_string(header.payload_length));
  std::vector<uint8_t> wire(kHeaderBytes + body.size());
  encode_header(header, wire.data());
  std::copy(body.begin(), body.end(), wire.begin() + kHeaderBytes);
  return wire;
}

Header decode_header(const uint8_t* data, size_t size) {
  if (data == nullptr || size < kHeaderBytes)
    malformed(std::to_string(size) + " bytes, expected at least " + std::to_string(kHeaderBytes));
  if (data[0] != kMagic0 || data[1] != kMagic1) malformed("bad magic, expected \"hD\"");
  if (data[2] != kWireVersion)
    malformed("version " + std::to_string(data[2]) + ", expected " + std::to_string(kWireVersion));
  if (data[3] < kFirstMessageType || data[3] > kLastMessageType)
    malformed("message type " + std::to_string(data[3]) + ", expected 1..8");
  if ((data[4] & ~kFlagSealed) != 0) malformed("unknown flag bits " + std::to_string(data[4]));
  Header header;
  header.type = static_cast<MessageType>(data[3]);
  header.flags = data[4];
  header.source = get_le<uint32_t>(data + 5);
  header.destination = get_le<uint32_t>(data + 9);
  header.sequence = get_le<uint64_t>(data + 13);
  header.payload_length = get_le<uint32_t>(data + 21);
  if (header.payload_length > kMaxPayloadBytes)
    malformed("payload_length " + std::to_string(header.payload_length) + " above the limit " +
              std::to_string(kMaxPayloadBytes));
  return header;
}

FrameView parse_frame(const uint8_t* data, size_t size) {
  FrameView frame;
  frame.header = decode_header(data, size);
  if (size - kHeaderBytes != frame.header.payload_length)
    malformed("frame of " + std::to_string(size) + " bytes carries " + std::to_string(size - kHeaderBytes) +
              " body bytes, header says " + std::to_string(frame.header.payload_length));
  frame.body = data + kHeaderBytes;
  frame.body_size = frame.header.payload_length;
  return frame;
}

size_t wire_size(size_t payload_bytes, bool sealed) {
  return kHeaderBytes + payload_bytes + (sealed ? kSealTagBytes : 0);
}

}  // namespace hddnn::comm
