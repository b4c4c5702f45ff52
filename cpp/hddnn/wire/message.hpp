// The units the transport moves: message types, the wire header and a delivered
// message. The wire layer (wire/, namespace hddnn::comm) sits below crypto, which
// seals and opens these frames, and below the transports in comm/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hddnn::comm {

/// What a message is for. Values are part of the wire format: never renumber.
enum class MessageType : uint8_t {
  kHello = 1,       ///< transport handshake (ephemeral public key), sent by the transport itself
  kWork = 2,        ///< features or a request to process
  kAnswer = 3,      ///< an exit's answer
  kHeartbeat = 4,   ///< liveness beacon
  kPlan = 5,        ///< a placement/routing plan from the coordinator
  kMembership = 6,  ///< who is alive
  kStop = 7,        ///< end of run
  kReport = 8,      ///< metrics toward the coordinator
};

constexpr uint8_t kFirstMessageType = 1;
constexpr uint8_t kLastMessageType = 8;

/// Name of a type for messages and logs ("work", "answer", ...).
std::string to_string(MessageType type);

/// Header flag bits.
constexpr uint8_t kFlagSealed = 0x01;  ///< body is XChaCha20-Poly1305 ciphertext + 16-byte tag

/// The wire header, carried in clear before the body and used as the AEAD
/// associated data. payload_length is the number of body bytes that follow the
/// header on the wire (ciphertext + tag when sealed).
struct Header {
  uint32_t source = 0;
  uint32_t destination = 0;
  uint64_t sequence = 0;
  MessageType type = MessageType::kWork;
  uint8_t flags = 0;
  uint32_t payload_length = 0;

  bool sealed() const { return (flags & kFlagSealed) != 0; }
  bool operator==(const Header& other) const;
};

/// A delivered message: the header as it travelled, the payload in plaintext
/// (opened and authenticated when the transport seals).
struct Message {
  Header header;
  std::vector<uint8_t> payload;

  int source() const { return static_cast<int>(header.source); }
  MessageType type() const { return header.type; }
};

}  // namespace hddnn::comm
