#include "hddnn/crypto/secure_buffer.hpp"

#include <sodium.h>

#include <cstring>
#include <string>

#include "hddnn/errors.hpp"

namespace hddnn::crypto {

void ensure_sodium() {
  static const int status = sodium_init();
  if (status < 0) throw CryptoError("libsodium could not be initialised (sodium_init failed)");
}

SecureBuffer::SecureBuffer(size_t size) : size_(size) {
  ensure_sodium();
  data_ = static_cast<uint8_t*>(sodium_malloc(size == 0 ? 1 : size));
  if (data_ == nullptr) throw CryptoError("sodium_malloc of " + std::to_string(size) + " bytes failed");
  std::memset(data_, 0, size == 0 ? 1 : size);
}

SecureBuffer::~SecureBuffer() { release(); }

SecureBuffer::SecureBuffer(SecureBuffer&& other) noexcept : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

SecureBuffer& SecureBuffer::operator=(SecureBuffer&& other) noexcept {
  if (this != &other) {
    release();
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

void SecureBuffer::release() noexcept {
  if (data_ != nullptr) sodium_free(data_);  // sodium_free zeroes before freeing
  data_ = nullptr;
  size_ = 0;
}

bool SecureBuffer::equals(const SecureBuffer& other) const {
  return size_ == other.size_ && sodium_memcmp(data_, other.data_, size_) == 0;
}

}  // namespace hddnn::crypto
