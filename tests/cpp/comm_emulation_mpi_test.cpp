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
  // Median of several round trips: the emulated link, not a scheduling hiccup on a busy host.
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
    std::sort(one_way.begin(), one_way.end());
    double median = one_way[one_way.size() / 2];
    double target = kLatencyMs + (kHeaderBytes + 1) * 8 / (kBandwidthMbps * 1e3);
    EXPECT_NEAR(median, target, target * 0.05) << "measured one-way " << median << " ms";
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

TEST(LinkEmulation, BandwidthWithinFivePercent) {
  TransportOptions options;
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  options.links[1 - rank] = LinkSpec{2.0, kBandwidthMbps};
  auto transport = make_mpi_transport(MPI_COMM_WORLD, options);
  const int frames = 30;
  const size_t payload = 64 * 1024;
  if (rank == 0) {
    for (int i = 0; i < frames; ++i) transport->send(1, MessageType::kWork, std::vector<uint8_t>(payload));
  } else {
    must_receive(*transport);
    auto first = Clock::now();
    for (int i = 1; i < frames; ++i) must_receive(*transport);
    double seconds = std::chrono::duration<double>(Clock::now() - first).count();
    double mbps = (frames - 1) * (payload + kHeaderBytes) * 8 / seconds / 1e6;
    EXPECT_NEAR(mbps, kBandwidthMbps, kBandwidthMbps * 0.05) << "measured " << mbps << " Mbit/s";
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace
