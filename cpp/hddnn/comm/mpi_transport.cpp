// MpiTransport: Transport over MPI point-to-point.
//
// Routes: an MpiFabric says over which communicator each rank is reached (one job, or
// several joined jobs); the transport runs one MpiChannel per communicator. A route
// that appears after start (a lost host's job came back) replaces the rank's old one:
// the old session is dropped, a hello goes out over the new route, and the rank's next
// hello is accepted. A channel over another job's intercommunicator that fails (its host
// is gone) is retired, never fatal.
// Progress model: a progress thread owns all MPI traffic after construction. It
// releases frames from the link emulator when due (MPI_Isend), matches and receives
// arrived frames (MPI_Improbe + MPI_Imrecv), opens them and queues the messages for
// poll()/receive(), and reaps completed sends. It sleeps for idle_wait when there is
// nothing to do, or until the next emulated release, and wakes on every send().
// Callers never touch MPI: send() seals, runs the hook and queues; poll/receive read
// the inbox. MPI_THREAD_MULTIPLE is required because the application may make its
// own MPI calls while the progress thread runs.
#include "hddnn/comm/mpi_transport.hpp"

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <set>
#include <thread>

#include "hddnn/comm/link_emulator.hpp"
#include "hddnn/comm/mpi_channel.hpp"
#include "hddnn/comm/mpi_check.hpp"
#include "hddnn/comm/mpi_env.hpp"
#include "hddnn/comm/mpi_fabric.hpp"
#include "hddnn/crypto/handshake.hpp"
#include "hddnn/wire/wire_format.hpp"

namespace hddnn::comm {

Transport::~Transport() = default;

namespace {

using Clock = std::chrono::steady_clock;

class MpiTransport final : public Transport {
 public:
  MpiTransport(std::shared_ptr<MpiFabric> fabric, TransportOptions options);
  ~MpiTransport() override { shutdown(); }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void send(int destination, MessageType type, std::vector<uint8_t> payload) override;
  std::optional<Message> poll() override;
  std::optional<Message> receive(std::chrono::milliseconds timeout) override;
  LinkStats stats(int peer) const override;
  uint64_t rejected() const override;
  uint64_t rejected(crypto::Rejection reason) const override { return rejections_[static_cast<int>(reason)]; }
  bool encrypted() const override { return handshake_.has_value(); }
  void shutdown() override;
  ProcessLiveness peer_process_alive(int rank) const override { return directory_.peer_process_alive(rank); }
  void abandon_peer(int rank) override;
  void restore_peer(int rank) override;
  void set_outgoing_hook(OutgoingHook hook) override;
  void send_wire(int destination, std::vector<uint8_t> wire) override;

 private:
  void check_peer(int rank, const char* what) const;
  void rethrow_progress_error();
  std::vector<uint8_t> frame_for(int destination, MessageType type, const std::vector<uint8_t>& payload);
  void submit(int destination, std::vector<uint8_t> wire, bool occupies_link = true);
  void deliver(Message message);
  void count_rejection(crypto::Rejection reason) { ++rejections_[static_cast<int>(reason)]; }

  void handshake(std::chrono::milliseconds timeout);
  /// Installs the fabric's new routes; a rank routed anew gets a fresh hello.
  void install_new_routes();
  void post_send(int peer, std::vector<uint8_t> wire);
  /// Runs `step` on every live channel; a failing intercommunicator is retired.
  template <typename Step>
  size_t for_each_channel(Step step);
  void progress_loop();
  bool release_due_frames(bool flush_all);
  bool receive_arrivals();
  void handle_arrival(int source, const std::vector<uint8_t>& wire);
  void handle_hello(int source, const std::vector<uint8_t>& wire);
  void apply_abandoned_peers();
  void wait_for_work();
  void linger();
  void abandon_after_error() noexcept;

  std::shared_ptr<MpiFabric> fabric_;
  int rank_ = 0;
  int size_ = 0;
  TransportOptions options_;
  ProcessDirectory directory_;
  std::optional<crypto::Handshake> handshake_;
  struct Route {  // one communicator's channel and the run ranks it reaches
    Span span;
    std::unique_ptr<MpiChannel> channel;
    bool retired = false;
  };
  std::vector<Route> routes_;  // progress thread only (and the constructor)
  std::vector<int> route_of_;  // run rank -> index in routes_ (-1: none yet)

  std::mutex send_mutex_;  // seal + hook + submit, so a link's frames queue in sequence order
  OutgoingHook hook_;
  std::vector<uint64_t> plain_sequence_;

  mutable std::mutex sessions_mutex_;
  std::map<int, crypto::LinkSession> sessions_;
  std::set<int> rehello_;         // ranks routed anew: their next hello replaces the session
  std::set<int> expected_peers_;  // ranks routed at construction: the handshake waits for them
  std::condition_variable sessions_cv_;

  std::mutex queue_mutex_;  // emulator, abandoned peers, stop flag
  std::condition_variable queue_cv_;
  LinkEmulator emulator_;
  std::set<int> abandoned_peers_;
  std::set<int> peers_to_cancel_;
  uint64_t submissions_ = 0;  // wakes the progress thread on every submit
  bool stopping_ = false;

  std::mutex inbox_mutex_;
  std::condition_variable inbox_cv_;
  std::deque<Message> inbox_;
  std::exception_ptr progress_error_;
  bool progress_ended_ = false;

  mutable std::mutex stats_mutex_;
  std::vector<LinkStats> stats_;
  std::array<std::atomic<uint64_t>, crypto::kRejectionKinds> rejections_{};

  std::mutex shutdown_mutex_;
  std::thread progress_;
};

std::shared_ptr<MpiFabric> require_thread_multiple(std::shared_ptr<MpiFabric> fabric) {
  int provided = 0;
  MPI_CHECK(MPI_Query_thread(&provided));
  if (provided < MPI_THREAD_MULTIPLE)
    throw CommError("MPI transport needs MPI_THREAD_MULTIPLE (initialise MPI with comm::ensure_initialized)");
  return fabric;
}

MpiTransport::MpiTransport(std::shared_ptr<MpiFabric> fabric, TransportOptions options)
    : fabric_(require_thread_multiple(std::move(fabric))),
      rank_(fabric_->rank()),
      size_(fabric_->size()),
      options_(std::move(options)),
      directory_(ProcessDirectory::gather(fabric_->job(), fabric_->first_rank(), size_)),
      route_of_(size_, -1),
      plain_sequence_(size_, 0),
      emulator_(options_.emulate ? options_.links : std::map<int, LinkSpec>{}),
      stats_(size_) {
  for (const auto& [peer, spec] : options_.links) check_peer(peer, "link");
  if (options_.key) handshake_.emplace(*options_.key, rank_);
  install_new_routes();
  for (int peer = 0; peer < size_; ++peer) {
    if (peer != rank_ && route_of_[peer] >= 0) expected_peers_.insert(peer);
  }
  rehello_.clear();
  progress_ = std::thread([this] { progress_loop(); });
  if (handshake_) handshake(options_.handshake_timeout);
}

void MpiTransport::check_peer(int rank, const char* what) const {
  if (rank < 0 || rank >= size_)
    throw CommError(std::string(what) + ": rank " + std::to_string(rank) + " outside 0.." + std::to_string(size_ - 1));
}

void MpiTransport::handshake(std::chrono::milliseconds timeout) {
  for (int peer : expected_peers_) submit(peer, handshake_->hello_frame(peer));
  std::unique_lock<std::mutex> lock(sessions_mutex_);
  auto every_session = [&] {
    for (int peer : expected_peers_) {
      if (!sessions_.count(peer)) return false;
    }
    return true;
  };
  if (sessions_cv_.wait_for(lock, timeout, every_session)) return;
  std::string missing;
  for (int peer : expected_peers_) {
    if (sessions_.count(peer) == 0) missing += (missing.empty() ? "" : ", ") + std::to_string(peer);
  }
  lock.unlock();
  shutdown();
  throw CommError("transport handshake on rank " + std::to_string(rank_) + ": no valid hello from rank(s) " + missing +
                  " within " + std::to_string(timeout.count()) + " ms");
}

// ---- routes --------------------------------------------------------------------

void MpiTransport::install_new_routes() {
  for (auto& span : fabric_->take_new_spans()) {
    const int index = static_cast<int>(routes_.size());
    routes_.push_back(Route{span, std::make_unique<MpiChannel>(span.comm, options_.tag)});
    for (int peer = span.first_rank; peer < span.first_rank + span.size; ++peer) {
      if (peer == rank_) continue;
      const bool rerouted = route_of_[peer] >= 0;
      route_of_[peer] = index;
      {
        std::lock_guard<std::mutex> lock(sessions_mutex_);
        sessions_.erase(peer);
        rehello_.insert(peer);
      }
      if (!progress_.joinable()) continue;  // the constructor's handshake greets it
      if (rerouted) restore_peer(peer);
      if (!handshake_) continue;
      try {
        submit(peer, handshake_->hello_frame(peer));
      } catch (const CommError&) {
        return;  // shutting down
      }
    }
  }
}

void MpiTransport::post_send(int peer, std::vector<uint8_t> wire) {
  const int index = route_of_[peer];
  if (index < 0 || routes_[index].retired) return;  // no way to the peer: lost, as toward a dead one
  const Span& span = routes_[index].span;
  try {
    routes_[index].channel->post_send(peer - span.first_rank, std::move(wire));
  } catch (const CommError&) {
    if (!span.intercomm) throw;
    routes_[index].retired = true;
    mark_peer_failure();
  }
}

template <typename Step>
size_t MpiTransport::for_each_channel(Step step) {
  size_t total = 0;
  for (auto& route : routes_) {
    if (route.retired) continue;
    try {
      total += step(route);
    } catch (const CommError&) {
      if (!route.span.intercomm) throw;
      // Another job's host is gone: what was pending over it is given up.
      route.retired = true;
      try {
        route.channel->abandon_all();
      } catch (...) {
      }
      mark_peer_failure();
    }
  }
  return total;
}

// ---- sending -------------------------------------------------------------------

std::vector<uint8_t> MpiTransport::frame_for(int destination, MessageType type, const std::vector<uint8_t>& payload) {
  if (!handshake_) {
    Header header{uint32_t(rank_),
                  uint32_t(destination),
                  ++plain_sequence_[destination],
                  type,
                  0,
                  static_cast<uint32_t>(payload.size())};
    return encode(header, payload);
  }
  std::lock_guard<std::mutex> lock(sessions_mutex_);
  auto session = sessions_.find(destination);
  // No session: a rank not reached yet (its job is being joined) or routed anew and not
  // heard from; like a frame toward a dead peer, it is lost.
  if (session == sessions_.end()) return {};
  return session->second.seal(type, payload.data(), payload.size());
}

void MpiTransport::send(int destination, MessageType type, std::vector<uint8_t> payload) {
  rethrow_progress_error();
  check_peer(destination, "send");
  if (payload.size() > kMaxPayloadBytes - crypto::kSealBytes)
    throw CommError("send: payload of " + std::to_string(payload.size()) + " bytes above the wire limit");
  if (destination == rank_) {
    Header header{uint32_t(rank_), uint32_t(rank_), 0, type, 0, static_cast<uint32_t>(payload.size())};
    deliver(Message{header, std::move(payload)});
    return;
  }
  std::lock_guard<std::mutex> lock(send_mutex_);
  std::vector<uint8_t> wire = frame_for(destination, type, payload);
  if (wire.empty()) return;
  if (hook_) hook_(destination, type, wire);
  // A run's report is measurement, not workload: it must not hold the emulated link.
  submit(destination, std::move(wire), type != MessageType::kReport);
}

void MpiTransport::send_wire(int destination, std::vector<uint8_t> wire) {
  rethrow_progress_error();
  check_peer(destination, "send_wire");
  if (destination == rank_) throw CommError("send_wire: destination is this rank");
  std::lock_guard<std::mutex> lock(send_mutex_);
  submit(destination, std::move(wire));
}

void MpiTransport::submit(int destination, std::vector<uint8_t> wire, bool occupies_link) {
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    if (stopping_) throw CommError("send after shutdown");
    if (abandoned_peers_.count(destination)) return;  // the peer was declared dead: discard
    emulator_.submit(destination, std::move(wire), Clock::now(), occupies_link);
    ++submissions_;
  }
  queue_cv_.notify_one();
}

void MpiTransport::set_outgoing_hook(OutgoingHook hook) {
  std::lock_guard<std::mutex> lock(send_mutex_);
  hook_ = std::move(hook);
}

void MpiTransport::abandon_peer(int rank) {
  check_peer(rank, "abandon_peer");
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    abandoned_peers_.insert(rank);
    peers_to_cancel_.insert(rank);
    emulator_.drop(rank);
  }
  queue_cv_.notify_one();
}

void MpiTransport::restore_peer(int rank) {
  check_peer(rank, "restore_peer");
  std::lock_guard<std::mutex> lock(queue_mutex_);
  abandoned_peers_.erase(rank);
  peers_to_cancel_.erase(rank);
}

// ---- receiving -----------------------------------------------------------------

void MpiTransport::deliver(Message message) {
  {
    std::lock_guard<std::mutex> lock(inbox_mutex_);
    inbox_.push_back(std::move(message));
  }
  inbox_cv_.notify_all();
}

void MpiTransport::rethrow_progress_error() {
  std::lock_guard<std::mutex> lock(inbox_mutex_);
  if (progress_error_) std::rethrow_exception(progress_error_);
}

std::optional<Message> MpiTransport::poll() {
  std::lock_guard<std::mutex> lock(inbox_mutex_);
  if (progress_error_) std::rethrow_exception(progress_error_);
  if (inbox_.empty()) return std::nullopt;
  Message message = std::move(inbox_.front());
  inbox_.pop_front();
  return message;
}

std::optional<Message> MpiTransport::receive(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(inbox_mutex_);
  inbox_cv_.wait_for(lock, timeout, [&] { return !inbox_.empty() || progress_error_ || progress_ended_; });
  if (progress_error_) std::rethrow_exception(progress_error_);
  if (inbox_.empty()) return std::nullopt;
  Message message = std::move(inbox_.front());
  inbox_.pop_front();
  return message;
}

LinkStats MpiTransport::stats(int peer) const {
  check_peer(peer, "stats");
  std::lock_guard<std::mutex> lock(stats_mutex_);
  return stats_[peer];
}

uint64_t MpiTransport::rejected() const {
  uint64_t total = 0;
  for (const auto& count : rejections_) total += count;
  return total;
}

// ---- progress thread -----------------------------------------------------------

void MpiTransport::progress_loop() {
  try {
    while (true) {
      {
        std::lock_guard<std::mutex> lock(queue_mutex_);
        if (stopping_) break;
      }
      install_new_routes();
      apply_abandoned_peers();
      bool busy = release_due_frames(false);
      busy = receive_arrivals() || busy;
      busy = for_each_channel([](Route& route) { return route.channel->reap_sends(); }) > 0 || busy;
      if (!busy) wait_for_work();
    }
    linger();
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(inbox_mutex_);
      progress_error_ = std::current_exception();
    }
    abandon_after_error();
  }
  {
    std::lock_guard<std::mutex> lock(inbox_mutex_);
    progress_ended_ = true;
  }
  inbox_cv_.notify_all();
}

bool MpiTransport::release_due_frames(bool flush_all) {
  std::vector<LinkEmulator::Frame> due;
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    due = emulator_.take_due(flush_all ? Clock::time_point::max() : Clock::now());
  }
  for (auto& frame : due) {
    {
      std::lock_guard<std::mutex> lock(stats_mutex_);
      stats_[frame.peer].messages_sent += 1;
      stats_[frame.peer].bytes_sent += frame.wire.size();
    }
    post_send(frame.peer, std::move(frame.wire));
  }
  return !due.empty();
}

bool MpiTransport::receive_arrivals() {
  const size_t arrived = for_each_channel([&](Route& route) {
    auto arrivals = route.channel->take_arrivals();
    for (const auto& arrival : arrivals) {
      const int source = route.span.first_rank + arrival.source;
      {
        std::lock_guard<std::mutex> lock(stats_mutex_);
        stats_[source].messages_received += 1;
        stats_[source].bytes_received += arrival.wire.size();
      }
      handle_arrival(source, arrival.wire);
    }
    return arrivals.size();
  });
  return arrived > 0;
}

void MpiTransport::handle_arrival(int source, const std::vector<uint8_t>& wire) {
  if (wire.size() > kHeaderBytes + 2 && wire[3] == static_cast<uint8_t>(MessageType::kHello) && handshake_)
    return handle_hello(source, wire);
  if (!handshake_) {
    try {
      FrameView frame = parse_frame(wire.data(), wire.size());
      if (frame.header.source != uint32_t(source) || frame.header.destination != uint32_t(rank_))
        return count_rejection(crypto::Rejection::kMisaddressed);
      deliver(Message{frame.header, std::vector<uint8_t>(frame.body, frame.body + frame.body_size)});
    } catch (const CommError&) {
      count_rejection(crypto::Rejection::kMalformed);
    }
    return;
  }
  std::unique_lock<std::mutex> lock(sessions_mutex_);
  auto session = sessions_.find(source);
  if (session == sessions_.end()) return count_rejection(crypto::Rejection::kNoSession);
  crypto::OpenResult opened = session->second.open(wire.data(), wire.size());
  lock.unlock();
  if (!opened.message) return count_rejection(opened.rejection);
  deliver(std::move(*opened.message));
}

void MpiTransport::handle_hello(int source, const std::vector<uint8_t>& wire) {
  std::optional<crypto::LinkSession> session;
  try {
    FrameView frame = parse_frame(wire.data(), wire.size());
    if (frame.header.source != uint32_t(source)) return count_rejection(crypto::Rejection::kMisaddressed);
    session = handshake_->accept_hello(frame);
  } catch (const CommError&) {
    return count_rejection(crypto::Rejection::kMalformed);
  }
  if (!session) return count_rejection(crypto::Rejection::kForged);
  {
    std::lock_guard<std::mutex> lock(sessions_mutex_);
    if (sessions_.count(source) && !rehello_.count(source)) return count_rejection(crypto::Rejection::kUnexpectedHello);
    rehello_.erase(source);
    sessions_.insert_or_assign(source, std::move(*session));
  }
  sessions_cv_.notify_all();
}

void MpiTransport::apply_abandoned_peers() {
  std::set<int> peers;
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    peers.swap(peers_to_cancel_);
  }
  size_t abandoned = 0;
  for (int peer : peers) {
    const int index = route_of_[peer];
    if (index < 0 || routes_[index].retired) continue;
    abandoned += routes_[index].channel->cancel_toward(peer - routes_[index].span.first_rank);
  }
  if (abandoned > 0) mark_peer_failure();
}

void MpiTransport::wait_for_work() {
  if (options_.idle_wait.count() == 0) {
    std::this_thread::yield();
    return;
  }
  std::unique_lock<std::mutex> lock(queue_mutex_);
  auto until = Clock::now() + options_.idle_wait;
  if (auto next = emulator_.next_release()) until = std::min(until, *next);
  const uint64_t seen = submissions_;
  queue_cv_.wait_until(lock, until, [&] { return stopping_ || submissions_ != seen || !peers_to_cancel_.empty(); });
}

// After a failed MPI call: give up on every pending request, so no buffer MPI may
// still use is freed, and skip MPI_Finalize.
void MpiTransport::abandon_after_error() noexcept {
  for (auto& route : routes_) {
    try {
      route.channel->abandon_all();
    } catch (...) {
    }
  }
  mark_peer_failure();
}

// Flushes queued frames (released at once) and waits up to shutdown_linger for the
// sends to complete, still receiving meanwhile; then abandons what is left.
void MpiTransport::linger() {
  auto deadline = Clock::now() + options_.shutdown_linger;
  release_due_frames(true);
  auto pending = [&] { return for_each_channel([](Route& route) { return route.channel->pending_sends(); }); };
  while (pending() > 0 && Clock::now() < deadline) {
    receive_arrivals();
    if (for_each_channel([](Route& route) { return route.channel->reap_sends(); }) == 0)
      std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  if (for_each_channel([](Route& route) { return route.channel->abandon_all(); }) > 0) mark_peer_failure();
}

void MpiTransport::shutdown() {
  std::lock_guard<std::mutex> guard(shutdown_mutex_);
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (progress_.joinable()) progress_.join();
}

}  // namespace

std::unique_ptr<Transport> make_mpi_transport(std::shared_ptr<MpiFabric> fabric, TransportOptions options) {
  return std::make_unique<MpiTransport>(std::move(fabric), std::move(options));
}

std::unique_ptr<Transport> make_mpi_transport(MPI_Comm comm, TransportOptions options) {
  return make_mpi_transport(MpiFabric::single_job(comm), std::move(options));
}

}  // namespace hddnn::comm
