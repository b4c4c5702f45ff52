#include "hddnn/crypto/handshake.hpp"

#include <sodium.h>

#include <cstring>

namespace hddnn::crypto {
namespace {

constexpr char kIdentityContext[9] = "hddnnid_";
static_assert(crypto_kx_PUBLICKEYBYTES == 32 && crypto_auth_BYTES == 32, "hello layout");

// MAC input: the wire header followed by version and public key.
std::vector<uint8_t> mac_input(const uint8_t* header, const uint8_t* version_and_key) {
  std::vector<uint8_t> input(comm::kHeaderBytes + 1 + crypto_kx_PUBLICKEYBYTES);
  std::memcpy(input.data(), header, comm::kHeaderBytes);
  std::memcpy(input.data() + comm::kHeaderBytes, version_and_key, 1 + crypto_kx_PUBLICKEYBYTES);
  return input;
}

}  // namespace

Handshake::Handshake(const ClusterKey& key, int rank) : key_(key), rank_(rank), secret_key_(crypto_kx_SECRETKEYBYTES) {
  crypto_kx_keypair(public_key_.data(), secret_key_.data());
}

std::vector<uint8_t> Handshake::hello_frame(int peer) const {
  comm::Header header{
      static_cast<uint32_t>(rank_),          static_cast<uint32_t>(peer), 0, comm::MessageType::kHello, 0,
      static_cast<uint32_t>(kHelloBodyBytes)};
  std::vector<uint8_t> wire(comm::kHeaderBytes + kHelloBodyBytes);
  comm::encode_header(header, wire.data());
  uint8_t* body = wire.data() + comm::kHeaderBytes;
  body[0] = kVersion;
  std::memcpy(body + 1, public_key_.data(), public_key_.size());
  SecureBuffer identity = key_.derive(static_cast<uint64_t>(rank_), kIdentityContext);
  std::vector<uint8_t> input = mac_input(wire.data(), body);
  crypto_auth(body + 1 + public_key_.size(), input.data(), input.size(), identity.data());
  return wire;
}

bool Handshake::verify_mac(const comm::FrameView& frame) const {
  const uint8_t* header = frame.body - comm::kHeaderBytes;
  SecureBuffer identity = key_.derive(frame.header.source, kIdentityContext);
  std::vector<uint8_t> input = mac_input(header, frame.body);
  return crypto_auth_verify(frame.body + 1 + crypto_kx_PUBLICKEYBYTES, input.data(), input.size(), identity.data()) ==
         0;
}

std::optional<LinkSession> Handshake::accept_hello(const comm::FrameView& frame) const {
  const comm::Header& header = frame.header;
  if (header.type != comm::MessageType::kHello || header.sealed() || header.sequence != 0 ||
      header.destination != static_cast<uint32_t>(rank_) || header.source == static_cast<uint32_t>(rank_) ||
      frame.body_size != kHelloBodyBytes || frame.body[0] != kVersion)
    return std::nullopt;
  if (!verify_mac(frame)) return std::nullopt;
  return agree(static_cast<int>(header.source), frame.body + 1);
}

std::optional<LinkSession> Handshake::agree(int peer, const uint8_t* peer_public_key) const {
  SecureBuffer receive_key(crypto_kx_SESSIONKEYBYTES), send_key(crypto_kx_SESSIONKEYBYTES);
  int rc = rank_ < peer ? crypto_kx_client_session_keys(receive_key.data(), send_key.data(), public_key_.data(),
                                                        secret_key_.data(), peer_public_key)
                        : crypto_kx_server_session_keys(receive_key.data(), send_key.data(), public_key_.data(),
                                                        secret_key_.data(), peer_public_key);
  if (rc != 0) return std::nullopt;  // a public key crypto_kx refuses (e.g. of small order)
  return LinkSession(rank_, peer, std::move(send_key), std::move(receive_key));
}

}  // namespace hddnn::crypto
