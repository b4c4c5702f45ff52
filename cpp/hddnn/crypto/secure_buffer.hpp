// SecureBuffer: key material in sodium_malloc'd memory (guard pages, mlock'd,
// never swapped), zeroed and freed by sodium_free when dropped. Move-only; the
// contents are never logged or printed.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hddnn::crypto {

/// Initialises libsodium once per process; throws CryptoError if it cannot.
void ensure_sodium();

class SecureBuffer {
 public:
  /// size bytes, zero-filled. Throws CryptoError when sodium_malloc fails.
  explicit SecureBuffer(size_t size);
  ~SecureBuffer();
  SecureBuffer(SecureBuffer&& other) noexcept;
  SecureBuffer& operator=(SecureBuffer&& other) noexcept;
  SecureBuffer(const SecureBuffer&) = delete;
  SecureBuffer& operator=(const SecureBuffer&) = delete;

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  /// Constant-time comparison (sodium_memcmp).
  bool equals(const SecureBuffer& other) const;

 private:
  void release() noexcept;

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace hddnn::crypto
