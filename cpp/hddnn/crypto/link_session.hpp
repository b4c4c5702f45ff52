// LinkSession: the sealed channel between this rank and one peer, after the
// handshake: one XChaCha20-Poly1305 key per direction, the next outgoing sequence
// number, and the replay window of the incoming direction.
//
// Seal: body = ciphertext || 16-byte tag; the 25-byte wire header is the associated
// data; the 24-byte nonce is not sent but derived from the header:
// LE64(sequence) || LE32(source) || LE32(destination) || 8 zero bytes. Each
// direction has its own key and strictly increasing sequences from 1, so a nonce
// never repeats under one key; sealing adds exactly kSealBytes (16) per message.
// Open rejects (never throws) malformed, misaddressed, unsealed, replayed,
// out-of-window and forged frames, saying why.
// Not thread-safe: the transport serialises access.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hddnn/crypto/replay_window.hpp"
#include "hddnn/crypto/secure_buffer.hpp"
#include "hddnn/wire/message.hpp"
#include "hddnn/wire/wire_format.hpp"

namespace hddnn::crypto {

constexpr size_t kSealBytes = comm::kSealTagBytes;  ///< libsodium's tag size (checked in link_session.cpp)

/// Why an incoming frame was dropped.
enum class Rejection { kMalformed, kMisaddressed, kUnsealed, kNoSession, kReplayed, kForged, kUnexpectedHello };
constexpr int kRejectionKinds = 7;
std::string to_string(Rejection reason);

/// A complete sealed wire frame: `header` (its sealed flag and payload_length set
/// here) as associated data, payload encrypted under `key` with the header's nonce.
std::vector<uint8_t> seal_frame(comm::Header header, const uint8_t* payload, size_t size, const SecureBuffer& key);

/// A fresh random link key (crypto_aead_xchacha20poly1305_ietf_keygen).
SecureBuffer random_link_key();

/// An opened message, or the reason the frame was dropped.
struct OpenResult {
  std::optional<comm::Message> message;
  Rejection rejection = Rejection::kForged;
};

class LinkSession {
 public:
  LinkSession(int self, int peer, SecureBuffer send_key, SecureBuffer receive_key);

  /// A complete sealed wire frame carrying payload; consumes the next sequence number.
  std::vector<uint8_t> seal(comm::MessageType type, const uint8_t* payload, size_t size);
  /// Checks and opens a complete wire frame that came from the peer.
  OpenResult open(const uint8_t* wire, size_t size);

  int peer() const { return peer_; }

 private:
  static OpenResult reject(Rejection reason) { return OpenResult{std::nullopt, reason}; }

  int self_;
  int peer_;
  SecureBuffer send_key_;
  SecureBuffer receive_key_;
  uint64_t next_sequence_ = 1;
  ReplayWindow window_;
};

}  // namespace hddnn::crypto
