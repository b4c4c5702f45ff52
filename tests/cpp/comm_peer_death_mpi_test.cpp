// A peer dies mid-run (mpirun --enable-recovery, 3 ranks): rank 2 kills itself after
// start-up. The survivors must see it dead through /proc, keep talking to each other,
// send to it without error, and shut down within the linger time. Open MPI's exit
// code says nothing after a death, so each survivor writes its verdict to
// <prefix>.<rank> and the ctest command checks those files.
#include <mpi.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "hddnn/comm/mpi_env.hpp"
#include "hddnn/comm/mpi_transport.hpp"

namespace {

using namespace hddnn;
using namespace hddnn::comm;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Checks one survivor's view; returns "" when all holds, else what failed. `timings`
// gets how long detection and shutdown took.
std::string survive(Transport& transport, std::string& timings) {
  const int rank = transport.rank(), other = 1 - rank;
  auto start = Clock::now();
  while (transport.peer_process_alive(2) != ProcessLiveness::kDead && ms_since(start) < 10000)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (transport.peer_process_alive(2) != ProcessLiveness::kDead) return "rank 2 not seen dead within 10 s";
  timings = "detected_after_ms " + std::to_string(ms_since(start));
  transport.send(2, MessageType::kWork, std::vector<uint8_t>(4 << 20, 1));  // rendezvous: never completes
  transport.send(2, MessageType::kHeartbeat, {1});
  transport.send(other, MessageType::kHeartbeat, {uint8_t(rank)});
  auto reply = transport.receive(std::chrono::seconds(10));
  if (!reply || reply->source() != other || reply->payload != std::vector<uint8_t>{uint8_t(other)})
    return "no heartbeat from the other survivor";
  auto shutdown_start = Clock::now();
  transport.shutdown();
  double shutdown_ms = ms_since(shutdown_start);
  timings += " shutdown_ms " + std::to_string(shutdown_ms);
  if (shutdown_ms > 2000) return "shutdown took " + std::to_string(shutdown_ms) + " ms";
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  comm::ensure_initialized();
  TransportOptions options;
  options.emulate = false;
  options.shutdown_linger = std::chrono::milliseconds(300);
  options.key = ClusterKey::from_bytes(std::vector<uint8_t>(32, 9).data(), 32);
  auto transport = make_mpi_transport(MPI_COMM_WORLD, options);
  MPI_Barrier(MPI_COMM_WORLD);  // everyone is up before the death
  if (transport->rank() == 2) raise(SIGKILL);
  std::string timings;
  std::string failure = transport->rank() < 2 ? survive(*transport, timings) : "unexpected rank";
  std::ofstream(std::string(argv[1]) + "." + std::to_string(transport->rank()))
      << (failure.empty() ? "ok" : "FAILED: " + failure) << "\n"
      << timings << "\n";
  comm::mark_peer_failure();  // MPI_Finalize can hang after a death: skip it
  transport.reset();
  comm::finalize();
  return failure.empty() ? 0 : 1;
}
