// Measures a link's bandwidth through the transport; prints one JSON object (rank 1).
//
//   mpirun -n 2 bench_link MBPS EMULATE FRAMES
//
// Rank 0 sends FRAMES frames of 16 KiB to rank 1 as fast as the transport takes them.
// EMULATE 1: the transport emulates a link of MBPS (its LinkEmulator); 0: the frames go
// at the network's own pace (e.g. over an HTB-shaped link between two hosts). Rank 1
// reports the wire bytes it received between the first and the last frame's arrival,
// over that time: the link's rate as the transport sees it.
#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "hddnn/comm/mpi_env.hpp"
#include "hddnn/comm/mpi_transport.hpp"
#include "hddnn/errors.hpp"

namespace {

using namespace hddnn;
using Clock = std::chrono::steady_clock;
constexpr size_t kFrameBytes = 16 * 1024;

comm::TransportOptions options_for(int rank, double mbps, bool emulate) {
  comm::TransportOptions options;
  options.emulate = emulate;
  if (emulate && rank == 0) options.links[1] = comm::LinkSpec{0.0, mbps};
  return options;
}

void send_frames(comm::Transport& transport, int frames) {
  for (int i = 0; i < frames; ++i) {
    transport.send(1, comm::MessageType::kWork, std::vector<uint8_t>(kFrameBytes, static_cast<uint8_t>(i)));
  }
  // Waits for the receiver's verdict, so the frames leave before the transport shuts down.
  while (!transport.receive(std::chrono::milliseconds(100))) {
  }
}

void receive_frames(comm::Transport& transport, int frames, double mbps, bool emulate) {
  Clock::time_point first, last;
  uint64_t first_wire = 0;
  for (int received = 0; received < frames;) {
    if (!transport.receive(std::chrono::milliseconds(1000))) throw CommError("bench_link: frames stopped coming");
    last = Clock::now();
    if (received++ == 0) {
      first = last;
      first_wire = transport.stats(0).bytes_received;
    }
  }
  const double seconds = std::chrono::duration<double>(last - first).count();
  const double wire = static_cast<double>(transport.stats(0).bytes_received - first_wire);
  std::printf(
      "{\"target_mbps\": %.3f, \"emulated\": %s, \"frames\": %d, \"frame_bytes\": %zu, \"seconds\": %.6f, "
      "\"measured_mbps\": %.4f}\n",
      mbps, emulate ? "true" : "false", frames, kFrameBytes, seconds, wire * 8.0 / seconds / 1e6);
  std::fflush(stdout);
  transport.send(0, comm::MessageType::kStop, {});
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc != 4) throw ConfigError("usage: mpirun -n 2 bench_link MBPS EMULATE(0|1) FRAMES");
    const double mbps = std::stod(argv[1]);
    const bool emulate = std::string(argv[2]) == "1";
    const int frames = std::stoi(argv[3]);
    comm::ensure_initialized();
    if (comm::world_size() != 2) throw ConfigError("bench_link: run it as 2 ranks");
    const int rank = comm::world_rank();
    auto transport = comm::make_mpi_transport(MPI_COMM_WORLD, options_for(rank, mbps, emulate));
    if (rank == 0) {
      send_frames(*transport, frames);
    } else {
      receive_frames(*transport, frames, mbps, emulate);
    }
    transport->shutdown();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_link: %s\n", e.what());
    return 1;
  }
  comm::finalize();
  return 0;
}
