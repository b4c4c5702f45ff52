// Transport: the only way roles talk to each other.
//
// Contract (every backend):
// - send() never blocks on the network, emulated link delay included; a message to a
//   dead peer is not an error at send time (it is lost; heartbeats find the peer).
// - poll() / receive(timeout) deliver opened, authenticated messages, per source in
//   the order they were sent. A frame that fails authentication, replay or window
//   checks, or is malformed or misaddressed, is dropped and counted (rejected()),
//   never delivered; the transport carries on.
// - With TransportOptions::key set every message is sealed (XChaCha20-Poly1305, header
//   as associated data) under per-link, per-direction session keys agreed at
//   construction (see crypto/handshake.hpp); without it frames travel in clear.
// - stats(peer) counts wire bytes (header + seal + payload) actually handed to and
//   taken from the network toward/from that peer, hellos included.
// - shutdown() stops progress after flushing what is queued for at most
//   TransportOptions::shutdown_linger, cancels/abandons what is still pending (e.g.
//   toward dead peers) and never hangs. It is idempotent; the destructor calls it.
// - Errors in a backend's progress thread are stored and rethrown by the next
//   send/poll/receive as CommError; they never cross threads.
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "hddnn/comm/link.hpp"
#include "hddnn/comm/process_directory.hpp"
#include "hddnn/crypto/cluster_key.hpp"
#include "hddnn/crypto/link_session.hpp"
#include "hddnn/wire/message.hpp"

namespace hddnn::comm {

using crypto::ClusterKey;

/// Test hook on every frame leaving this rank (after sealing, before link
/// emulation): may record, alter or truncate `wire`. Runs on the sending thread
/// under the transport's send lock; it must not call the transport.
using OutgoingHook = std::function<void(int destination, MessageType type, std::vector<uint8_t>& wire)>;

struct TransportOptions {
  bool emulate = true;                       ///< hold frames per LinkSpec (off on a real cluster)
  std::map<int, LinkSpec> links;             ///< emulated link toward each peer rank (absent: no delay)
  std::optional<crypto::ClusterKey> key;     ///< sealing on when set
  int tag = 0;                               ///< MPI tag of this transport's traffic
  std::chrono::microseconds idle_wait{100};  ///< progress thread's sleep when idle; 0 busy-polls
  std::chrono::milliseconds handshake_timeout{30000};
  std::chrono::milliseconds shutdown_linger{1000};
};

class Transport {
 public:
  virtual ~Transport();

  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// Queues payload toward destination (0..size-1; to itself it is delivered locally).
  virtual void send(int destination, MessageType type, std::vector<uint8_t> payload) = 0;
  virtual std::optional<Message> poll() = 0;
  virtual std::optional<Message> receive(std::chrono::milliseconds timeout) = 0;
  virtual LinkStats stats(int peer) const = 0;
  /// Frames dropped on arrival, all reasons together / for one reason.
  virtual uint64_t rejected() const = 0;
  virtual uint64_t rejected(crypto::Rejection reason) const = 0;
  virtual bool encrypted() const = 0;
  virtual void shutdown() = 0;

  /// Whether the peer's process is alive, when it runs on this host (kUnknown elsewhere).
  virtual ProcessLiveness peer_process_alive(int rank) const = 0;
  /// Drops what is queued or pending toward a peer declared dead; later sends to it are discarded.
  virtual void abandon_peer(int rank) = 0;
  /// Undoes abandon_peer: the rank spoke again (a slow process, or a restarted one whose
  /// new route the transport installs itself).
  virtual void restore_peer(int rank) = 0;

  /// Test hooks (privacy tests): see OutgoingHook; an empty function removes the hook.
  virtual void set_outgoing_hook(OutgoingHook hook) = 0;
  /// Sends a complete wire frame exactly as given (e.g. one captured by the hook: a replay).
  virtual void send_wire(int destination, std::vector<uint8_t> wire) = 0;
};

}  // namespace hddnn::comm
