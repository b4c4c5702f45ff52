// ClusterKey: the cluster secret every rank holds (32 bytes, crypto_kdf key),
// from which per-rank identities and the handshake MACs are derived.
//
// Key file format: one line "hddnn-cluster-key-v1 <base64 of 32 bytes>\n",
// mode 0600. load() refuses a file that group or others can access, of the wrong
// size or format, with a CryptoError naming the file and what was expected.
// Copies share one SecureBuffer, zeroed when the last copy is dropped.
#pragma once

#include <memory>
#include <string>

#include "hddnn/crypto/secure_buffer.hpp"

namespace hddnn::crypto {

class ClusterKey {
 public:
  static constexpr size_t kBytes = 32;

  /// A fresh random key (crypto_kdf_keygen).
  static ClusterKey generate();
  /// Reads and validates a key file; throws CryptoError naming the file.
  static ClusterKey load(const std::string& path);
  /// Builds a key from raw bytes (tests, bindings); throws CryptoError if size != kBytes.
  static ClusterKey from_bytes(const uint8_t* bytes, size_t size);

  /// Writes the key file with mode 0600. Refuses to replace an existing file unless overwrite.
  void save(const std::string& path, bool overwrite = false) const;

  /// A 32-byte subkey: crypto_kdf_derive_from_key(subkey_id, 8-character context).
  SecureBuffer derive(uint64_t subkey_id, const char (&context)[9]) const;

 private:
  explicit ClusterKey(std::shared_ptr<const SecureBuffer> secret);
  std::shared_ptr<const SecureBuffer> secret_;
};

}  // namespace hddnn::crypto
