#include "hddnn/comm/mpi_fabric.hpp"

#include <iostream>

#include "hddnn/comm/mpi_check.hpp"
#include "hddnn/errors.hpp"

namespace hddnn::comm {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kJoinTag = 31001;  // the job-index exchange on a new intercommunicator

MPI_Comm duplicate_with_errors_returned(MPI_Comm comm) {
  MPI_Comm copy = MPI_COMM_NULL;
  MPI_CHECK(MPI_Comm_dup(comm, &copy));
  MPI_CHECK(MPI_Comm_set_errhandler(copy, MPI_ERRORS_RETURN));
  return copy;
}

/// Waits for a request without spinning a core (Open MPI's blocking calls busy-poll).
void wait_quietly(MPI_Request& request) {
  while (true) {
    int done = 0;
    MPI_CHECK(MPI_Test(&request, &done, MPI_STATUS_IGNORE));
    if (done) return;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

}  // namespace

int JobLayout::job_of(int rank) const {
  if (rank < 0 || rank >= size) throw ConfigError("job layout: rank " + std::to_string(rank) + " outside the run");
  int job = 0;
  while (job + 1 < static_cast<int>(first_ranks.size()) && first_ranks[job + 1] <= rank) ++job;
  return job;
}

int JobLayout::job_size(int job) const {
  const int end = job + 1 < static_cast<int>(first_ranks.size()) ? first_ranks[job + 1] : size;
  return end - first_ranks.at(job);
}

MpiFabric::MpiFabric(MPI_Comm job, int first_rank, int size, bool joined)
    : job_(duplicate_with_errors_returned(job)), first_rank_(first_rank), size_(size), joined_(joined) {
  MPI_CHECK(MPI_Comm_rank(job_, &job_rank_));
  MPI_CHECK(MPI_Comm_size(job_, &job_size_));
  spans_.push_back(Span{job_, first_rank_, job_size_, false});
}

MpiFabric::~MpiFabric() = default;

std::shared_ptr<MpiFabric> MpiFabric::single_job(MPI_Comm comm) {
  int size = 0;
  MPI_CHECK(MPI_Comm_size(comm, &size));
  return std::shared_ptr<MpiFabric>(new MpiFabric(comm, 0, size, false));
}

std::shared_ptr<MpiFabric> MpiFabric::joined_jobs(MPI_Comm job, const JobLayout& layout) {
  const int jobs = static_cast<int>(layout.first_ranks.size());
  if (layout.job < 0 || layout.job >= jobs || layout.first_ranks.front() != 0)
    throw ConfigError("job layout: job " + std::to_string(layout.job) + " of " + std::to_string(jobs) +
                      " (first ranks must start at 0)");
  std::shared_ptr<MpiFabric> fabric(new MpiFabric(job, layout.first_ranks[layout.job], layout.size, true));
  if (fabric->job_size_ != layout.job_size(layout.job))
    throw ConfigError("job layout: job " + std::to_string(layout.job) + " should hold " +
                      std::to_string(layout.job_size(layout.job)) + " ranks, but " + std::to_string(fabric->job_size_) +
                      " were started");
  fabric->layout_ = layout;
  fabric->mates_ = std::make_unique<ProcessDirectory>(ProcessDirectory::gather(fabric->job_));
  MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
  if (fabric->job_rank_ == 0) {
    char port[MPI_MAX_PORT_NAME] = {};
    MPI_CHECK(MPI_Open_port(MPI_INFO_NULL, port));
    fabric->port_ = port;
  }
  if (layout.rejoin) {
    fabric->ignore_earlier_rejoins();
    fabric->publish(fabric->name("rejoin" + std::to_string(layout.job)));
  } else {
    fabric->publish(fabric->name("job" + std::to_string(layout.job)));
    fabric->start_joined();
  }
  // The follower keeps the fabric alive until stop().
  std::thread([fabric] { fabric->follow_rejoins(); }).detach();
  return fabric;
}

void MpiFabric::stop() { stopping_ = true; }

std::string MpiFabric::name(const std::string& what) const { return "hddnn." + layout_.run_id + "." + what; }

void MpiFabric::publish(const std::string& service) {
  // A restarted job publishes over its dead predecessor's name: the newest one wins.
  if (job_rank_ == 0) MPI_CHECK(MPI_Publish_name(service.c_str(), MPI_INFO_NULL, port_.c_str()));
}

std::string MpiFabric::lookup(const std::string& service) const {
  char port[MPI_MAX_PORT_NAME] = {};
  if (MPI_Lookup_name(service.c_str(), MPI_INFO_NULL, port) != MPI_SUCCESS) return "";
  return port;
}

std::string MpiFabric::share(std::string value) const {
  int length = static_cast<int>(value.size());
  MPI_Request request;
  MPI_CHECK(MPI_Ibcast(&length, 1, MPI_INT, 0, job_, &request));
  wait_quietly(request);
  value.resize(static_cast<size_t>(length));
  if (length == 0) return value;
  MPI_CHECK(MPI_Ibcast(value.data(), length, MPI_CHAR, 0, job_, &request));
  wait_quietly(request);
  return value;
}

MPI_Comm MpiFabric::connect(const std::string& port) {
  MPI_Comm inter = MPI_COMM_NULL;
  MPI_CHECK(MPI_Comm_connect(port.c_str(), MPI_INFO_NULL, 0, job_, &inter));
  MPI_CHECK(MPI_Comm_set_errhandler(inter, MPI_ERRORS_RETURN));
  return inter;
}

MPI_Comm MpiFabric::accept() {
  MPI_Comm inter = MPI_COMM_NULL;
  MPI_CHECK(MPI_Comm_accept(port_.c_str(), MPI_INFO_NULL, 0, job_, &inter));
  MPI_CHECK(MPI_Comm_set_errhandler(inter, MPI_ERRORS_RETURN));
  return inter;
}

void MpiFabric::announce_job_index(MPI_Comm inter) const {
  if (job_rank_ == 0) MPI_CHECK(MPI_Send(&layout_.job, 1, MPI_INT, 0, kJoinTag, inter));
}

int MpiFabric::receive_job_index(MPI_Comm inter) const {
  int index = -1;
  if (job_rank_ == 0) MPI_CHECK(MPI_Recv(&index, 1, MPI_INT, 0, kJoinTag, inter, MPI_STATUS_IGNORE));
  const int remote = std::stoi(share(std::to_string(index)));
  if (remote < 0 || remote >= static_cast<int>(layout_.first_ranks.size()) || remote == layout_.job)
    throw CommError("fabric: a connecting job calls itself job " + std::to_string(remote));
  return remote;
}

void MpiFabric::add_span(MPI_Comm inter, int remote_job) {
  int remote_size = 0;
  MPI_CHECK(MPI_Comm_remote_size(inter, &remote_size));
  if (remote_size != layout_.job_size(remote_job))
    throw CommError("fabric: job " + std::to_string(remote_job) + " has " + std::to_string(remote_size) +
                    " processes, its hosts' slots say " + std::to_string(layout_.job_size(remote_job)));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    spans_.push_back(Span{inter, layout_.first_ranks[remote_job], remote_size, true});
  }
  routed_cv_.notify_all();
}

std::string MpiFabric::await_name(const std::string& service, const std::string& wanted) const {
  const auto deadline = Clock::now() + layout_.timeout;
  while (Clock::now() < deadline) {
    const std::string value = lookup(service);
    if (!value.empty() && (wanted.empty() || value == wanted)) return value;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return "";
}

// Jobs join one at a time: job i waits until job i - 1 has connected to every job before
// it, then connects to each of them in order, then accepts the later jobs as they come.
// (Two jobs connecting to one port at once can hang Open MPI 4.1.4.)
void MpiFabric::start_joined() {
  const int jobs = static_cast<int>(layout_.first_ranks.size());
  if (layout_.job > 0) {
    const std::string before = name("ready" + std::to_string(layout_.job - 1));
    if (share(job_rank_ == 0 ? await_name(before) : "").empty())
      throw CommError("fabric: job " + std::to_string(layout_.job - 1) + " (ranks from " +
                      std::to_string(layout_.first_ranks[layout_.job - 1]) + ") did not join within " +
                      std::to_string(layout_.timeout.count()) + " ms: is its host's job running?");
  }
  for (int lower = 0; lower < layout_.job; ++lower) {
    const std::string port = share(job_rank_ == 0 ? await_name(name("job" + std::to_string(lower))) : "");
    MPI_Comm inter = connect(port);
    announce_job_index(inter);
    add_span(inter, lower);
  }
  publish(name("ready" + std::to_string(layout_.job)));
  for (int higher = layout_.job + 1; higher < jobs; ++higher) {
    MPI_Comm inter = accept();
    add_span(inter, receive_job_index(inter));
  }
}

void MpiFabric::follow_rejoins() {
  while (!stopping_) {
    std::this_thread::sleep_for(layout_.poll);
    try {
      join_rejoined_jobs();
      if (layout_.rejoin) accept_knocks();
    } catch (const HddnnError& e) {
      std::cerr << "hddnn fabric (rank " << rank() << "): " << e.what() << std::endl;
    }
  }
}

// Jobs that rejoined before this one are connected to it by their knocks, not the other
// way round: two jobs connecting to each other at once would wait for ever.
void MpiFabric::ignore_earlier_rejoins() {
  if (job_rank_ != 0) return;
  for (int other = 0; other < static_cast<int>(layout_.first_ranks.size()); ++other) {
    if (other != layout_.job) joined_ports_[other] = lookup(name("rejoin" + std::to_string(other)));
  }
}

bool MpiFabric::routed_job(int job) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& span : spans_) {
    if (span.intercomm && span.first_rank == layout_.first_ranks[job]) return true;
  }
  return false;
}

bool MpiFabric::every_mate_alive() const {
  for (int mate = 0; mate < job_size_; ++mate) {
    if (mates_->peer_process_alive(mate) == ProcessLiveness::kDead) return false;
  }
  return true;
}

// Every live job connects to a job that published a new rejoin port, after knocking. A
// job missing a process cannot: the connect would wait for it for ever.
void MpiFabric::join_rejoined_jobs() {
  std::string found;
  if (job_rank_ == 0 && every_mate_alive()) {
    for (int other = 0; other < static_cast<int>(layout_.first_ranks.size()) && found.empty(); ++other) {
      if (other == layout_.job) continue;
      const std::string port = lookup(name("rejoin" + std::to_string(other)));
      if (!port.empty() && joined_ports_[other] != port) found = std::to_string(other) + " " + port;
    }
  }
  found = share(found);
  if (found.empty()) return;
  const auto gap = found.find(' ');
  const int other = std::stoi(found.substr(0, gap));
  const std::string port = found.substr(gap + 1);
  joined_ports_[other] = port;  // tried once: a job that dies meanwhile is not waited for again
  // Knock, and connect once invited: the rejoined job takes one connect at a time.
  std::string invited;
  if (job_rank_ == 0) {
    const std::string suffix = std::to_string(other) + "." + std::to_string(layout_.job);
    MPI_CHECK(MPI_Publish_name(name("knock" + suffix).c_str(), MPI_INFO_NULL, port.c_str()));
    invited = await_name(name("invite" + suffix), port);
  }
  if (share(invited).empty()) return;
  MPI_Comm inter = connect(port);
  announce_job_index(inter);
  add_span(inter, other);
}

// A rejoined job accepts once per knock on its own port.
void MpiFabric::accept_knocks() {
  std::string knocked;
  if (job_rank_ == 0) {
    for (int other = 0; other < static_cast<int>(layout_.first_ranks.size()) && knocked.empty(); ++other) {
      if (other == layout_.job || routed_job(other)) continue;
      const std::string suffix = std::to_string(layout_.job) + "." + std::to_string(other);
      if (lookup(name("knock" + suffix)) != port_) continue;
      MPI_CHECK(MPI_Publish_name(name("invite" + suffix).c_str(), MPI_INFO_NULL, port_.c_str()));
      knocked = std::to_string(other);
    }
  }
  if (share(knocked).empty()) return;
  MPI_Comm inter = accept();
  const int other = receive_job_index(inter);
  add_span(inter, other);
}

std::vector<Span> MpiFabric::take_new_spans() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Span> fresh(spans_.begin() + static_cast<std::ptrdiff_t>(handed_out_), spans_.end());
  handed_out_ = spans_.size();
  return fresh;
}

bool MpiFabric::await_route(int rank, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return routed_cv_.wait_for(lock, timeout, [&] {
    for (const auto& span : spans_) {
      if (span.contains(rank)) return true;
    }
    return false;
  });
}

}  // namespace hddnn::comm
