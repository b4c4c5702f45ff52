// MpiFabric: where each rank of a run is reachable over MPI, when the run's ranks live
// in one mpirun job or in several (one per host) joined at run time.
//
// Ranks are the run's (topology order), not any one job's. A route says over which
// communicator, and as which rank in it, a run rank is reached:
//   - one job: every rank over a duplicate of that job's communicator;
//   - joined jobs: a job holds the run ranks first_rank .. first_rank + job size - 1; its
//     own ranks are reached over a duplicate of its communicator, every other rank over an
//     intercommunicator of two processes made by Open MPI's dynamic process management
//     (ports named through the run's ompi-server: MPI_Publish_name / MPI_Lookup_name,
//     MPI_Comm_connect / MPI_Comm_accept on MPI_COMM_SELF). A job lost with its host
//     takes only its own intercommunicators with it.
//
// Joining: every process of a joined run opens a port and publishes it as
// "hddnn.<run id>.<rank>". At start a process connects to every lower rank of the other
// jobs (waiting for their names to appear), then accepts, on a thread of its own for the
// rest of the run, the higher ranks' connections; it is ready once it has a route to every
// rank. (Never connecting while accepting avoids a deadlock of Open MPI 4.1.4's dynamic
// process management, and connecting only downward keeps the order free of cycles.) A process that rejoins a running system (its host came back)
// connects to the coordinator first, learns from it which ranks are live, and connects to
// those. A connector sends its rank over the new intercommunicator; the acceptor answers
// with the ranks it holds live (live_peers()). Routes made by the acceptor thread after
// start are handed out once by take_new_routes(); a route for a rank replaces the old one.
//
// Every intercommunicator has MPI_ERRORS_RETURN. Nothing here disconnects a route: a dead
// peer's disconnect would block. Thread-safe. In joined mode the process must leave
// without MPI_Finalize (it is collective over every connected process, dead ones too).
#pragma once

#include <mpi.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace hddnn::comm {

struct Route {
  int rank;      ///< the run's rank reached
  MPI_Comm comm;  ///< over this communicator
  int peer;      ///< as this rank in it
};

struct JoinOptions {
  std::string run_id;  ///< names the run's ports; the same in every job
  int first_rank = 0;  ///< this job's first run rank
  int size = 0;        ///< ranks in the run, over every job
  int coordinator = 0;  ///< the rank a rejoining process asks for the live ranks
  bool rejoin = false;  ///< this job restarts ranks of a running system
  std::chrono::milliseconds timeout{60000};  ///< for every peer's name and connection
};

class MpiFabric {
 public:
  /// Every rank of the run in `comm` (collective over it).
  static std::shared_ptr<MpiFabric> single_job(MPI_Comm comm);
  /// This job's ranks among a run spread over several jobs (collective over `job`);
  /// throws CommError naming the ranks not reached within options.timeout.
  static std::shared_ptr<MpiFabric> joined_jobs(MPI_Comm job, const JoinOptions& options);
  ~MpiFabric();

  int rank() const { return first_rank_ + job_rank_; }
  int size() const { return size_; }
  bool joined() const { return joined_; }
  /// This job's communicator (a duplicate) and the run rank of its rank 0.
  MPI_Comm job() const { return job_; }
  int first_rank() const { return first_rank_; }
  /// Routes made at start: every rank but this one (a rejoined process: the live ones).
  std::vector<Route> initial_routes() const;
  /// Routes made since the last call by ranks that (re)connected to this process.
  std::vector<Route> take_new_routes();
  /// What this process answers a connecting peer: the ranks it holds live (default: all).
  void set_live_peers(std::function<std::vector<int>()> live_peers);

 private:
  MpiFabric(MPI_Comm job, int first_rank, int size, bool joined);
  void open_and_publish(const std::string& run_id);
  void accept_loop();
  std::vector<int> connect_to(int rank, const JoinOptions& options);
  void await_routes(const JoinOptions& options);
  std::vector<int> answer_for_peer();
  std::string service_name(int rank) const;

  MPI_Comm job_ = MPI_COMM_NULL;
  int job_rank_ = 0, job_size_ = 0, first_rank_ = 0, size_ = 0;
  bool joined_ = false;
  std::string run_id_;
  std::string port_;
  mutable std::mutex mutex_;
  std::vector<Route> routes_;      ///< every route made, in order
  size_t handed_out_ = 0;          ///< routes_[0..handed_out_) went out as initial or new routes
  std::function<std::vector<int>()> live_peers_;
};

}  // namespace hddnn::comm
