// MpiFabric: over which MPI communicator each rank of a run is reached, when the run's
// ranks live in one mpirun job or in several jobs (one per host) joined at run time.
//
// Ranks are the run's (topology order), not any one job's. A Span says that the ranks
// first_rank .. first_rank + size - 1 are ranks 0 .. size - 1 of a communicator:
//   - one job: one span, the job's communicator, holding every rank;
//   - joined jobs: job i holds the run ranks first_ranks[i] .. (first_ranks[i + 1] - 1).
//     Its own ranks are reached over its communicator, every other job's over an
//     intercommunicator made by Open MPI's dynamic process management (ports named
//     through the run's ompi-server). A job lost with its host takes only its own
//     intercommunicators with it.
//
// Open MPI 4.1.4 connects whole jobs (MPI_Comm_connect / MPI_Comm_accept are collective
// over the job: each process's connect involves its job-mates), so every step below is
// taken by all processes of a job together, led by the job's rank 0:
//   - start: job i publishes a port as "hddnn.<run>.job<i>"; once job i - 1 says it is
//     done connecting ("hddnn.<run>.ready<i-1>"), it connects to every lower job in
//     order, says so, then accepts every higher one. So one connect runs at a time: two
//     jobs connecting to one port at once can hang Open MPI 4.1.4;
//   - rejoin (a lost host's job started again): the job publishes a port as
//     "hddnn.<run>.rejoin<i>" and connects to nobody. Every live job, polling those
//     names, finds the new port and knocks ("hddnn.<run>.knock<i>.<j>" = that port); the
//     rejoined job invites one knocker at a time ("hddnn.<run>.invite<i>.<j>") and
//     accepts it, and the invited job connects. So connects never overlap, and a
//     blocking accept only ever waits for a connect already under way. A job that lost some of its
//     processes (seen in /proc: a job runs on one host) does not connect: Open MPI would
//     wait for the dead ones for ever.
// Spans made after start (a rejoined job, by either side) are handed out once by
// take_new_spans(); a span for ranks already routed replaces the old route.
//
// Every communicator has MPI_ERRORS_RETURN. Nothing here disconnects: a dead peer's
// disconnect would block. Thread-safe. Joined processes leave without MPI_Finalize
// (it is collective over every connected process, dead ones too). Needs
// MPI_THREAD_MULTIPLE: the fabric's own thread joins rejoined jobs while the transport's
// progress thread moves frames.
#pragma once

#include <mpi.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hddnn/comm/process_directory.hpp"

namespace hddnn::comm {

/// Run ranks first_rank .. first_rank + size - 1 are ranks 0 .. size - 1 of `comm`.
struct Span {
  MPI_Comm comm = MPI_COMM_NULL;
  int first_rank = 0;
  int size = 0;
  bool intercomm = false;  ///< another job's processes: may vanish with their host
  bool contains(int rank) const { return rank >= first_rank && rank < first_rank + size; }
};

/// How a run is split into jobs, one per host, in topology order.
struct JobLayout {
  std::string run_id;                        ///< names the run's ports; the same in every job
  std::vector<int> first_ranks;              ///< job i's first run rank; increasing, first_ranks[0] == 0
  int size = 0;                              ///< ranks in the run, over every job
  int job = 0;                               ///< this process's job
  bool rejoin = false;                       ///< this job restarts a lost host's ranks in a running system
  std::chrono::milliseconds timeout{60000};  ///< for every other job's port at start
  std::chrono::milliseconds poll{250};       ///< how often names are looked up after start
  /// The job that holds `rank` (ConfigError outside the run).
  int job_of(int rank) const;
  int job_size(int job) const;
};

class MpiFabric {
 public:
  /// Every rank of the run in `comm` (not collective; no thread).
  static std::shared_ptr<MpiFabric> single_job(MPI_Comm comm);
  /// This job's part of a run spread over several jobs (collective over `job`; at start,
  /// with every other job). Throws CommError naming the job whose port did not appear
  /// within layout.timeout, ConfigError for a layout that does not fit `job`.
  static std::shared_ptr<MpiFabric> joined_jobs(MPI_Comm job, const JobLayout& layout);
  ~MpiFabric();
  /// Ends the thread that joins rejoined jobs (it keeps the fabric alive until then).
  void stop();
  MpiFabric(const MpiFabric&) = delete;
  MpiFabric& operator=(const MpiFabric&) = delete;

  int rank() const { return first_rank_ + job_rank_; }
  int size() const { return size_; }
  bool joined() const { return joined_; }
  /// This job's communicator (MPI_ERRORS_RETURN; collective calls over it are the caller's).
  MPI_Comm job() const { return job_; }
  int first_rank() const { return first_rank_; }
  /// Spans made so far, handed out once with the later ones (take_new_spans).
  std::vector<Span> take_new_spans();
  /// Waits until `rank` has a route (a rejoined job waits for the coordinator's job).
  bool await_route(int rank, std::chrono::milliseconds timeout) const;

 private:
  MpiFabric(MPI_Comm job, int first_rank, int size, bool joined);
  void publish(const std::string& name);
  void start_joined();
  MPI_Comm connect(const std::string& port);
  MPI_Comm accept();
  /// Rank 0 tells its job-mates a value (a port, a job index): a broadcast waited for
  /// without spinning.
  std::string share(std::string value) const;
  /// Over a new intercommunicator: the connecting job says which it is.
  void announce_job_index(MPI_Comm inter) const;
  int receive_job_index(MPI_Comm inter) const;
  void add_span(MPI_Comm inter, int remote_job);
  void ignore_earlier_rejoins();
  bool routed_job(int job) const;
  bool every_mate_alive() const;
  void follow_rejoins();
  void join_rejoined_jobs();
  void accept_knocks();
  std::string lookup(const std::string& name) const;
  /// Rank 0: the name's value once it is published (and equals `wanted` when given);
  /// "" after layout.timeout.
  std::string await_name(const std::string& service, const std::string& wanted = "") const;
  std::string name(const std::string& what) const;

  MPI_Comm job_ = MPI_COMM_NULL;
  int job_rank_ = 0, job_size_ = 0, first_rank_ = 0, size_ = 0;
  bool joined_ = false;
  JobLayout layout_;
  std::string port_;
  std::unique_ptr<ProcessDirectory> mates_;  ///< this job's processes (one host)
  std::map<int, std::string> joined_ports_;  ///< job -> the port of it this job connected to
  mutable std::mutex mutex_;
  mutable std::condition_variable routed_cv_;
  std::vector<Span> spans_;
  size_t handed_out_ = 0;
  std::atomic<bool> stopping_{false};
};

}  // namespace hddnn::comm
