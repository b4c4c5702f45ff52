// ProcessDirectory: where each rank's process runs (hostname, pid, start time),
// gathered once at start-up, so a rank can tell whether a peer on the same host
// is still alive by looking at /proc, without any MPI call.
//
// Cross-rank contract: gather() is collective over `comm` (one MPI_Allgather);
// call it at start-up, before any rank can die. After that every query is local
// and never touches MPI. Thread-safe (immutable after construction).
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace hddnn::comm {

/// Answer of a liveness check: kUnknown when the peer runs on another host.
enum class ProcessLiveness { kAlive, kDead, kUnknown };

std::string to_string(ProcessLiveness liveness);

class ProcessDirectory {
 public:
  struct Entry {
    std::string hostname;
    int64_t pid = 0;
    uint64_t start_ticks = 0;  ///< field 22 of /proc/<pid>/stat: guards against pid reuse
  };

  /// Collective over comm: shares this process's entry with every rank.
  static ProcessDirectory gather(MPI_Comm comm);
  /// Collective over `job`, whose ranks are the run's first_rank..: a directory of the
  /// run's `run_size` ranks, those of other jobs (other hosts) unknown.
  static ProcessDirectory gather(MPI_Comm job, int first_rank, int run_size);
  /// This process's own entry.
  static Entry self();

  ProcessDirectory(int rank, std::vector<Entry> entries);

  /// kAlive/kDead for a rank on this host (checks /proc/<pid>), kUnknown elsewhere.
  /// Throws CommError for a rank outside the directory.
  ProcessLiveness peer_process_alive(int rank) const;
  bool same_host(int rank) const;
  const Entry& entry(int rank) const;
  int size() const { return static_cast<int>(entries_.size()); }

 private:
  int rank_;
  std::vector<Entry> entries_;
};

}  // namespace hddnn::comm
