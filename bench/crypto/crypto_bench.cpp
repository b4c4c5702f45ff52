// Measures the sealed transport's costs; prints one JSON object per line.
//
//   bench_crypto aead               seal+open throughput through LinkSession vs raw
//                                   libsodium XChaCha20-Poly1305 on the same sizes
//   mpirun -n 2 bench_crypto rtt    round trip between 2 ranks: plain MPI ping-pong vs
//                                   the transport in clear and sealed (emulation off)
//   mpirun -n 2 bench_crypto idle   CPU an idle transport's progress thread uses, by idle_wait
#include <mpi.h>
#include <sodium.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "hddnn/comm/mpi_env.hpp"
#include "hddnn/comm/mpi_transport.hpp"
#include "hddnn/crypto/handshake.hpp"
#include "hddnn/errors.hpp"
#include "hddnn/wire/wire_format.hpp"

namespace {

using namespace hddnn;
using Clock = std::chrono::steady_clock;

const std::vector<size_t> kSizes{64, 1024, 65536};

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Runs op repeatedly for about `budget` seconds; returns operations per second.
template <typename Op>
double rate_of(Op&& op, double budget = 0.1) {
  size_t done = 0, batch = 16;
  auto start = Clock::now();
  while (seconds_since(start) < budget) {
    for (size_t i = 0; i < batch; ++i) op();
    done += batch;
  }
  return static_cast<double>(done) / seconds_since(start);
}

double raw_libsodium_rate(size_t size) {
  std::vector<uint8_t> key(crypto_aead_xchacha20poly1305_ietf_KEYBYTES), nonce(24, 0);
  std::vector<uint8_t> plain(size, 7), sealed(size + 16), opened(size);
  crypto_aead_xchacha20poly1305_ietf_keygen(key.data());
  uint8_t ad[comm::kHeaderBytes] = {};
  uint64_t counter = 0;
  return rate_of([&] {
    ++counter;
    std::memcpy(nonce.data(), &counter, sizeof(counter));
    crypto_aead_xchacha20poly1305_ietf_encrypt(sealed.data(), nullptr, plain.data(), size, ad, sizeof(ad), nullptr,
                                               nonce.data(), key.data());
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(opened.data(), nullptr, nullptr, sealed.data(), sealed.size(), ad,
                                                   sizeof(ad), nonce.data(), key.data()) != 0)
      std::abort();
  });
}

double link_session_rate(size_t size, size_t& wire_bytes) {
  crypto::ClusterKey key = crypto::ClusterKey::generate();
  crypto::Handshake h0(key, 0), h1(key, 1);
  auto hello0 = h0.hello_frame(1), hello1 = h1.hello_frame(0);
  auto a = h0.accept_hello(comm::parse_frame(hello1.data(), hello1.size()));
  auto b = h1.accept_hello(comm::parse_frame(hello0.data(), hello0.size()));
  std::vector<uint8_t> plain(size, 7);
  return rate_of([&] {
    auto wire = a->seal(comm::MessageType::kWork, plain.data(), plain.size());
    wire_bytes = wire.size();
    if (!b->open(wire.data(), wire.size()).message) std::abort();
  });
}

// Best of 9 alternating trials each: the host is shared, so the least-disturbed trial counts.
void bench_aead() {
  for (size_t size : kSizes) {
    size_t wire = 0;
    double raw = 0, ours = 0;
    for (int trial = 0; trial < 9; ++trial) {
      raw = std::max(raw, raw_libsodium_rate(size));
      ours = std::max(ours, link_session_rate(size, wire));
    }
    std::printf(
        "{\"kind\":\"aead\",\"payload_bytes\":%zu,\"raw_ops_per_s\":%.1f,\"session_ops_per_s\":%.1f,"
        "\"raw_mb_per_s\":%.2f,\"session_mb_per_s\":%.2f,\"wire_bytes\":%zu,\"seal_bytes\":%zu,"
        "\"header_bytes\":%zu}\n",
        size, raw, ours, raw * size / 1e6, ours * size / 1e6, wire, crypto::kSealBytes, comm::kHeaderBytes);
  }
}

// Plain MPI ping-pong with non-blocking calls and a busy Test loop; returns the mean round trip in us.
double mpi_round_trip_us(int rank, size_t size, int rounds) {
  std::vector<uint8_t> out(size, 1), in(size);
  auto wait = [](MPI_Request* request) {
    int done = 0;
    while (!done) MPI_Test(request, &done, MPI_STATUS_IGNORE);
  };
  MPI_Barrier(MPI_COMM_WORLD);
  auto start = Clock::now();
  for (int i = 0; i < rounds; ++i) {
    MPI_Request request;
    if (rank == 0) {
      MPI_Isend(out.data(), int(size), MPI_BYTE, 1, 5, MPI_COMM_WORLD, &request);
      wait(&request);
      MPI_Irecv(in.data(), int(size), MPI_BYTE, 1, 5, MPI_COMM_WORLD, &request);
      wait(&request);
    } else {
      MPI_Irecv(in.data(), int(size), MPI_BYTE, 0, 5, MPI_COMM_WORLD, &request);
      wait(&request);
      MPI_Isend(out.data(), int(size), MPI_BYTE, 0, 5, MPI_COMM_WORLD, &request);
      wait(&request);
    }
  }
  return seconds_since(start) * 1e6 / rounds;
}

double transport_round_trip_us(comm::Transport& transport, size_t size, int rounds) {
  const int rank = transport.rank();
  auto next = [&] {
    if (!transport.receive(std::chrono::seconds(10))) throw CommError("bench: no reply within 10 s");
  };
  MPI_Barrier(MPI_COMM_WORLD);
  auto start = Clock::now();
  for (int i = 0; i < rounds; ++i) {
    if (rank == 0) {
      transport.send(1, comm::MessageType::kWork, std::vector<uint8_t>(size, 1));
      next();
    } else {
      next();
      transport.send(0, comm::MessageType::kWork, std::vector<uint8_t>(size, 1));
    }
  }
  return seconds_since(start) * 1e6 / rounds;
}

std::unique_ptr<comm::Transport> bench_transport(bool sealed) {
  comm::TransportOptions options;
  options.emulate = false;
  options.idle_wait = std::chrono::microseconds(0);  // busy-poll, as the MPI baseline does
  if (sealed) {
    // Every rank needs the same secret: rank 0 draws it and broadcasts it (bench only).
    uint8_t secret[crypto::ClusterKey::kBytes];
    randombytes_buf(secret, sizeof(secret));
    MPI_Bcast(secret, sizeof(secret), MPI_BYTE, 0, MPI_COMM_WORLD);
    options.key = crypto::ClusterKey::from_bytes(secret, sizeof(secret));
    sodium_memzero(secret, sizeof(secret));
  }
  return comm::make_mpi_transport(MPI_COMM_WORLD, options);
}

void bench_round_trips() {
  comm::ensure_initialized();
  const int rank = comm::world_rank();
  auto clear = bench_transport(false);
  auto sealed = bench_transport(true);
  for (size_t size : kSizes) {
    const int rounds = size > 4096 ? 500 : 2000;
    mpi_round_trip_us(rank, size, rounds / 10);  // warm-up
    double mpi = 1e300, in_clear = 1e300, in_seal = 1e300;
    for (int trial = 0; trial < 3; ++trial) {  // best of 3 alternating trials (shared host)
      mpi = std::min(mpi, mpi_round_trip_us(rank, size, rounds));
      in_clear = std::min(in_clear, transport_round_trip_us(*clear, size, rounds));
      in_seal = std::min(in_seal, transport_round_trip_us(*sealed, size, rounds));
    }
    if (rank == 0)
      std::printf(
          "{\"kind\":\"rtt\",\"payload_bytes\":%zu,\"rounds\":%d,\"mpi_rtt_us\":%.2f,\"transport_clear_rtt_us\":%.2f,"
          "\"transport_sealed_rtt_us\":%.2f}\n",
          size, rounds, mpi, in_clear, in_seal);
  }
  std::fflush(stdout);
  clear->shutdown();
  sealed->shutdown();
  MPI_Barrier(MPI_COMM_WORLD);
  comm::finalize();
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + 1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

// Share of one core a rank's idle transport burns, for several progress-thread sleeps.
void bench_idle() {
  comm::ensure_initialized();
  const int rank = comm::world_rank();
  for (int wait_us : {100, 200, 500, 1000}) {
    comm::TransportOptions options;
    options.emulate = false;
    options.idle_wait = std::chrono::microseconds(wait_us);
    auto transport = comm::make_mpi_transport(MPI_COMM_WORLD, options);
    double cpu = cpu_seconds();
    auto start = Clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    double share = (cpu_seconds() - cpu) / seconds_since(start);
    transport->shutdown();
    double mean = 0;
    MPI_Reduce(&share, &mean, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0)
      std::printf("{\"kind\":\"idle\",\"idle_wait_us\":%d,\"core_share_per_rank\":%.4f}\n", wait_us,
                  mean / comm::world_size());
  }
  std::fflush(stdout);
  MPI_Barrier(MPI_COMM_WORLD);
  comm::finalize();
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (sodium_init() < 0) return 1;
  if (mode == "aead") {
    bench_aead();
    return 0;
  }
  if (mode == "rtt") {
    bench_round_trips();
    return 0;
  }
  if (mode == "idle") {
    bench_idle();
    return 0;
  }
  std::fprintf(stderr, "usage: bench_crypto aead | mpirun -n 2 bench_crypto rtt|idle\n");
  return 2;
}
