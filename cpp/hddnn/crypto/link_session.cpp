#include "hddnn/crypto/link_session.hpp"

#include <sodium.h>

#include <array>

#include "hddnn/errors.hpp"
#include "hddnn/wire/wire_format.hpp"

namespace hddnn::crypto {
namespace {

using Nonce = std::array<uint8_t, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES>;

Nonce nonce_for(const comm::Header& header) {
  Nonce nonce{};
  for (int i = 0; i < 8; ++i) nonce[i] = static_cast<uint8_t>(header.sequence >> (8 * i));
  for (int i = 0; i < 4; ++i) nonce[8 + i] = static_cast<uint8_t>(header.source >> (8 * i));
  for (int i = 0; i < 4; ++i) nonce[12 + i] = static_cast<uint8_t>(header.destination >> (8 * i));
  return nonce;
}

static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == kSealBytes, "tag size");

}  // namespace

std::string to_string(Rejection reason) {
  switch (reason) {
    case Rejection::kMalformed: return "malformed";
    case Rejection::kMisaddressed: return "misaddressed";
    case Rejection::kUnsealed: return "unsealed";
    case Rejection::kNoSession: return "no session";
    case Rejection::kReplayed: return "replayed or out of window";
    case Rejection::kForged: return "failed authentication";
    case Rejection::kUnexpectedHello: return "unexpected hello";
  }
  return "unknown";
}

LinkSession::LinkSession(int self, int peer, SecureBuffer send_key, SecureBuffer receive_key)
    : self_(self), peer_(peer), send_key_(std::move(send_key)), receive_key_(std::move(receive_key)) {
  if (send_key_.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES ||
      receive_key_.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES)
    throw CryptoError("link session keys must be 32 bytes");
}

std::vector<uint8_t> seal_frame(comm::Header header, const uint8_t* payload, size_t size, const SecureBuffer& key) {
  if (size > comm::kMaxPayloadBytes - kSealBytes)
    throw CryptoError("payload of " + std::to_string(size) + " bytes is above the wire limit");
  header.flags |= comm::kFlagSealed;
  header.payload_length = static_cast<uint32_t>(size + kSealBytes);
  std::vector<uint8_t> wire(comm::kHeaderBytes + size + kSealBytes);
  comm::encode_header(header, wire.data());
  Nonce nonce = nonce_for(header);
  crypto_aead_xchacha20poly1305_ietf_encrypt(wire.data() + comm::kHeaderBytes, nullptr, payload, size, wire.data(),
                                             comm::kHeaderBytes, nullptr, nonce.data(), key.data());
  return wire;
}

SecureBuffer random_link_key() {
  ensure_sodium();
  SecureBuffer key(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
  crypto_aead_xchacha20poly1305_ietf_keygen(key.data());
  return key;
}

std::vector<uint8_t> LinkSession::seal(comm::MessageType type, const uint8_t* payload, size_t size) {
  comm::Header header{static_cast<uint32_t>(self_), static_cast<uint32_t>(peer_), next_sequence_, type, 0, 0};
  auto wire = seal_frame(header, payload, size, send_key_);
  ++next_sequence_;
  return wire;
}

OpenResult LinkSession::open(const uint8_t* wire, size_t size) {
  comm::FrameView frame;
  try {
    frame = comm::parse_frame(wire, size);
  } catch (const CommError&) {
    return reject(Rejection::kMalformed);
  }
  const comm::Header& header = frame.header;
  if (header.source != static_cast<uint32_t>(peer_) || header.destination != static_cast<uint32_t>(self_))
    return reject(Rejection::kMisaddressed);
  if (!header.sealed() || frame.body_size < kSealBytes) return reject(Rejection::kUnsealed);
  if (!window_.fresh(header.sequence)) return reject(Rejection::kReplayed);
  comm::Message message{header, std::vector<uint8_t>(frame.body_size - kSealBytes)};
  Nonce nonce = nonce_for(header);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(message.payload.data(), nullptr, nullptr, frame.body, frame.body_size,
                                                 wire, comm::kHeaderBytes, nonce.data(), receive_key_.data()) != 0)
    return reject(Rejection::kForged);
  window_.accept(header.sequence);
  return OpenResult{std::move(message), Rejection::kForged};
}

}  // namespace hddnn::crypto
