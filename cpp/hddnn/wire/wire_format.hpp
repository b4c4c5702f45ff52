// The wire format: a fixed 25-byte little-endian header followed by the body.
//
//   offset size field
//        0    2 magic "hD" (0x68 0x44)
//        2    1 version (kWireVersion)
//        3    1 type (MessageType, 1..8)
//        4    1 flags (bit 0: sealed; other bits must be zero)
//        5    4 source rank
//        9    4 destination rank
//       13    8 sequence number (per link direction, strictly increasing)
//       21    4 payload_length: body bytes that follow the header
//
// Contract: decode_header/parse_frame accept exactly what encode produces and throw
// CommError on anything else (short input, bad magic, version, type, flags, a body
// length that disagrees with the frame, a body above kMaxPayloadBytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "hddnn/wire/message.hpp"

namespace hddnn::comm {

constexpr size_t kHeaderBytes = 25;
constexpr uint8_t kWireVersion = 1;
constexpr uint32_t kMaxPayloadBytes = 1u << 30;
/// What sealing adds to a body: the 16-byte authentication tag (crypto/link_session.cpp checks it
/// against libsodium's).
constexpr size_t kSealTagBytes = 16;

/// Bytes a message with a `payload_bytes` payload takes on the wire: header, payload
/// and, when sealed, the authentication tag (kSealTagBytes).
size_t wire_size(size_t payload_bytes, bool sealed);

/// Writes the header's kHeaderBytes bytes at out.
void encode_header(const Header& header, uint8_t* out);

/// Header followed by body; throws CommError if body.size() != header.payload_length.
std::vector<uint8_t> encode(const Header& header, const std::vector<uint8_t>& body);

/// Reads a header from the first kHeaderBytes bytes; throws CommError on malformed or short input.
Header decode_header(const uint8_t* data, size_t size);

/// A whole frame split into its header and body.
struct FrameView {
  Header header;
  const uint8_t* body = nullptr;
  size_t body_size = 0;
};

/// Decodes the header and checks that exactly payload_length body bytes follow.
FrameView parse_frame(const uint8_t* data, size_t size);

}  // namespace hddnn::comm
