// libFuzzer target (HDDNN_FUZZ, clang): the receiving side of a sealed link.
// Input byte 0 picks a mode:
//   even: the rest is a frame offered to LinkSession::open and Handshake::accept_hello;
//         nothing the fuzzer writes may open (it does not hold the session key).
//   odd:  a fresh valid sealed frame is XORed with the rest of the input; it must open
//         exactly when the mask changes nothing.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <vector>

#include "hddnn/crypto/handshake.hpp"
#include "hddnn/errors.hpp"
#include "hddnn/wire/wire_format.hpp"

namespace {

using namespace hddnn;

struct Link {
  crypto::ClusterKey key = crypto::ClusterKey::generate();
  crypto::Handshake sender{key, 0};
  crypto::Handshake receiver{key, 1};
  std::optional<crypto::LinkSession> a, b;

  Link() {
    auto hello0 = sender.hello_frame(1), hello1 = receiver.hello_frame(0);
    a = sender.accept_hello(comm::parse_frame(hello1.data(), hello1.size()));
    b = receiver.accept_hello(comm::parse_frame(hello0.data(), hello0.size()));
    if (!a || !b) std::abort();
  }
};

Link& link() {
  static Link instance;
  return instance;
}

void offer_raw(const uint8_t* data, size_t size) {
  if (link().b->open(data, size).message) std::abort();  // a forgery opened
  try {
    comm::FrameView frame = comm::parse_frame(data, size);
    link().receiver.accept_hello(frame);  // may be valid only if it equals a real hello
  } catch (const CommError&) {
  }
}

void offer_masked(const uint8_t* mask, size_t size) {
  const std::vector<uint8_t> payload{1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<uint8_t> wire = link().a->seal(comm::MessageType::kWork, payload.data(), payload.size());
  bool changed = false;
  for (size_t i = 0; i < size && i < wire.size(); ++i) {
    wire[i] ^= mask[i];
    changed = changed || mask[i] != 0;
  }
  bool opened = link().b->open(wire.data(), wire.size()).message.has_value();
  if (opened == changed) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] % 2 == 0) {
    offer_raw(data + 1, size - 1);
  } else {
    offer_masked(data + 1, size - 1);
  }
  return 0;
}
