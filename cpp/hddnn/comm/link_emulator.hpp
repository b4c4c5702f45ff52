// LinkEmulator: per outgoing link a FIFO delay queue that makes loopback MPI
// behave like the topology's links.
//
// Contract: a frame of B wire bytes submitted at time t toward a peer with
// LinkSpec {latency L, bandwidth W} starts serialising when the link is free
// (start = max(t, link_free)), occupies the link for B*8/W, and is released
// (handed to the real network) at start + B*8/W + L. Frames toward one peer are
// released in submission order. A frame submitted with occupies_link = false
// (measurement traffic such as run reports, not the emulated workload) waits its
// turn and the latency but takes no serialisation time, so it neither slows nor
// overtakes the frames around it. Peers without a LinkSpec get no delay. Time is
// passed in by the caller, so the class is deterministic and testable without MPI
// or a clock; it is not thread-safe (the transport guards it with its send lock).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "hddnn/comm/link.hpp"

namespace hddnn::comm {

class LinkEmulator {
 public:
  using Clock = std::chrono::steady_clock;

  /// A frame waiting for its release time.
  struct Frame {
    int peer = -1;
    std::vector<uint8_t> wire;
    Clock::time_point release;
  };

  /// Throws ConfigError naming the peer when a spec has negative latency or non-positive bandwidth.
  explicit LinkEmulator(std::map<int, LinkSpec> links = {});

  /// Queues a frame; returns its release time.
  Clock::time_point submit(int peer, std::vector<uint8_t> wire, Clock::time_point now, bool occupies_link = true);
  /// Removes and returns the frames whose release time is <= now, oldest first per link.
  std::vector<Frame> take_due(Clock::time_point now);
  /// Earliest release time among queued frames.
  std::optional<Clock::time_point> next_release() const;
  /// Drops what is queued toward a peer; returns how many frames were dropped.
  size_t drop(int peer);
  size_t queued() const;
  bool emulates(int peer) const { return links_.count(peer) != 0; }

 private:
  Clock::time_point release_time(int peer, size_t bytes, Clock::time_point now);

  std::map<int, LinkSpec> links_;
  std::map<int, Clock::time_point> link_free_;
  std::map<int, std::deque<Frame>> queues_;
};

}  // namespace hddnn::comm
