#include "hddnn/comm/mpi_channel.hpp"

#include <limits>

#include "hddnn/comm/mpi_check.hpp"

namespace hddnn::comm {
namespace {

// Buffers of requests MPI could not cancel: MPI may still touch them, so they
// are kept until the process exits (deliberately never freed).
std::vector<std::vector<uint8_t>>& abandoned_buffers() {
  static auto* store = new std::vector<std::vector<uint8_t>>();
  return *store;
}

}  // namespace

MpiChannel::MpiChannel(MPI_Comm comm, int tag) : comm_(comm), tag_(tag) {}

void MpiChannel::post_send(int peer, std::vector<uint8_t> wire) {
  if (wire.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    throw CommError("frame of " + std::to_string(wire.size()) + " bytes is too large for MPI");
  sends_.push_back(PendingSend{peer, MPI_REQUEST_NULL, std::move(wire)});
  PendingSend& pending = sends_.back();
  int rc = MPI_Isend(pending.wire.data(), static_cast<int>(pending.wire.size()), MPI_BYTE, peer, tag_, comm_,
                     &pending.request);
  if (rc != MPI_SUCCESS) {
    sends_.pop_back();
    MPI_CHECK(rc);
  }
}

size_t MpiChannel::reap_sends() {
  size_t completed = 0;
  for (auto it = sends_.begin(); it != sends_.end();) {
    int done = 0;
    MPI_CHECK(MPI_Test(&it->request, &done, MPI_STATUS_IGNORE));
    if (done) {
      it = sends_.erase(it);
      ++completed;
    } else {
      ++it;
    }
  }
  return completed;
}

bool MpiChannel::start_one_receive() {
  int matched = 0;
  MPI_Message message;
  MPI_Status status;
  MPI_CHECK(MPI_Improbe(MPI_ANY_SOURCE, tag_, comm_, &matched, &message, &status));
  if (!matched) return false;
  int count = 0;
  MPI_CHECK(MPI_Get_count(&status, MPI_BYTE, &count));
  auto& queue = receives_[status.MPI_SOURCE];
  queue.push_back(PendingReceive{MPI_REQUEST_NULL, std::vector<uint8_t>(static_cast<size_t>(count))});
  MPI_CHECK(MPI_Imrecv(queue.back().wire.data(), count, MPI_BYTE, &message, &queue.back().request));
  return true;
}

void MpiChannel::complete_receives(std::vector<Arrival>& out) {
  for (auto& [source, queue] : receives_) {
    for (auto& pending : queue) {
      if (pending.done) continue;
      int done = 0;
      MPI_CHECK(MPI_Test(&pending.request, &done, MPI_STATUS_IGNORE));
      pending.done = done != 0;
    }
    while (!queue.empty() && queue.front().done) {
      out.push_back(Arrival{source, std::move(queue.front().wire)});
      queue.pop_front();
    }
  }
}

std::vector<MpiChannel::Arrival> MpiChannel::take_arrivals() {
  std::vector<Arrival> arrivals;
  while (start_one_receive()) {
  }
  complete_receives(arrivals);
  return arrivals;
}

bool MpiChannel::cancel_and_check(MPI_Request& request) {
  if (request == MPI_REQUEST_NULL) return true;
  MPI_Cancel(&request);
  int done = 0;
  MPI_Test(&request, &done, MPI_STATUS_IGNORE);
  return done != 0;
}

size_t MpiChannel::cancel_toward(int peer) {
  size_t abandoned = 0;
  for (auto it = sends_.begin(); it != sends_.end();) {
    if (it->peer != peer) {
      ++it;
      continue;
    }
    if (!cancel_and_check(it->request)) {
      abandoned_buffers().push_back(std::move(it->wire));
      ++abandoned;
    }
    it = sends_.erase(it);
  }
  return abandoned;
}

size_t MpiChannel::abandon_all() {
  size_t abandoned = 0;
  for (auto& pending : sends_) {
    if (!cancel_and_check(pending.request)) {
      abandoned_buffers().push_back(std::move(pending.wire));
      ++abandoned;
    }
  }
  sends_.clear();
  for (auto& [source, queue] : receives_) {
    for (auto& pending : queue) {
      if (!pending.done && !cancel_and_check(pending.request)) {
        abandoned_buffers().push_back(std::move(pending.wire));
        ++abandoned;
      }
    }
  }
  receives_.clear();
  return abandoned;
}

}  // namespace hddnn::comm
