// The MPI transport with sealing on, under mpirun with 3 ranks: ring exchange,
// byte accounting, bit-flip / truncation / replay hooks rejected and counted while
// everything else is delivered, clear-text mode, and same-host liveness.
#include <gtest/gtest.h>
#include <mpi.h>

#include <chrono>
#include <set>
#include <string>

#include "comm_mpi_main.hpp"
#include "hddnn/comm/mpi_transport.hpp"
#include "hddnn/crypto/handshake.hpp"
#include "hddnn/errors.hpp"
#include "hddnn/wire/wire_format.hpp"

namespace {

using namespace hddnn;
using namespace hddnn::comm;
using std::chrono::seconds;

constexpr uint8_t kSharedSecret[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                       17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

std::unique_ptr<Transport> sealed_transport() {
  TransportOptions options;
  options.emulate = false;
  options.key = crypto::ClusterKey::from_bytes(kSharedSecret, sizeof(kSharedSecret));
  return make_mpi_transport(MPI_COMM_WORLD, options);
}

std::vector<uint8_t> stamped(int rank, int index, size_t size) {
  std::vector<uint8_t> payload(size);
  for (size_t i = 0; i < size; ++i) payload[i] = static_cast<uint8_t>(rank * 31 + index * 7 + i);
  return payload;
}

// Receives `count` messages (or fewer if the deadline passes).
std::vector<Message> receive_n(Transport& transport, size_t count) {
  std::vector<Message> got;
  auto deadline = std::chrono::steady_clock::now() + seconds(20);
  while (got.size() < count && std::chrono::steady_clock::now() < deadline) {
    if (auto message = transport.receive(std::chrono::milliseconds(100))) got.push_back(std::move(*message));
  }
  return got;
}

void barrier() { MPI_Barrier(MPI_COMM_WORLD); }

TEST(MpiTransport, SealedRingExchangeDeliversInOrderAndCountsWireBytes) {
  auto transport = sealed_transport();
  const int rank = transport->rank(), size = transport->size();
  ASSERT_GE(size, 3) << "run with mpirun -n 3";
  EXPECT_TRUE(transport->encrypted());
  const int right = (rank + 1) % size, left = (rank + size - 1) % size, messages = 20;
  uint64_t wire_bytes = kHeaderBytes + crypto::Handshake::kHelloBodyBytes;
  for (int i = 0; i < messages; ++i) {
    auto payload = stamped(rank, i, 100 + 50 * i);
    wire_bytes += kHeaderBytes + crypto::kSealBytes + payload.size();
    transport->send(right, MessageType::kWork, payload);
  }
  auto got = receive_n(*transport, messages);
  ASSERT_EQ(got.size(), size_t(messages));
  for (int i = 0; i < messages; ++i) {
    EXPECT_EQ(got[i].source(), left);
    EXPECT_EQ(got[i].type(), MessageType::kWork);
    EXPECT_EQ(got[i].header.sequence, uint64_t(i + 1));
    EXPECT_EQ(got[i].payload, stamped(left, i, 100 + 50 * i));
  }
  barrier();
  LinkStats toward_right = transport->stats(right);
  EXPECT_EQ(toward_right.messages_sent, uint64_t(messages + 1));  // + hello
  EXPECT_EQ(toward_right.bytes_sent, wire_bytes);
  EXPECT_EQ(transport->stats(left).bytes_received, wire_bytes);
  EXPECT_EQ(transport->rejected(), 0u);
  transport->shutdown();
  barrier();
}

TEST(MpiTransport, BitFlipsAreRejectedExactlyWhileTheRestArrive) {
  auto transport = sealed_transport();
  const int rank = transport->rank();
  const std::set<int> flipped{2, 5, 7};
  if (rank == 0) {
    int index = 0;
    transport->set_outgoing_hook([&](int, MessageType, std::vector<uint8_t>& wire) {
      if (flipped.count(index++)) wire[kHeaderBytes + 1] ^= 0x10;  // a ciphertext bit
    });
    for (int i = 0; i < 10; ++i) transport->send(1, MessageType::kWork, {uint8_t(i), 1, 2, 3});
  }
  if (rank == 1) {
    auto got = receive_n(*transport, 10 - flipped.size());
    ASSERT_EQ(got.size(), 10 - flipped.size());
    std::vector<int> indices;
    for (const auto& message : got) indices.push_back(message.payload.at(0));
    EXPECT_EQ(indices, (std::vector<int>{0, 1, 3, 4, 6, 8, 9}));
    EXPECT_EQ(transport->rejected(), flipped.size());
    EXPECT_EQ(transport->rejected(crypto::Rejection::kForged), flipped.size());
    EXPECT_FALSE(transport->poll().has_value());
  }
  barrier();
  if (rank != 1) {
    EXPECT_EQ(transport->rejected(), 0u);
  }
  barrier();
}

TEST(MpiTransport, ReplayedAndTruncatedFramesAreRejected) {
  auto transport = sealed_transport();
  const int rank = transport->rank();
  if (rank == 0) {
    std::vector<std::vector<uint8_t>> captured;
    transport->set_outgoing_hook([&](int, MessageType, std::vector<uint8_t>& wire) { captured.push_back(wire); });
    transport->send(2, MessageType::kPlan, {42});
    transport->set_outgoing_hook([](int, MessageType, std::vector<uint8_t>& wire) { wire.resize(wire.size() - 3); });
    transport->send(2, MessageType::kPlan, {43});
    transport->set_outgoing_hook({});
    transport->send_wire(2, captured.at(0));  // replay twice
    transport->send_wire(2, captured.at(0));
    transport->send(2, MessageType::kStop, {44});
  }
  if (rank == 2) {
    auto got = receive_n(*transport, 2);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].payload, std::vector<uint8_t>{42});
    EXPECT_EQ(got[1].payload, std::vector<uint8_t>{44});
    EXPECT_EQ(got[1].type(), MessageType::kStop);
    EXPECT_EQ(transport->rejected(crypto::Rejection::kMalformed), 1u);
    EXPECT_EQ(transport->rejected(crypto::Rejection::kReplayed), 2u);
    EXPECT_EQ(transport->rejected(), 3u);
  }
  barrier();
}

TEST(MpiTransport, ClearTextModeDeliversWithoutSealing) {
  TransportOptions options;
  options.emulate = false;
  auto transport = make_mpi_transport(MPI_COMM_WORLD, options);
  EXPECT_FALSE(transport->encrypted());
  const int rank = transport->rank(), size = transport->size();
  transport->send((rank + 1) % size, MessageType::kHeartbeat, {uint8_t(rank)});
  transport->send(rank, MessageType::kReport, {7});  // to itself: delivered locally
  auto got = receive_n(*transport, 2);
  ASSERT_EQ(got.size(), 2u);
  size_t from_left = got[0].source() == rank ? 1 : 0;
  EXPECT_EQ(got[from_left].payload, std::vector<uint8_t>{uint8_t((rank + size - 1) % size)});
  EXPECT_EQ(got[1 - from_left].payload, std::vector<uint8_t>{7});
  barrier();  // every rank has received: every send has been handed to MPI and counted
  EXPECT_EQ(transport->stats((rank + 1) % size).bytes_sent, kHeaderBytes + 1);
  EXPECT_EQ(transport->stats(rank).bytes_sent, 0u);  // self-delivery is not wire traffic
  barrier();
}

TEST(MpiTransport, PeersOnThisHostAreAlive) {
  auto transport = sealed_transport();
  for (int peer = 0; peer < transport->size(); ++peer)
    EXPECT_EQ(transport->peer_process_alive(peer), ProcessLiveness::kAlive) << "rank " << peer;
  EXPECT_THROW(transport->send(transport->size(), MessageType::kWork, {}), CommError);
  barrier();
}

TEST(MpiTransport, RankWithAnotherClusterKeyFailsTheHandshake) {
  TransportOptions options;
  options.emulate = false;
  options.handshake_timeout = std::chrono::milliseconds(1000);
  const int rank = [] {
    int r = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
  }();
  options.key = rank == 2 ? crypto::ClusterKey::generate()
                          : crypto::ClusterKey::from_bytes(kSharedSecret, sizeof(kSharedSecret));
  try {
    make_mpi_transport(MPI_COMM_WORLD, options);
    ADD_FAILURE() << "handshake succeeded with a foreign key on rank 2";
  } catch (const CommError& error) {
    std::string expected = rank == 2 ? "rank(s) 0, 1" : "rank(s) 2";
    EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
  }
  barrier();
}

TEST(MpiTransport, SendsToAnAbandonedPeerAreDiscarded) {
  auto transport = sealed_transport();
  const int rank = transport->rank();
  if (rank == 0) {
    transport->abandon_peer(1);
    transport->send(1, MessageType::kWork, {1});
    transport->send(2, MessageType::kWork, {2});
  }
  barrier();
  if (rank == 2) {
    EXPECT_EQ(receive_n(*transport, 1).size(), 1u);
  }
  if (rank == 1) {
    EXPECT_FALSE(transport->receive(std::chrono::milliseconds(200)).has_value());
  }
  barrier();
  if (rank == 0) {
    EXPECT_EQ(transport->stats(1).messages_sent, 1u);  // the hello only
  }
  barrier();
}

}  // namespace
