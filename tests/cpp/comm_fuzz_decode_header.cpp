// libFuzzer target (HDDNN_FUZZ, clang): decode_header/parse_frame on arbitrary bytes.
// Property: either CommError, or the decoded header re-encodes to the same 25 bytes
// and parse_frame's body is exactly the rest of the input.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "hddnn/errors.hpp"
#include "hddnn/wire/wire_format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hddnn::comm;
  try {
    Header header = decode_header(data, size);
    uint8_t again[kHeaderBytes];
    encode_header(header, again);
    if (std::memcmp(again, data, kHeaderBytes) != 0) std::abort();
  } catch (const hddnn::CommError&) {
    return 0;
  }
  try {
    FrameView frame = parse_frame(data, size);
    if (frame.body != data + kHeaderBytes || frame.body_size != size - kHeaderBytes) std::abort();
  } catch (const hddnn::CommError&) {
  }
  return 0;
}
