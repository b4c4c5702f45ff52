// Wire format: round trips and every kind of malformed header.
#include <gtest/gtest.h>

#include "hddnn/errors.hpp"
#include "hddnn/wire/wire_format.hpp"

namespace {

using namespace hddnn;
using namespace hddnn::comm;

Header sample_header() { return Header{3, 0x01020304u, 0x1122334455667788ull, MessageType::kAnswer, kFlagSealed, 5}; }

TEST(WireFormat, RoundTripsEveryField) {
  std::vector<uint8_t> body{1, 2, 3, 4, 5};
  auto wire = encode(sample_header(), body);
  ASSERT_EQ(wire.size(), kHeaderBytes + body.size());
  FrameView frame = parse_frame(wire.data(), wire.size());
  EXPECT_EQ(frame.header, sample_header());
  EXPECT_EQ(std::vector<uint8_t>(frame.body, frame.body + frame.body_size), body);
}

TEST(WireFormat, IsLittleEndianAtFixedOffsets) {
  auto wire = encode(sample_header(), std::vector<uint8_t>(5));
  EXPECT_EQ(wire[0], 'h');
  EXPECT_EQ(wire[1], 'D');
  EXPECT_EQ(wire[2], kWireVersion);
  EXPECT_EQ(wire[3], static_cast<uint8_t>(MessageType::kAnswer));
  EXPECT_EQ(wire[4], kFlagSealed);
  EXPECT_EQ(wire[5], 3);
  EXPECT_EQ(wire[9], 0x04);
  EXPECT_EQ(wire[12], 0x01);
  EXPECT_EQ(wire[13], 0x88);
  EXPECT_EQ(wire[20], 0x11);
  EXPECT_EQ(wire[21], 5);
}

TEST(WireFormat, EveryMessageTypeRoundTrips) {
  for (uint8_t type = kFirstMessageType; type <= kLastMessageType; ++type) {
    Header header{1, 2, type, static_cast<MessageType>(type), 0, 0};
    auto wire = encode(header, {});
    EXPECT_EQ(decode_header(wire.data(), wire.size()), header);
    EXPECT_NE(to_string(header.type).find("type"), 0u);
  }
}

TEST(WireFormat, EncodeRefusesBodyLengthMismatch) {
  EXPECT_THROW(encode(sample_header(), std::vector<uint8_t>(4)), CommError);
}

void expect_malformed(std::vector<uint8_t> wire, const std::string& fragment) {
  try {
    parse_frame(wire.data(), wire.size());
    FAIL() << "accepted a frame that should fail with " << fragment;
  } catch (const CommError& error) {
    EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
  }
}

TEST(WireFormat, RejectsMalformedHeaders) {
  auto good = encode(sample_header(), std::vector<uint8_t>(5));
  expect_malformed({}, "0 bytes");
  expect_malformed(std::vector<uint8_t>(good.begin(), good.begin() + kHeaderBytes - 1), "expected at least 25");
  auto bad = good;
  bad[0] = 'x';
  expect_malformed(bad, "magic");
  bad = good;
  bad[2] = 9;
  expect_malformed(bad, "version 9");
  bad = good;
  bad[3] = 0;
  expect_malformed(bad, "message type 0");
  bad[3] = kLastMessageType + 1;
  expect_malformed(bad, "message type 9");
  bad = good;
  bad[4] = 0x80;
  expect_malformed(bad, "flag bits");
  expect_malformed(std::vector<uint8_t>(good.begin(), good.end() - 1), "header says 5");
  bad = good;
  bad.push_back(0);
  expect_malformed(bad, "header says 5");
  bad = good;
  bad[24] = 0x7f;  // payload_length above the limit
  expect_malformed(bad, "above the limit");
}

TEST(WireFormat, DecodeHeaderThrowsOnNull) { EXPECT_THROW(decode_header(nullptr, 100), CommError); }

}  // namespace
