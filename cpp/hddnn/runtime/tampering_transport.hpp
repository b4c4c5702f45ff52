// TamperingTransport: the run-level fault-injection test hook of the privacy tests
// (RunConfig::tamper). It wraps one rank's real transport, forwards every call to it,
// and sees each frame that rank sends through the transport's outgoing hook:
//   - flip, replay, wrong-key, truncate: each entry takes the next `count` data frames
//     (kWork, kAnswer; never the handshake or control traffic), entries in the order
//     listed, and gives each one fault: one ciphertext bit flipped; the frame sent again
//     right after the original (send_wire); the body re-sealed under a random key behind
//     the same header; the frame cut to half its length. Each fault is one frame its
//     receiver must reject; injected() counts them by kind.
//   - capture: every frame sent through it (after the handshake, which the inner
//     transport finished on construction) is appended, as sent, to the capture file:
//     a u32 little-endian length, then the frame's bytes; flushed per frame.
// Contract: as Transport. Sends are serialised by the wrapper, so a replay follows its
// original on the link. set_outgoing_hook is refused (the wrapper holds the hook).
#pragma once

#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "hddnn/comm/transport.hpp"
#include "hddnn/runtime/run_config.hpp"

namespace hddnn::runtime {

class TamperingTransport : public comm::Transport {
 public:
  /// `specs`: this rank's entries; `capture_path` is opened (truncated) when one is a capture.
  TamperingTransport(std::unique_ptr<comm::Transport> inner, std::vector<TamperSpec> specs,
                     const std::string& capture_path);
  ~TamperingTransport() override;

  int rank() const override { return inner_->rank(); }
  int size() const override { return inner_->size(); }
  void send(int destination, comm::MessageType type, std::vector<uint8_t> payload) override;
  std::optional<comm::Message> poll() override { return inner_->poll(); }
  std::optional<comm::Message> receive(std::chrono::milliseconds timeout) override { return inner_->receive(timeout); }
  comm::LinkStats stats(int peer) const override { return inner_->stats(peer); }
  uint64_t rejected() const override { return inner_->rejected(); }
  uint64_t rejected(crypto::Rejection reason) const override { return inner_->rejected(reason); }
  bool encrypted() const override { return inner_->encrypted(); }
  void shutdown() override { inner_->shutdown(); }
  comm::ProcessLiveness peer_process_alive(int rank) const override { return inner_->peer_process_alive(rank); }
  void abandon_peer(int rank) override { inner_->abandon_peer(rank); }
  void restore_peer(int rank) override { inner_->restore_peer(rank); }
  void set_outgoing_hook(comm::OutgoingHook hook) override;
  void send_wire(int destination, std::vector<uint8_t> wire) override;

  /// Faults injected so far, by kind name ("flip", "replay", "wrong-key", "truncate").
  std::map<std::string, uint64_t> injected() const;

 private:
  void on_frame(comm::MessageType type, std::vector<uint8_t>& wire);
  /// The entry whose turn the next data frame is, or nullptr when every count is spent.
  TamperSpec* next_fault();
  void inject(TamperKind kind, std::vector<uint8_t>& wire);
  void record(const std::vector<uint8_t>& wire);

  std::unique_ptr<comm::Transport> inner_;
  std::vector<TamperSpec> faults_;  ///< counts left, in the order listed
  std::ofstream capture_;
  std::mutex send_mutex_;                          ///< one send (and its replay) at a time
  const std::vector<uint8_t>* payload_ = nullptr;  ///< of the send in progress: wrong-key re-seals it
  std::vector<uint8_t> replay_;                    ///< a frame to send again once the send in progress is queued
  mutable std::mutex count_mutex_;
  std::map<std::string, uint64_t> injected_;
};

/// `transport` wrapped in a TamperingTransport when the run config names its rank in
/// `tamper`, else unchanged. Capture files are <out>.rank<i>.capture.
std::unique_ptr<comm::Transport> with_tamper_hook(std::unique_ptr<comm::Transport> transport, const RunConfig& config);

}  // namespace hddnn::runtime
