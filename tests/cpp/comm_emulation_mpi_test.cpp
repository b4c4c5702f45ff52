// Link emulation through the MPI transport, 2 ranks on loopback: measured one-way
// latency and bandwidth within 5% of the LinkSpec.
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "comm_mpi_main.hpp"
#include "hddnn/comm/mpi_transport.hpp"
#include "hddnn/comm/wire_format.hpp"
#include "hddnn/errors.hpp"

namespace {

using namespace hddnn;
using namespace hddnn::comm;
using Clock = std::chrono::steady_clock;

constexpr double kLatencyMs = 20.0;
constexpr double kBandwidthMbps = 100.0;

Message must_receive(Transport& transport) {
  auto message = transport.receive(std::chrono::seconds(10));
  if (!message) throw CommError("nothing received within 10 s");
  return std::move(*message);
}

TEST(LinkEmulation, OneWayLatencyWithinFivePercent) {
  TransportOptions options;
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  options.links[1 - rank] = LinkSpec{kLatencyMs, kBandwidthMbps};
  auto transport = make_mpi_transport(MPI_COMM_WORLD, options);
  // The fastest of several round trips: host noise only ever adds delay, and the emulator
  // can never release early, so the minimum is the emulated link's own figure.
  std::vector<double> one_way;
  for (int i = 0; i < 7; ++i) {
    auto start = Clock::now();
    if (rank == 0) {
      transport->send(1, MessageType::kHeartbeat, {uint8_t(i)});
      must_receive(*transport);
      one_way.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count() / 2);
    } else {
      must_receive(*transport);
      transport->send(0, MessageType::kHeartbeat, {uint8_t(i)});
    }
  }
  if (rank == 0) {
    double fastest = *std::min_element(one_way.begin(), one_way.end());
    double target = kLatencyMs + (kHeaderBytes + 1) * 8 / (kBandwidthMbps * 1e3);
    EXPECT_NEAR(fastest, target, target * 0.05) << "measured one-way " << fastest << " ms";
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// Rank 1 times the stream from the barrier that starts it to the last arrival, so host
// noise can only lower the figure; the best of 3 trials counts.
TEST(LinkEmulation, BandwidthWithinFivePercent) {
  TransportOptions options;
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const double latency_ms = 2.0;
  options.links[1 - rank] = LinkSpec{latency_ms, kBandwidthMbps};
  auto transport = make_mpi_transport(MPI_COMM_WORLD, options);
  const int frames = 20;
  const size_t payload = 64 * 1024;
  double best = 0;
  for (int trial = 0; trial < 3; ++trial) {
    MPI_Barrier(MPI_COMM_WORLD);
    auto start = Clock::now();
    if (rank == 0) {
      for (int i = 0; i < frames; ++i) transport->send(1, MessageType::kWork, std::vector<uint8_t>(payload));
    } else {
      for (int i = 0; i < frames; ++i) must_receive(*transport);
      double serialising_s = std::chrono::duration<double>(Clock::now() - start).count() - latency_ms / 1e3;
      best = std::max(best, frames * (payload + kHeaderBytes) * 8 / serialising_s / 1e6);
    }
  }
  if (rank == 1) {
    EXPECT_NEAR(best, kBandwidthMbps, kBandwidthMbps * 0.05) << "measured " << best << " Mbit/s";
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace
