// MemoryNetwork: an in-process network of `size` ranks, so that several roles run in
// one process (one thread each) without MPI, as the role tests do. endpoint(rank,
// links) gives each rank its Transport.
//
// Contract (as Transport's, with these differences):
// - Frames travel unsealed (encrypted() is false) in the wire format, through one
//   LinkEmulator per sending rank (the MPI backend's link model): a frame toward a
//   peer with a LinkSpec is delivered at the emulator's release time, in order.
// - Progress is made by the receivers: poll()/receive() move every frame that is due
//   into its destination's inbox, so no thread runs beside the roles.
// - stats(peer) counts wire bytes: sent when handed to the network (lost ones too),
//   received when delivered.
// - The network's fault controls act as a real network would fail, never through
//   the Transport interface:
//     drop_next(from, to, type, count): the next `count` frames of `type` on that
//       link are lost (a lost frame: the sender's retransmission must recover it);
//     cut(rank) / heal(rank): every frame to or from `rank` is lost while it is cut
//       off; its process is still running (a partition);
//     kill(rank): the rank's process is gone: frames to and from it are lost, its
//       peers' peer_process_alive(rank) says kDead, and every call of its own
//       endpoint throws CommError, which ends its role.
//   A rank not killed is kUnknown to its peers (as a rank on another host: silence
//   is all they have).
// Thread-safety: everything may be called from any thread; one lock guards the network.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "hddnn/comm/transport.hpp"

namespace hddnn::comm {

class MemoryNetwork : public std::enable_shared_from_this<MemoryNetwork> {
 public:
  /// A network of `size` ranks (> 0); make it with std::make_shared.
  explicit MemoryNetwork(int size);
  ~MemoryNetwork();

  /// The transport of `rank` (each rank's once); `links`: emulated link toward each peer.
  std::unique_ptr<Transport> endpoint(int rank, std::map<int, LinkSpec> links = {});

  void drop_next(int from, int to, MessageType type, int count = 1);
  void cut(int rank);
  void heal(int rank);
  void kill(int rank);
  /// Frames lost so far by drop_next, cut and kill together.
  uint64_t lost() const;

 private:
  friend class MemoryEndpoint;
  struct Rank;
  struct DropRule {
    int from, to;
    MessageType type;
    int count;
  };

  void check_rank(int rank, const char* what) const;
  /// Whether a frame from -> to is lost now (cut or killed ends, or a drop rule).
  bool loses(int from, int to, MessageType type);
  /// Moves every due frame into its destination's inbox (caller holds mutex_).
  void deliver_due(std::chrono::steady_clock::time_point now);
  std::chrono::steady_clock::time_point next_release(std::chrono::steady_clock::time_point deadline) const;

  const int size_;
  mutable std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<std::unique_ptr<Rank>> ranks_;
  std::vector<DropRule> drop_rules_;
  std::set<int> cut_, killed_;
  uint64_t lost_ = 0;
};

}  // namespace hddnn::comm
