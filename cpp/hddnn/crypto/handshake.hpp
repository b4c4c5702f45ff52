// Handshake: agrees a LinkSession with each peer at start-up.
//
// Identity: from the cluster secret every rank derives a long-term identity key,
// crypto_kdf subkey id = rank, context "hddnnid_". Per transport instance each rank
// draws a fresh ephemeral crypto_kx key pair.
// Hello (type kHello, unsealed, sequence 0) toward each peer carries
//   body = version (1) || ephemeral public key (32) || MAC (32)
// where MAC = crypto_auth(header || version || public key) under the sender's
// identity key, so a hello proves its sender holds the cluster secret and binds the
// key to (source, destination). Session keys: crypto_kx, the lower rank as client,
// one key per direction. Fresh ephemeral keys every run are what make the
// sequence-derived nonces of LinkSession safe across runs.
// Thread-safe after construction (const methods only).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "hddnn/crypto/cluster_key.hpp"
#include "hddnn/crypto/link_session.hpp"
#include "hddnn/wire/wire_format.hpp"

namespace hddnn::crypto {

class Handshake {
 public:
  static constexpr uint8_t kVersion = 1;
  static constexpr size_t kHelloBodyBytes = 1 + 32 + 32;

  Handshake(const ClusterKey& key, int rank);

  /// The complete hello frame toward peer.
  std::vector<uint8_t> hello_frame(int peer) const;
  /// Verifies a hello frame addressed to this rank; the session with its sender, or
  /// nullopt when the frame is not a well-formed hello under the cluster secret.
  std::optional<LinkSession> accept_hello(const comm::FrameView& frame) const;

 private:
  bool verify_mac(const comm::FrameView& frame) const;
  std::optional<LinkSession> agree(int peer, const uint8_t* peer_public_key) const;

  ClusterKey key_;
  int rank_;
  std::array<uint8_t, 32> public_key_{};
  SecureBuffer secret_key_;
};

}  // namespace hddnn::crypto
