// Payloads of the runtime's data messages, in a compact fixed binary layout
// (little-endian), since every byte an end device sends counts against DDNN's
// communication measure. Control payloads (plans, reports) are CBOR via nlohmann.
//
// Work   (kWork):   u32 request, u16 origin, u8 stage (bit 7: relay, bit 6: resent), u8 view,
//                   then the packed features (view: which view of a multi-view sample the
//                   features are from; 0 otherwise; relay: an edge forwards the work to the
//                   cloud unchanged; resent: a copy sent again after its first destination
//                   died or its answer was overdue, which servers take after fresh work).
// Answer (kAnswer): u32 request, u8 exit tier, u8 label set of the answer (0: the finest;
//                   k: the model's k-th declared set, a coarse answer near a deadline),
//                   u8 finest class, u8 the answer's class in its label set.
// decode_* throw CommError on a payload too short for its layout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hddnn::runtime {

/// Which sections the node that serves a work item runs: the edge section (then the
/// cloud goes on at the cloud), the cloud section, or both.
enum class Stage : uint8_t { kEdge = 1, kCloud = 2, kEdgeThenCloud = 3 };

struct Work {
  uint32_t request = 0;
  uint16_t origin = 0;
  Stage stage = Stage::kEdge;
  uint8_t view = 0;
  std::vector<uint8_t> features;
  bool relay = false;
  bool resent = false;
};

struct Answer {
  uint32_t request = 0;
  uint8_t exit_tier = 0;
  uint8_t label_set = 0;  ///< 0: answered at the finest set; k > 0: a coarser set's answer
  uint8_t fine = 0;       ///< the answering exit's finest class
  uint8_t label = 0;      ///< the answer's class in `label_set` (== fine for a finest answer)
};

constexpr size_t kWorkHeaderBytes = 8;
constexpr size_t kAnswerBytes = 8;

std::vector<uint8_t> encode_work(const Work& work);
Work decode_work(const std::vector<uint8_t>& payload);
std::vector<uint8_t> encode_answer(const Answer& answer);
Answer decode_answer(const std::vector<uint8_t>& payload);

}  // namespace hddnn::runtime
