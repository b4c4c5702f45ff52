#include "hddnn/comm/mpi_fabric.hpp"

#include <set>
#include <thread>

#include "hddnn/comm/mpi_check.hpp"

namespace hddnn::comm {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kJoinTag = 1;

MPI_Comm duplicate_with_errors_returned(MPI_Comm comm) {
  MPI_Comm copy = MPI_COMM_NULL;
  MPI_CHECK(MPI_Comm_dup(comm, &copy));
  MPI_CHECK(MPI_Comm_set_errhandler(copy, MPI_ERRORS_RETURN));
  return copy;
}

void send_ranks(MPI_Comm comm, const std::vector<int>& ranks) {
  MPI_CHECK(MPI_Send(ranks.data(), static_cast<int>(ranks.size()), MPI_INT, 0, kJoinTag, comm));
}

std::vector<int> receive_ranks(MPI_Comm comm) {
  MPI_Status status;
  MPI_CHECK(MPI_Probe(0, kJoinTag, comm, &status));
  int count = 0;
  MPI_CHECK(MPI_Get_count(&status, MPI_INT, &count));
  std::vector<int> ranks(static_cast<size_t>(count));
  MPI_CHECK(MPI_Recv(ranks.data(), count, MPI_INT, 0, kJoinTag, comm, MPI_STATUS_IGNORE));
  return ranks;
}

std::string list(const std::vector<int>& ranks) {
  std::string text;
  for (int rank : ranks) text += (text.empty() ? "" : ", ") + std::to_string(rank);
  return text;
}

}  // namespace

MpiFabric::MpiFabric(MPI_Comm job, int first_rank, int size, bool joined)
    : job_(duplicate_with_errors_returned(job)), first_rank_(first_rank), size_(size), joined_(joined) {
  MPI_CHECK(MPI_Comm_rank(job_, &job_rank_));
  MPI_CHECK(MPI_Comm_size(job_, &job_size_));
  if (first_rank_ < 0 || first_rank_ + job_size_ > size_)
    throw CommError("fabric: this job's " + std::to_string(job_size_) + " ranks from rank " +
                    std::to_string(first_rank_) + " do not fit a run of " + std::to_string(size_) + " ranks");
  for (int peer = 0; peer < job_size_; ++peer) {
    if (peer != job_rank_) routes_.push_back(Route{first_rank_ + peer, job_, peer});
  }
}

MpiFabric::~MpiFabric() = default;

std::shared_ptr<MpiFabric> MpiFabric::single_job(MPI_Comm comm) {
  int size = 0;
  MPI_CHECK(MPI_Comm_size(comm, &size));
  std::shared_ptr<MpiFabric> fabric(new MpiFabric(comm, 0, size, false));
  fabric->handed_out_ = fabric->routes_.size();
  return fabric;
}

std::shared_ptr<MpiFabric> MpiFabric::joined_jobs(MPI_Comm job, const JoinOptions& options) {
  std::shared_ptr<MpiFabric> fabric(new MpiFabric(job, options.first_rank, options.size, true));
  MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
  fabric->open_and_publish(options.run_id);
  const int me = fabric->rank();
  const int job_end = fabric->first_rank_ + fabric->job_size_;
  auto in_my_job = [&](int rank) { return rank >= fabric->first_rank_ && rank < job_end; };
  // A process connects first and accepts only afterwards: Open MPI 4.1.4 can deadlock when
  // one process connects while a thread of it accepts. Connecting only to lower ranks, and
  // accepting only once done, no process waits on one that waits on it.
  if (options.rejoin) {
    if (in_my_job(options.coordinator)) throw CommError("fabric: the coordinator's job cannot rejoin a run");
    for (int live : fabric->connect_to(options.coordinator, options)) {
      if (live != options.coordinator && live != me && !in_my_job(live)) fabric->connect_to(live, options);
    }
  } else {
    for (int lower = 0; lower < me; ++lower) {
      if (!in_my_job(lower)) fabric->connect_to(lower, options);
    }
  }
  // The acceptor runs for the rest of the process and keeps the fabric alive with it.
  std::thread([fabric] { fabric->accept_loop(); }).detach();
  if (!options.rejoin) fabric->await_routes(options);
  std::lock_guard<std::mutex> lock(fabric->mutex_);
  fabric->handed_out_ = fabric->routes_.size();
  return fabric;
}

std::string MpiFabric::service_name(int rank) const { return "hddnn." + run_id_ + "." + std::to_string(rank); }

void MpiFabric::open_and_publish(const std::string& run_id) {
  run_id_ = run_id;
  char port[MPI_MAX_PORT_NAME] = {};
  MPI_CHECK(MPI_Open_port(MPI_INFO_NULL, port));
  port_ = port;
  // A rejoining process publishes over its dead predecessor's name: the newest one wins.
  MPI_CHECK(MPI_Publish_name(service_name(rank()).c_str(), MPI_INFO_NULL, port));
}

void MpiFabric::accept_loop() {
  while (true) {
    MPI_Comm peer = MPI_COMM_NULL;
    if (MPI_Comm_accept(port_.c_str(), MPI_INFO_NULL, 0, MPI_COMM_SELF, &peer) != MPI_SUCCESS) return;
    try {
      MPI_CHECK(MPI_Comm_set_errhandler(peer, MPI_ERRORS_RETURN));
      const auto hello = receive_ranks(peer);
      if (hello.size() != 1 || hello[0] < 0 || hello[0] >= size_) continue;  // not one of the run's ranks
      send_ranks(peer, answer_for_peer());
      std::lock_guard<std::mutex> lock(mutex_);
      routes_.push_back(Route{hello[0], peer, 0});
    } catch (const CommError&) {
      continue;  // the connecting process died half-way: it may come again
    }
  }
}

std::vector<int> MpiFabric::connect_to(int rank, const JoinOptions& options) {
  const auto deadline = Clock::now() + options.timeout;
  char port[MPI_MAX_PORT_NAME] = {};
  // The peer's job may start later than this one: wait for its name.
  while (MPI_Lookup_name(service_name(rank).c_str(), MPI_INFO_NULL, port) != MPI_SUCCESS) {
    if (Clock::now() > deadline)
      throw CommError("fabric: rank " + std::to_string(rank) + " published no port within " +
                      std::to_string(options.timeout.count()) + " ms (is its host's job running?)");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  MPI_Comm peer = MPI_COMM_NULL;
  MPI_CHECK(MPI_Comm_connect(port, MPI_INFO_NULL, 0, MPI_COMM_SELF, &peer));
  MPI_CHECK(MPI_Comm_set_errhandler(peer, MPI_ERRORS_RETURN));
  send_ranks(peer, {this->rank()});
  auto live = receive_ranks(peer);
  std::lock_guard<std::mutex> lock(mutex_);
  routes_.push_back(Route{rank, peer, 0});
  return live;
}

void MpiFabric::await_routes(const JoinOptions& options) {
  const auto deadline = Clock::now() + options.timeout;
  while (true) {
    std::set<int> reached;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const auto& route : routes_) reached.insert(route.rank);
    }
    std::vector<int> missing;
    for (int rank = 0; rank < size_; ++rank) {
      if (rank != this->rank() && !reached.count(rank)) missing.push_back(rank);
    }
    if (missing.empty()) return;
    if (Clock::now() > deadline)
      throw CommError("fabric: rank(s) " + list(missing) + " did not connect within " +
                      std::to_string(options.timeout.count()) + " ms");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::vector<int> MpiFabric::answer_for_peer() {
  std::function<std::vector<int>()> live;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    live = live_peers_;
  }
  if (live) return live();
  std::vector<int> all(static_cast<size_t>(size_));
  for (int rank = 0; rank < size_; ++rank) all[static_cast<size_t>(rank)] = rank;
  return all;
}

std::vector<Route> MpiFabric::initial_routes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::vector<Route>(routes_.begin(), routes_.begin() + static_cast<std::ptrdiff_t>(handed_out_));
}

std::vector<Route> MpiFabric::take_new_routes() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Route> fresh(routes_.begin() + static_cast<std::ptrdiff_t>(handed_out_), routes_.end());
  handed_out_ = routes_.size();
  return fresh;
}

void MpiFabric::set_live_peers(std::function<std::vector<int>()> live_peers) {
  std::lock_guard<std::mutex> lock(mutex_);
  live_peers_ = std::move(live_peers);
}

}  // namespace hddnn::comm
