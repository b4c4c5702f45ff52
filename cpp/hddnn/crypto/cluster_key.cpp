#include "hddnn/crypto/cluster_key.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "hddnn/errors.hpp"

namespace hddnn::crypto {
namespace {

constexpr char kPrefix[] = "hddnn-cluster-key-v1 ";
constexpr size_t kMaxFileBytes = 256;
constexpr int kB64 = sodium_base64_VARIANT_ORIGINAL;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw CryptoError("cluster key file " + path + ": " + what);
}

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// Opens the file and checks it is a regular file only its owner can access.
int open_private(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat info {};
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    fail(path, "not a regular file");
  }
  if ((info.st_mode & 077) != 0) {
    ::close(fd);
    fail(path,
         "mode " + octal_mode(info.st_mode) + " gives group/others access; expected 0600 (chmod 600 " + path + ")");
  }
  return fd;
}

// Reads the whole (small) file into a secure buffer; returns the byte count.
size_t read_private(const std::string& path, SecureBuffer& text) {
  int fd = open_private(path);
  size_t used = 0;
  ssize_t got = 0;
  while ((got = ::read(fd, text.data() + used, text.size() - used)) > 0) used += static_cast<size_t>(got);
  ::close(fd);
  if (got < 0) fail(path, std::string("read failed: ") + std::strerror(errno));
  if (used == text.size()) fail(path, "larger than " + std::to_string(kMaxFileBytes - 1) + " bytes; not a key file");
  return used;
}

}  // namespace

ClusterKey::ClusterKey(std::shared_ptr<const SecureBuffer> secret) : secret_(std::move(secret)) {}

ClusterKey ClusterKey::generate() {
  auto secret = std::make_shared<SecureBuffer>(kBytes);
  crypto_kdf_keygen(secret->data());
  return ClusterKey(std::move(secret));
}

ClusterKey ClusterKey::from_bytes(const uint8_t* bytes, size_t size) {
  if (size != kBytes)
    throw CryptoError("cluster key of " + std::to_string(size) + " bytes, expected " + std::to_string(kBytes));
  auto secret = std::make_shared<SecureBuffer>(kBytes);
  std::memcpy(secret->data(), bytes, kBytes);
  return ClusterKey(std::move(secret));
}

ClusterKey ClusterKey::load(const std::string& path) {
  SecureBuffer text(kMaxFileBytes);
  size_t used = read_private(path, text);
  const size_t prefix = sizeof(kPrefix) - 1;
  if (used < prefix || std::memcmp(text.data(), kPrefix, prefix) != 0)
    fail(path, "does not start with \"hddnn-cluster-key-v1 \"; expected a file written by `hddnn keygen`");
  size_t end = used;
  while (end > prefix && (text.data()[end - 1] == '\n' || text.data()[end - 1] == '\r')) --end;
  auto secret = std::make_shared<SecureBuffer>(kBytes + 1);
  size_t decoded = 0;
  const char* stop = nullptr;
  int rc = sodium_base642bin(secret->data(), secret->size(), reinterpret_cast<const char*>(text.data()) + prefix,
                             end - prefix, nullptr, &decoded, &stop, kB64);
  if (rc != 0 || stop != reinterpret_cast<const char*>(text.data()) + end) fail(path, "key is not valid base64");
  if (decoded != kBytes)
    fail(path, "key has " + std::to_string(decoded) + " bytes, expected " + std::to_string(kBytes));
  return from_bytes(secret->data(), kBytes);
}

void ClusterKey::save(const std::string& path, bool overwrite) const {
  SecureBuffer text(kMaxFileBytes);
  const size_t prefix = sizeof(kPrefix) - 1;
  std::memcpy(text.data(), kPrefix, prefix);
  char* b64 = reinterpret_cast<char*>(text.data()) + prefix;
  sodium_bin2base64(b64, text.size() - prefix - 1, secret_->data(), kBytes, kB64);
  size_t length = prefix + std::strlen(b64);
  text.data()[length++] = '\n';
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (overwrite ? O_TRUNC : O_EXCL);
  int fd = ::open(path.c_str(), flags, 0600);
  if (fd < 0) fail(path, std::string("cannot create: ") + std::strerror(errno));
  bool ok = fchmod(fd, 0600) == 0 && ::write(fd, text.data(), length) == static_cast<ssize_t>(length);
  ok = (::close(fd) == 0) && ok;
  if (!ok) fail(path, std::string("write failed: ") + std::strerror(errno));
}

SecureBuffer ClusterKey::derive(uint64_t subkey_id, const char (&context)[9]) const {
  SecureBuffer subkey(kBytes);
  crypto_kdf_derive_from_key(subkey.data(), subkey.size(), subkey_id, context, secret_->data());
  return subkey;
}

}  // namespace hddnn::crypto
