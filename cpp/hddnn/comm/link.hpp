// The per-link figures of a transport: the emulated link toward a peer and the
// traffic counted on it.
#pragma once

#include <cstdint>

namespace hddnn::comm {

/// An emulated link toward one peer: one-way latency and serialisation bandwidth
/// (megabits per second, 10^6 bit/s).
struct LinkSpec {
  double latency_ms = 0.0;
  double bandwidth_mbps = 0.0;
};

/// Traffic on one link, in wire bytes (header + seal + payload).
struct LinkStats {
  uint64_t messages_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t messages_received = 0;
  uint64_t bytes_received = 0;
};

}  // namespace hddnn::comm
