#include "hddnn/comm/memory_transport.hpp"

#include <deque>

#include "hddnn/comm/link_emulator.hpp"
#include "hddnn/errors.hpp"
#include "hddnn/wire/wire_format.hpp"

namespace hddnn::comm {

using Clock = std::chrono::steady_clock;

/// One rank's side of the network, guarded by the network's lock.
struct MemoryNetwork::Rank {
  bool taken = false;
  bool closed = false;
  LinkEmulator emulator;  ///< frames this rank sent, until their release
  std::deque<Message> inbox;
  std::vector<uint64_t> sequence;  ///< per destination
  std::vector<LinkStats> stats;    ///< per peer
  std::set<int> abandoned;
  OutgoingHook hook;
};

/// A rank's Transport over the MemoryNetwork (see memory_transport.hpp).
class MemoryEndpoint final : public Transport {
 public:
  MemoryEndpoint(std::shared_ptr<MemoryNetwork> network, int rank) : network_(std::move(network)), rank_(rank) {}
  ~MemoryEndpoint() override { shutdown(); }

  int rank() const override { return rank_; }
  int size() const override { return network_->size_; }
  void send(int destination, MessageType type, std::vector<uint8_t> payload) override;
  std::optional<Message> poll() override { return receive(std::chrono::milliseconds(0)); }
  std::optional<Message> receive(std::chrono::milliseconds timeout) override;
  LinkStats stats(int peer) const override;
  uint64_t rejected() const override { return 0; }
  uint64_t rejected(crypto::Rejection) const override { return 0; }
  bool encrypted() const override { return false; }
  void shutdown() override;
  ProcessLiveness peer_process_alive(int rank) const override;
  void abandon_peer(int rank) override;
  void restore_peer(int rank) override;
  void set_outgoing_hook(OutgoingHook hook) override;
  void send_wire(int destination, std::vector<uint8_t> wire) override;

 private:
  MemoryNetwork::Rank& me() const { return *network_->ranks_[rank_]; }
  /// Throws CommError when this rank was killed or its endpoint shut down (caller holds the lock).
  void check_usable(const char* what) const;
  void submit(int destination, MessageType type, std::vector<uint8_t> wire);

  std::shared_ptr<MemoryNetwork> network_;
  const int rank_;
};

MemoryNetwork::MemoryNetwork(int size) : size_(size) {
  if (size <= 0) throw ConfigError("MemoryNetwork: size " + std::to_string(size) + " (must be positive)");
  for (int rank = 0; rank < size; ++rank) {
    ranks_.push_back(std::make_unique<Rank>());
    ranks_.back()->sequence.assign(size, 0);
    ranks_.back()->stats.assign(size, {});
  }
}

MemoryNetwork::~MemoryNetwork() = default;

void MemoryNetwork::check_rank(int rank, const char* what) const {
  if (rank < 0 || rank >= size_)
    throw CommError(std::string(what) + ": rank " + std::to_string(rank) + " outside 0.." + std::to_string(size_ - 1));
}

std::unique_ptr<Transport> MemoryNetwork::endpoint(int rank, std::map<int, LinkSpec> links) {
  check_rank(rank, "endpoint");
  for (const auto& [peer, spec] : links) check_rank(peer, "link");
  std::lock_guard<std::mutex> lock(mutex_);
  Rank& slot = *ranks_[rank];
  if (slot.taken) throw CommError("endpoint: rank " + std::to_string(rank) + " already has its transport");
  slot.taken = true;
  slot.emulator = LinkEmulator(std::move(links));
  return std::make_unique<MemoryEndpoint>(shared_from_this(), rank);
}

void MemoryNetwork::drop_next(int from, int to, MessageType type, int count) {
  check_rank(from, "drop_next");
  check_rank(to, "drop_next");
  std::lock_guard<std::mutex> lock(mutex_);
  drop_rules_.push_back({from, to, type, count});
}

void MemoryNetwork::cut(int rank) {
  check_rank(rank, "cut");
  std::lock_guard<std::mutex> lock(mutex_);
  cut_.insert(rank);
}

void MemoryNetwork::heal(int rank) {
  check_rank(rank, "heal");
  std::lock_guard<std::mutex> lock(mutex_);
  cut_.erase(rank);
}

void MemoryNetwork::kill(int rank) {
  check_rank(rank, "kill");
  {
    std::lock_guard<std::mutex> lock(mutex_);
    killed_.insert(rank);
    ranks_[rank]->inbox.clear();
  }
  arrived_.notify_all();  // its own receive() wakes and throws
}

uint64_t MemoryNetwork::lost() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return lost_;
}

bool MemoryNetwork::loses(int from, int to, MessageType type) {
  if (cut_.count(from) || cut_.count(to) || killed_.count(from) || killed_.count(to)) return true;
  for (auto& rule : drop_rules_) {
    if (rule.count > 0 && rule.from == from && rule.to == to && rule.type == type) {
      --rule.count;
      return true;
    }
  }
  return false;
}

void MemoryNetwork::deliver_due(Clock::time_point now) {
  bool delivered = false;
  for (int from = 0; from < size_; ++from) {
    for (auto& frame : ranks_[from]->emulator.take_due(now)) {
      const FrameView view = parse_frame(frame.wire.data(), frame.wire.size());
      if (loses(from, frame.peer, view.header.type)) {
        ++lost_;
        continue;
      }
      Rank& to = *ranks_[frame.peer];
      auto& received = to.stats[from];
      ++received.messages_received;
      received.bytes_received += frame.wire.size();
      to.inbox.push_back(Message{view.header, std::vector<uint8_t>(view.body, view.body + view.body_size)});
      delivered = true;
    }
  }
  if (delivered) arrived_.notify_all();
}

Clock::time_point MemoryNetwork::next_release(Clock::time_point deadline) const {
  Clock::time_point next = deadline;
  for (const auto& rank : ranks_) {
    if (auto release = rank->emulator.next_release()) next = std::min(next, *release);
  }
  return next;
}

void MemoryEndpoint::check_usable(const char* what) const {
  if (network_->killed_.count(rank_))
    throw CommError(std::string(what) + ": rank " + std::to_string(rank_) + " was killed");
  if (me().closed) throw CommError(std::string(what) + " after shutdown");
}

void MemoryEndpoint::send(int destination, MessageType type, std::vector<uint8_t> payload) {
  network_->check_rank(destination, "send");
  std::unique_lock<std::mutex> lock(network_->mutex_);
  check_usable("send");
  auto& self = me();
  Header header{uint32_t(rank_), uint32_t(destination), 0, type, 0, static_cast<uint32_t>(payload.size())};
  if (destination == rank_) {
    self.inbox.push_back(Message{header, std::move(payload)});
    return;
  }
  header.sequence = ++self.sequence[destination];
  std::vector<uint8_t> wire = encode(header, payload);
  if (self.hook) self.hook(destination, type, wire);
  submit(destination, type, std::move(wire));
  lock.unlock();
  network_->arrived_.notify_all();  // a frame without link delay is due now
}

void MemoryEndpoint::send_wire(int destination, std::vector<uint8_t> wire) {
  network_->check_rank(destination, "send_wire");
  if (destination == rank_) throw CommError("send_wire: destination is this rank");
  {
    std::lock_guard<std::mutex> lock(network_->mutex_);
    check_usable("send_wire");
    submit(destination, decode_header(wire.data(), wire.size()).type, std::move(wire));
  }
  network_->arrived_.notify_all();
}

void MemoryEndpoint::submit(int destination, MessageType type, std::vector<uint8_t> wire) {
  auto& self = me();
  if (self.abandoned.count(destination)) return;  // the peer was declared dead: discard
  auto& sent = self.stats[destination];
  ++sent.messages_sent;
  sent.bytes_sent += wire.size();
  // A run's report is measurement, not workload: it must not hold the emulated link.
  self.emulator.submit(destination, std::move(wire), Clock::now(), type != MessageType::kReport);
}

std::optional<Message> MemoryEndpoint::receive(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::unique_lock<std::mutex> lock(network_->mutex_);
  while (true) {
    check_usable("receive");
    network_->deliver_due(Clock::now());
    auto& inbox = me().inbox;
    if (!inbox.empty()) {
      Message message = std::move(inbox.front());
      inbox.pop_front();
      return message;
    }
    if (Clock::now() >= deadline) return std::nullopt;
    network_->arrived_.wait_until(lock, network_->next_release(deadline));
  }
}

LinkStats MemoryEndpoint::stats(int peer) const {
  network_->check_rank(peer, "stats");
  std::lock_guard<std::mutex> lock(network_->mutex_);
  return me().stats[peer];
}

void MemoryEndpoint::shutdown() {
  std::lock_guard<std::mutex> lock(network_->mutex_);
  me().closed = true;
}

ProcessLiveness MemoryEndpoint::peer_process_alive(int rank) const {
  network_->check_rank(rank, "peer_process_alive");
  std::lock_guard<std::mutex> lock(network_->mutex_);
  return network_->killed_.count(rank) ? ProcessLiveness::kDead : ProcessLiveness::kUnknown;
}

void MemoryEndpoint::abandon_peer(int rank) {
  network_->check_rank(rank, "abandon_peer");
  std::lock_guard<std::mutex> lock(network_->mutex_);
  me().abandoned.insert(rank);
  me().emulator.drop(rank);
}

void MemoryEndpoint::restore_peer(int rank) {
  network_->check_rank(rank, "restore_peer");
  std::lock_guard<std::mutex> lock(network_->mutex_);
  me().abandoned.erase(rank);
}

void MemoryEndpoint::set_outgoing_hook(OutgoingHook hook) {
  std::lock_guard<std::mutex> lock(network_->mutex_);
  me().hook = std::move(hook);
}

}  // namespace hddnn::comm
