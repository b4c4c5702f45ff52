// MpiChannel: the non-blocking MPI engine under MpiTransport. Moves whole frames
// (byte vectors) between ranks of one communicator and tag.
//
// Contract: only non-blocking point-to-point calls: MPI_Isend, MPI_Improbe +
// MPI_Imrecv of a message already matched, MPI_Test. Nothing here can block on a
// peer that died. Send buffers live in the channel until their request completes
// (reap_sends), or until cancel_toward/abandon gives up on them: a request MPI
// could not cancel keeps its buffer in a process-lifetime store, since MPI may still
// read it. Frames from one source are handed out in arrival order.
// Not thread-safe: one thread (the transport's progress thread) drives it, under
// MPI_THREAD_MULTIPLE since other threads may make their own MPI calls.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <utility>
#include <vector>

namespace hddnn::comm {

class MpiChannel {
 public:
  struct Arrival {
    int source;
    std::vector<uint8_t> wire;
  };

  MpiChannel(MPI_Comm comm, int tag);

  void post_send(int peer, std::vector<uint8_t> wire);
  /// Starts receiving what has been matched and returns the frames that completed.
  std::vector<Arrival> take_arrivals();
  /// Frees completed sends; returns how many completed.
  size_t reap_sends();
  size_t pending_sends() const { return sends_.size(); }
  /// Cancels sends pending toward peer; returns how many could not be cancelled (abandoned).
  size_t cancel_toward(int peer);
  /// Cancels everything pending (sends and started receives); returns how many were abandoned.
  size_t abandon_all();

 private:
  struct PendingSend {
    int peer;
    MPI_Request request;
    std::vector<uint8_t> wire;
  };
  struct PendingReceive {
    MPI_Request request;
    std::vector<uint8_t> wire;
    bool done = false;
  };

  bool start_one_receive();
  void complete_receives(std::vector<Arrival>& out);
  static bool cancel_and_check(MPI_Request& request);

  MPI_Comm comm_;
  int tag_;
  std::list<PendingSend> sends_;
  std::map<int, std::deque<PendingReceive>> receives_;  // by source, in matching order
};

}  // namespace hddnn::comm
