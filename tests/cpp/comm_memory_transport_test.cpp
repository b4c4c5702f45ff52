// The in-memory transport: delivery in order through the link emulator, byte
// accounting, self-delivery, abandoned peers, and the network's fault controls.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "hddnn/comm/memory_transport.hpp"
#include "hddnn/errors.hpp"
#include "hddnn/wire/wire_format.hpp"

namespace {

using namespace hddnn;
using namespace hddnn::comm;
using std::chrono::milliseconds;

std::vector<uint8_t> bytes(uint8_t value, size_t n = 4) { return std::vector<uint8_t>(n, value); }

TEST(MemoryTransport, DeliversInOrderAfterTheLinksDelayAndCountsWireBytes) {
  auto network = std::make_shared<MemoryNetwork>(2);
  auto a = network->endpoint(0, {{1, LinkSpec{20.0, 1000.0}}});
  auto b = network->endpoint(1);
  EXPECT_FALSE(a->encrypted());
  const auto sent_at = std::chrono::steady_clock::now();
  a->send(1, MessageType::kWork, bytes(1));
  a->send(1, MessageType::kAnswer, bytes(2, 10));
  EXPECT_FALSE(b->poll());  // 20 ms of latency first
  auto first = b->receive(milliseconds(1000));
  const double waited = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent_at).count();
  ASSERT_TRUE(first);
  EXPECT_GE(waited, 19.0);
  EXPECT_EQ(first->type(), MessageType::kWork);
  EXPECT_EQ(first->source(), 0);
  EXPECT_EQ(first->payload, bytes(1));
  auto second = b->receive(milliseconds(1000));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->payload, bytes(2, 10));
  EXPECT_EQ(a->stats(1).bytes_sent, 2 * kHeaderBytes + 14);
  EXPECT_EQ(b->stats(0).bytes_received, 2 * kHeaderBytes + 14);
  EXPECT_EQ(b->stats(0).messages_received, 2u);
}

TEST(MemoryTransport, SelfDeliveryAndEachRanksEndpointOnce) {
  auto network = std::make_shared<MemoryNetwork>(2);
  auto a = network->endpoint(0);
  EXPECT_THROW(network->endpoint(0), CommError);
  EXPECT_THROW(network->endpoint(2), CommError);
  a->send(0, MessageType::kPlan, bytes(7));
  auto own = a->poll();
  ASSERT_TRUE(own);
  EXPECT_EQ(own->payload, bytes(7));
  EXPECT_THROW(a->send(5, MessageType::kWork, bytes(1)), CommError);
}

TEST(MemoryTransport, DroppedAndCutFramesAreLostAndAbandonedPeersGetNothing) {
  auto network = std::make_shared<MemoryNetwork>(3);
  auto a = network->endpoint(0), b = network->endpoint(1), c = network->endpoint(2);
  network->drop_next(0, 1, MessageType::kWork);
  a->send(1, MessageType::kWork, bytes(1));
  a->send(1, MessageType::kWork, bytes(2));
  auto got = b->receive(milliseconds(100));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->payload, bytes(2));
  network->cut(2);
  a->send(2, MessageType::kHeartbeat, bytes(3));
  c->send(0, MessageType::kHeartbeat, bytes(4));
  EXPECT_FALSE(c->receive(milliseconds(20)));
  EXPECT_FALSE(a->receive(milliseconds(20)));
  EXPECT_EQ(a->peer_process_alive(2), ProcessLiveness::kUnknown);  // cut off, not dead
  network->heal(2);
  a->abandon_peer(2);
  a->send(2, MessageType::kHeartbeat, bytes(5));
  EXPECT_FALSE(c->receive(milliseconds(20)));
  a->restore_peer(2);
  a->send(2, MessageType::kHeartbeat, bytes(6));
  ASSERT_TRUE(c->receive(milliseconds(100)));
  EXPECT_EQ(network->lost(), 3u);
}

TEST(MemoryTransport, AKilledRanksCallsThrowAndItsPeersSeeItDead) {
  auto network = std::make_shared<MemoryNetwork>(2);
  auto a = network->endpoint(0), b = network->endpoint(1);
  std::thread waiting([&] { EXPECT_THROW(b->receive(milliseconds(5000)), CommError); });
  std::this_thread::sleep_for(milliseconds(10));
  network->kill(1);
  waiting.join();
  EXPECT_THROW(b->send(0, MessageType::kHeartbeat, bytes(1)), CommError);
  EXPECT_EQ(a->peer_process_alive(1), ProcessLiveness::kDead);
  a->send(1, MessageType::kWork, bytes(1));  // lost, not an error at send time
  EXPECT_FALSE(a->poll());                   // receivers move frames: this one is lost
  EXPECT_EQ(network->lost(), 1u);
  a->shutdown();
  EXPECT_THROW(a->send(1, MessageType::kWork, bytes(1)), CommError);
}

}  // namespace
