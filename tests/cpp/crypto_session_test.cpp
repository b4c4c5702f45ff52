// Handshake and sealed link sessions, in one process: two ranks' ends of a link.
// Round trip, and every tampering the receiver must reject (and say why).
#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>

#include "hddnn/crypto/handshake.hpp"
#include "hddnn/crypto/replay_window.hpp"
#include "hddnn/errors.hpp"
#include "hddnn/wire/wire_format.hpp"

namespace {

using namespace hddnn;
using namespace hddnn::crypto;
using comm::MessageType;

// Both ends of the link between ranks 0 and 1, agreed through their hellos.
struct Link {
  LinkSession a;  // rank 0's end
  LinkSession b;  // rank 1's end
};

LinkSession accept(const Handshake& receiver, const std::vector<uint8_t>& hello) {
  auto session = receiver.accept_hello(comm::parse_frame(hello.data(), hello.size()));
  if (!session) throw std::runtime_error("hello rejected");
  return std::move(*session);
}

Link make_link(const ClusterKey& key0, const ClusterKey& key1) {
  Handshake h0(key0, 0), h1(key1, 1);
  return Link{accept(h0, h1.hello_frame(0)), accept(h1, h0.hello_frame(1))};
}

std::vector<uint8_t> bytes(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 7 + 1);
  return v;
}

Rejection rejection_of(LinkSession& receiver, const std::vector<uint8_t>& wire) {
  OpenResult result = receiver.open(wire.data(), wire.size());
  EXPECT_FALSE(result.message.has_value());
  return result.rejection;
}

TEST(LinkSession, SealOpenRoundTripBothDirections) {
  ClusterKey key = ClusterKey::generate();
  Link link = make_link(key, key);
  for (size_t size : {0, 1, 64, 1024, 65536}) {
    auto payload = bytes(size);
    auto wire = link.a.seal(MessageType::kWork, payload.data(), payload.size());
    EXPECT_EQ(wire.size(), comm::kHeaderBytes + size + kSealBytes);
    OpenResult opened = link.b.open(wire.data(), wire.size());
    ASSERT_TRUE(opened.message) << to_string(opened.rejection);
    EXPECT_EQ(opened.message->payload, payload);
    EXPECT_EQ(opened.message->header.source, 0u);
    EXPECT_EQ(opened.message->type(), MessageType::kWork);
    auto back = link.b.seal(MessageType::kAnswer, payload.data(), payload.size());
    ASSERT_TRUE(link.a.open(back.data(), back.size()).message);
  }
}

TEST(LinkSession, CiphertextDoesNotContainThePlaintext) {
  ClusterKey key = ClusterKey::generate();
  Link link = make_link(key, key);
  std::vector<uint8_t> secret(256, 0xAB);
  auto wire = link.a.seal(MessageType::kWork, secret.data(), secret.size());
  size_t same = 0;
  for (size_t i = comm::kHeaderBytes; i < comm::kHeaderBytes + secret.size(); ++i) same += wire[i] == 0xAB;
  EXPECT_LT(same, 8u);
}

TEST(LinkSession, SequencesIncreaseFromOne) {
  ClusterKey key = ClusterKey::generate();
  Link link = make_link(key, key);
  for (uint64_t expected = 1; expected <= 3; ++expected) {
    auto wire = link.a.seal(MessageType::kHeartbeat, nullptr, 0);
    EXPECT_EQ(comm::decode_header(wire.data(), wire.size()).sequence, expected);
  }
}

TEST(LinkSession, RejectsEveryAlteredByte) {
  ClusterKey key = ClusterKey::generate();
  Link link = make_link(key, key);
  auto payload = bytes(40);
  auto wire = link.a.seal(MessageType::kWork, payload.data(), payload.size());
  for (size_t i = 0; i < wire.size(); ++i) {
    auto altered = wire;
    altered[i] ^= 0x01;
    EXPECT_FALSE(link.b.open(altered.data(), altered.size()).message) << "byte " << i;
  }
  EXPECT_TRUE(link.b.open(wire.data(), wire.size()).message);  // the original still opens
}

TEST(LinkSession, RejectsTruncatedAndReplayedSayingWhy) {
  ClusterKey key = ClusterKey::generate();
  Link link = make_link(key, key);
  auto payload = bytes(100);
  auto wire = link.a.seal(MessageType::kWork, payload.data(), payload.size());
  EXPECT_EQ(rejection_of(link.b, std::vector<uint8_t>(wire.begin(), wire.end() - 1)), Rejection::kMalformed);
  EXPECT_EQ(rejection_of(link.b, std::vector<uint8_t>(wire.begin(), wire.begin() + 10)), Rejection::kMalformed);
  ASSERT_TRUE(link.b.open(wire.data(), wire.size()).message);
  EXPECT_EQ(rejection_of(link.b, wire), Rejection::kReplayed);
  auto next = link.a.seal(MessageType::kWork, payload.data(), payload.size());
  next.back() ^= 0x80;
  EXPECT_EQ(rejection_of(link.b, next), Rejection::kForged);
}

TEST(LinkSession, RejectsOutOfWindowAndMisaddressed) {
  ClusterKey key = ClusterKey::generate();
  Link link = make_link(key, key);
  auto old = link.a.seal(MessageType::kWork, nullptr, 0);
  std::vector<uint8_t> latest;
  for (int i = 0; i < 70; ++i) latest = link.a.seal(MessageType::kWork, nullptr, 0);
  ASSERT_TRUE(link.b.open(latest.data(), latest.size()).message);
  EXPECT_EQ(rejection_of(link.b, old), Rejection::kReplayed);
  // A frame rank 0 sealed for rank 1 is refused by rank 0's own end (wrong destination).
  auto own = link.a.seal(MessageType::kWork, nullptr, 0);
  EXPECT_EQ(rejection_of(link.a, own), Rejection::kMisaddressed);
}

TEST(LinkSession, RejectsUnsealedFrames) {
  ClusterKey key = ClusterKey::generate();
  Link link = make_link(key, key);
  comm::Header header{0, 1, 5, MessageType::kWork, 0, 3};
  EXPECT_EQ(rejection_of(link.b, comm::encode(header, {1, 2, 3})), Rejection::kUnsealed);
}

TEST(LinkSession, WrongClusterKeyCannotForgeData) {
  ClusterKey key = ClusterKey::generate(), other = ClusterKey::generate();
  Link link = make_link(key, key);
  Link stranger = make_link(other, other);
  auto wire = stranger.a.seal(MessageType::kWork, nullptr, 0);
  EXPECT_EQ(rejection_of(link.b, wire), Rejection::kForged);
}

TEST(LinkSession, SameHeaderSealedUnderARandomKeyIsForgedAndLeavesTheWindowOpen) {
  ClusterKey key = ClusterKey::generate();
  Link link = make_link(key, key);
  auto payload = bytes(40);
  auto genuine = link.a.seal(MessageType::kWork, payload.data(), payload.size());
  const auto header = comm::decode_header(genuine.data(), genuine.size());
  auto forged = seal_frame(header, payload.data(), payload.size(), random_link_key());
  ASSERT_EQ(forged.size(), genuine.size());
  EXPECT_TRUE(std::equal(forged.begin(), forged.begin() + comm::kHeaderBytes, genuine.begin()));
  EXPECT_EQ(rejection_of(link.b, forged), Rejection::kForged);
  EXPECT_TRUE(link.b.open(genuine.data(), genuine.size()).message);  // the sequence was not used up
}

TEST(Handshake, HelloUnderAnotherKeyOrAlteredIsRefused) {
  ClusterKey key = ClusterKey::generate(), other = ClusterKey::generate();
  Handshake h0(key, 0), intruder(other, 1);
  auto hello = intruder.hello_frame(0);
  EXPECT_FALSE(h0.accept_hello(comm::parse_frame(hello.data(), hello.size())));
  Handshake h1(key, 1);
  auto good = h1.hello_frame(0);
  for (size_t i = 0; i < good.size(); ++i) {
    auto altered = good;
    altered[i] ^= 0x04;
    try {
      EXPECT_FALSE(h0.accept_hello(comm::parse_frame(altered.data(), altered.size()))) << "byte " << i;
    } catch (const CommError&) {
      // header bytes that make the frame malformed are refused by the parser
    }
  }
  EXPECT_TRUE(h0.accept_hello(comm::parse_frame(good.data(), good.size())));
  auto to_other = h1.hello_frame(2);  // addressed to rank 2
  EXPECT_FALSE(h0.accept_hello(comm::parse_frame(to_other.data(), to_other.size())));
}

TEST(Handshake, EachRunAgreesFreshKeys) {
  ClusterKey key = ClusterKey::generate();
  Link first = make_link(key, key), second = make_link(key, key);
  auto wire = first.a.seal(MessageType::kWork, nullptr, 0);
  EXPECT_EQ(rejection_of(second.b, wire), Rejection::kForged);
}

TEST(ReplayWindow, AcceptsLateButFreshWithinWindow) {
  ReplayWindow window;
  EXPECT_FALSE(window.fresh(0));
  window.accept(10);
  EXPECT_TRUE(window.fresh(9));
  window.accept(9);
  EXPECT_FALSE(window.fresh(9));
  EXPECT_FALSE(window.fresh(10));
  EXPECT_TRUE(window.fresh(11));
  window.accept(200);
  EXPECT_FALSE(window.fresh(200 - ReplayWindow::kWidth));
  EXPECT_TRUE(window.fresh(200 - ReplayWindow::kWidth + 1));
}

}  // namespace
