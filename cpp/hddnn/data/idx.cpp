#include "hddnn/data/idx.hpp"

#include <zlib.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "hddnn/errors.hpp"

namespace hddnn::data {
namespace {

constexpr int kUnsignedByteType = 0x08;
constexpr int kMaxDims = 4;

using GzFile = std::unique_ptr<gzFile_s, decltype(&gzclose)>;

/// Reads exactly n bytes or throws DataError saying the file is truncated or corrupt.
void read_exact(gzFile file, void* out, size_t n, const std::string& path, const char* what) {
  int got = gzread(file, out, static_cast<unsigned>(n));
  if (got < 0) {
    int code = 0;
    const char* msg = gzerror(file, &code);
    throw DataError(path + ": corrupt or truncated gzip stream while reading " + what + " (" + msg + ")");
  }
  if (static_cast<size_t>(got) != n) {
    throw DataError(path + ": truncated while reading " + what + ": expected " + std::to_string(n) + " bytes, got " +
                    std::to_string(got));
  }
}

uint32_t big_endian_u32(const unsigned char* b) {
  return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | uint32_t(b[3]);
}

std::vector<int64_t> read_header(gzFile file, const std::string& path) {
  unsigned char magic[4];
  read_exact(file, magic, 4, path, "the magic number");
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != kUnsignedByteType || magic[3] == 0 || magic[3] > kMaxDims) {
    throw DataError(path + ": wrong magic number: expected 00 00 08 0N with N in 1.." + std::to_string(kMaxDims) +
                    " (unsigned-byte IDX)");
  }
  std::vector<int64_t> dims(magic[3]);
  for (auto& d : dims) {
    unsigned char raw[4];
    read_exact(file, raw, 4, path, "the dimensions");
    d = big_endian_u32(raw);
    if (d == 0) throw DataError(path + ": a dimension in the header is zero");
  }
  return dims;
}

}  // namespace

torch::Tensor read_idx(const std::string& path) {
  GzFile file(gzopen(path.c_str(), "rb"), &gzclose);
  if (!file) throw DataError(path + ": cannot open (missing file or no permission)");
  gzbuffer(file.get(), 1 << 20);
  auto dims = read_header(file.get(), path);
  auto out = torch::empty(dims, torch::kUInt8);
  read_exact(file.get(), out.data_ptr<uint8_t>(), static_cast<size_t>(out.numel()), path, "the data");
  unsigned char extra;
  int tail = gzread(file.get(), &extra, 1);
  if (tail < 0) throw DataError(path + ": corrupt gzip stream after the data (bad checksum or length)");
  if (tail > 0) {
    throw DataError(path + ": trailing bytes after the " + std::to_string(out.numel()) +
                    " data bytes the header announces");
  }
  return out;
}

}  // namespace hddnn::data
