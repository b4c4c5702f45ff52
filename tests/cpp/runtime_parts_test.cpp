// The runtime's torch-free parts: payload codecs, arrivals, routing, placement,
// metrics, run config (tamper hook entries), retransmission timeouts.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "hddnn/errors.hpp"
#include "hddnn/runtime/arrivals.hpp"
#include "hddnn/runtime/failure_detector.hpp"
#include "hddnn/runtime/messages.hpp"
#include "hddnn/runtime/outcome.hpp"
#include "hddnn/runtime/payloads.hpp"
#include "hddnn/runtime/placement.hpp"
#include "hddnn/runtime/retransmissions.hpp"
#include "hddnn/runtime/round_trip.hpp"
#include "hddnn/runtime/router.hpp"
#include "hddnn/runtime/run_config.hpp"

namespace {

using namespace hddnn;
using namespace hddnn::runtime;

TEST(Payloads, WorkRoundTrip) {
  Work work{123456, 7, Stage::kCloud, 5, {1, 2, 3, 250}};
  auto bytes = encode_work(work);
  EXPECT_EQ(bytes.size(), kWorkHeaderBytes + 4);
  auto back = decode_work(bytes);
  EXPECT_EQ(back.request, 123456u);
  EXPECT_EQ(back.origin, 7);
  EXPECT_EQ(back.stage, Stage::kCloud);
  EXPECT_EQ(back.view, 5);
  EXPECT_EQ(back.features, work.features);
  EXPECT_FALSE(back.relay);
  EXPECT_FALSE(back.resent);
  work.relay = true;
  back = decode_work(encode_work(work));
  EXPECT_TRUE(back.relay);
  EXPECT_FALSE(back.resent);
  EXPECT_EQ(back.stage, Stage::kCloud);
  work.relay = false;
  work.resent = true;
  back = decode_work(encode_work(work));
  EXPECT_TRUE(back.resent);
  EXPECT_FALSE(back.relay);
  EXPECT_EQ(back.stage, Stage::kCloud);
}

TEST(Placement, SchemesDefaults) {
  auto end = Placement::for_scheme("end");
  EXPECT_FALSE(end.escalates());  // the end exit answers everything
  EXPECT_EQ(end.local_sections(), 1u);
  auto end_cloud = Placement::for_scheme("end-cloud").dispatch(true);
  EXPECT_EQ(end_cloud.stage, Stage::kEdgeThenCloud);
  EXPECT_FALSE(end_cloud.relay);
  auto mapping = Placement::for_scheme("mapping");
  EXPECT_EQ(mapping.dispatch(false).stage, Stage::kEdge);          // edge section at the edge, cloud at the cloud
  EXPECT_EQ(mapping.dispatch(true).stage, Stage::kEdgeThenCloud);  // straight to the cloud: both there
}

TEST(Placement, FollowsThePlansTiers) {
  auto local = Placement::from_names({"end", "end", "end"});
  EXPECT_FALSE(local.escalates());
  EXPECT_EQ(local.local_sections(), 3u);
  EXPECT_THROW(local.dispatch(true), ConfigError);

  auto both_at_edge = Placement::from_names({"end", "edge", "edge"}).dispatch(false);
  EXPECT_EQ(both_at_edge.stage, Stage::kEdgeThenCloud);
  EXPECT_FALSE(both_at_edge.relay);

  auto cloud_at_edge = Placement::from_names({"end", "end", "edge"});
  EXPECT_EQ(cloud_at_edge.local_sections(), 2u);
  EXPECT_EQ(cloud_at_edge.dispatch(false).stage, Stage::kCloud);
  EXPECT_FALSE(cloud_at_edge.dispatch(false).relay);

  // Sections placed on the cloud tier, routed through an edge: the edge relays.
  auto relayed = Placement::from_names({"end", "cloud", "cloud"}).dispatch(false);
  EXPECT_TRUE(relayed.relay);
  EXPECT_EQ(relayed.stage, Stage::kEdgeThenCloud);
  auto relayed_last = Placement::from_names({"end", "end", "cloud"}).dispatch(false);
  EXPECT_TRUE(relayed_last.relay);
  EXPECT_EQ(relayed_last.stage, Stage::kCloud);
  EXPECT_FALSE(Placement::from_names({"end", "end", "cloud"}).dispatch(true).relay);
}

TEST(Placement, FromThePlannersTiersAsFromTheirNames) {
  using mapping::Tier;
  auto planned = Placement::from_plan({Tier::End, Tier::Edge, Tier::Cloud}).dispatch(false);
  auto named = Placement::from_names({"end", "edge", "cloud"}).dispatch(false);
  EXPECT_EQ(planned.stage, named.stage);
  EXPECT_EQ(planned.relay, named.relay);
  EXPECT_EQ(Placement::from_plan({Tier::End, Tier::End, Tier::Edge}).local_sections(), 2u);
  EXPECT_THROW(Placement::from_plan({Tier::Edge, Tier::Edge, Tier::Cloud}), ConfigError);
}

TEST(Placement, MalformedPlansAreConfigErrors) {
  EXPECT_THROW(Placement::from_names({"end", "edge"}), ConfigError);
  EXPECT_THROW(Placement::from_names({"edge", "edge", "cloud"}), ConfigError);  // raw inputs would leave
  EXPECT_THROW(Placement::from_names({"end", "cloud", "edge"}), ConfigError);   // back down the chain
  EXPECT_THROW(Placement::from_names({"end", "fog", "cloud"}), ConfigError);
}

TEST(Payloads, ShortOrBadPayloadsAreCommErrors) {
  EXPECT_THROW(decode_work({1, 2, 3}), CommError);
  auto bytes = encode_work({1, 1, Stage::kEdge, 0, {}});
  bytes[6] = 9;
  EXPECT_THROW(decode_work(bytes), CommError);
  EXPECT_THROW(decode_answer({1, 2}), CommError);
  EXPECT_THROW(decode_control({0xff, 0x00}), CommError);
}

TEST(Payloads, AnswerRoundTrip) {
  auto back = decode_answer(encode_answer({99, 2, 2, 9, 1}));
  EXPECT_EQ(back.request, 99u);
  EXPECT_EQ(back.exit_tier, 2);
  EXPECT_EQ(back.label_set, 2);
  EXPECT_EQ(back.fine, 9);
  EXPECT_EQ(back.label, 1);
}

TEST(Arrivals, PoissonRateAndSeeding) {
  auto a = poisson_arrivals(200, 50, 100, 1, 0);
  EXPECT_NEAR(a.size() / 50.0, 200, 200 * 0.05);
  auto b = poisson_arrivals(200, 50, 100, 1, 0);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(a[10].sample, b[10].sample);
  auto other_rank = poisson_arrivals(200, 50, 100, 1, 1);
  EXPECT_NE(a[0].at_ms, other_rank[0].at_ms);
  for (size_t i = 1; i < a.size(); ++i) ASSERT_GT(a[i].at_ms, a[i - 1].at_ms);
  EXPECT_THROW(poisson_arrivals(-1, 1, 1, 0, 0), ConfigError);
}

TEST(Router, SharesTrackFractionsAndSkipDead) {
  Router router;
  router.set_fractions({{4, 0.25}, {5, 0.75}, {6, 0.0}});
  std::map<int, int> counts;
  for (int i = 0; i < 400; ++i) ++counts[router.next()];
  EXPECT_EQ(counts[4], 100);
  EXPECT_EQ(counts[5], 300);
  EXPECT_EQ(counts.count(6), 0u);
  router.mark_dead(5);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(router.next(), 4);
  router.mark_dead(4);
  EXPECT_EQ(router.next(), -1);
}

TEST(Outcome, PercentileInterpolates) {
  EXPECT_DOUBLE_EQ(percentile({1, 2, 3, 4}, 50), 2.5);
  EXPECT_DOUBLE_EQ(percentile({5}, 99), 5);
  EXPECT_DOUBLE_EQ(percentile({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 90), 10);
}

RequestOutcome answered(uint64_t id, double arrival, double latency, int pred, int label, Tier exit) {
  RequestOutcome r;
  r.id = id;
  r.arrival_ms = arrival;
  r.answered_ms = arrival + latency;
  r.fine_pred = pred;
  r.fine_label = label;
  r.answer_pred = pred;
  r.exit = exit;
  r.answers = 1;
  r.bytes_up = exit == Tier::kEnd ? 0 : 100;
  return r;
}

TEST(Outcome, AnswersBeforeTheCoordinatorsClockZeroStillCount) {
  // An end device whose clock started 50 ms before the coordinator's: its early
  // records carry negative times once moved onto the coordinator's clock.
  const auto results = summarize({answered(1, -50, 20, 3, 3, Tier::kEnd)}, {}, RunInfo{});
  EXPECT_EQ(results["answered"], 1);
  EXPECT_EQ(results["lost"], 0);
  EXPECT_DOUBLE_EQ(results["latency_ms"]["p50"].get<double>(), 20.0);
}

TEST(Outcome, SummarizeCountsLossAccuracyAndExits) {
  std::vector<RequestOutcome> requests = {answered(1, 0, 10, 3, 3, Tier::kEnd), answered(2, 5, 30, 1, 2, Tier::kCloud),
                                          answered(3, 6, 20, 4, 4, Tier::kEdge)};
  RequestOutcome lost;
  lost.id = 4;
  requests.push_back(lost);
  RequestOutcome gone;
  gone.id = 5;
  gone.lost_with_device = true;
  requests.push_back(gone);
  requests[1].answers = 2;
  DeviceStats cloud;
  cloud.busy_ms = 50;
  cloud.elapsed_ms = 100;
  cloud.bytes_sent = 1000;
  RunInfo info;
  info.scheme = "mapping";
  auto r = summarize(requests, {cloud}, info);
  EXPECT_EQ(r["offered"], 5);
  EXPECT_EQ(r["answered"], 3);
  EXPECT_EQ(r["lost"], 1);
  EXPECT_EQ(r["lost_with_device"], 1);
  EXPECT_EQ(r["duplicates"], 0);
  EXPECT_EQ(r["duplicate_answers_dropped"], 1);
  EXPECT_NEAR(r["accuracy"].get<double>(), 2.0 / 3, 1e-12);
  EXPECT_NEAR(r["exit_fraction"]["edge"].get<double>(), 1.0 / 3, 1e-12);
  EXPECT_NEAR(r["latency_ms"]["mean"].get<double>(), 20, 1e-12);
  EXPECT_NEAR(r["bytes_per_sample"].get<double>(), 200.0 / 5, 1e-12);
  EXPECT_EQ(r["wire_bytes"], 1000);
  EXPECT_NEAR(r["per_device"][0]["utilisation"].get<double>(), 0.5, 1e-12);
}

// Three levels: digit, parity (from digit) and small (< 5, from digit). A coarse answer
// counts in the sets it determines; elsewhere the exit's finest class does.
TEST(Outcome, AccuracyPerDeclaredLabelSet) {
  std::vector<int64_t> parity, small;
  for (int d = 0; d < 10; ++d) parity.push_back(d % 2), small.push_back(d < 5 ? 1 : 0);
  RunInfo info;
  info.labels = data::LabelSets::from_json(
      {{{"name", "digit"}, {"classes", {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}}},
       {{"name", "parity"}, {"from", "digit"}, {"map", parity}},
       {{"name", "small"}, {"from", "digit"}, {"map", small}}},
      "labels");
  auto fine_right = answered(1, 0, 10, 3, 3, Tier::kCloud);   // 3: right everywhere
  auto fine_wrong = answered(2, 0, 10, 5, 3, Tier::kCloud);   // 5 for 3: right parity, wrong small
  auto parity_answer = answered(3, 0, 10, 8, 7, Tier::kEnd);  // parity "odd" for 7, finest argmax 8
  parity_answer.answer_set = 1;
  parity_answer.answer_pred = 1;
  const auto r = summarize({fine_right, fine_wrong, parity_answer}, {}, info);
  EXPECT_NEAR(r["label_accuracy"]["digit"].get<double>(), 1.0 / 3, 1e-12);
  EXPECT_NEAR(r["label_accuracy"]["parity"].get<double>(), 1.0, 1e-12);
  EXPECT_NEAR(r["label_accuracy"]["small"].get<double>(), 2.0 / 3, 1e-12);  // 8 says not small; 7 is not small either
  EXPECT_NEAR(r["accuracy"].get<double>(), 1.0 / 3, 1e-12);
  EXPECT_NEAR(r["coarse_accuracy"].get<double>(), 1.0, 1e-12);
  EXPECT_NEAR(r["on_time_rate"].get<double>(), 2.0 / 3, 1e-12);
}

TEST(Outcome, CryptoSumsRejectionsInjectionsAndResends) {
  std::vector<RequestOutcome> requests = {answered(1, 0, 10, 3, 3, Tier::kEdge), answered(2, 0, 10, 3, 3, Tier::kEdge)};
  requests[0].resends = 2;
  DeviceStats edge, end;
  edge.rejected = 3;
  edge.rejected_by_reason = {{"failed authentication", 2}, {"malformed", 1}};
  end.rejected = 1;
  end.rejected_by_reason = {{"failed authentication", 1}};
  end.injected = {{"flip", 3}};
  auto crypto = summarize(requests, {edge, end}, RunInfo{})["crypto"];
  EXPECT_EQ(crypto["rejected"], 4);
  EXPECT_EQ(crypto["rejected_by_reason"]["failed authentication"], 3);
  EXPECT_EQ(crypto["rejected_by_reason"]["malformed"], 1);
  EXPECT_EQ(crypto["injected"], nlohmann::json({{"flip", 3}}));
  EXPECT_EQ(crypto["resent"], 2);
}

TEST(RunConfig, RejectsUnknownSchemeAndWrongTypes) {
  nlohmann::json j = {{"model", "m"}, {"topology", "t"}, {"scheme", "edge-only"}};
  EXPECT_THROW(j.get<RunConfig>(), ConfigError);
  j["scheme"] = "end";
  j["rate"] = "fast";
  EXPECT_THROW(j.get<RunConfig>(), ConfigError);
  j["rate"] = 5;
  EXPECT_EQ(j.get<RunConfig>().rate_per_s, 5);
}

// The ConfigError thrown for `j`, or "" when it loads.
std::string config_error(const nlohmann::json& j) {
  try {
    j.get<RunConfig>();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(RunConfig, TamperEntriesAreCheckedNamingTheField) {
  nlohmann::json j = {
      {"model", "m"},
      {"topology", "t"},
      {"out", "r.json"},
      {"tamper", {{{"kind", "wrong-key"}, {"rank", 2}, {"count", 3}}, {{"kind", "capture"}, {"rank", 0}}}}};
  const auto config = j.get<RunConfig>();
  ASSERT_EQ(config.tamper.size(), 2u);
  EXPECT_EQ(config.tamper[0].kind, TamperKind::kWrongKey);
  EXPECT_EQ(config.tamper[0].count, 3);
  EXPECT_EQ(config.tamper[1].count, 1);
  EXPECT_EQ(nlohmann::json(config)["tamper"][0]["kind"], "wrong-key");
  EXPECT_THROW(check_tamper_ranks(config, 2), ConfigError);
  EXPECT_NO_THROW(check_tamper_ranks(config, 3));
  for (const auto& [entry, message] : std::vector<std::pair<nlohmann::json, std::string>>{
           {{{"kind", "melt"}, {"rank", 0}}, "kind 'melt' unknown"},
           {{{"kind", "flip"}, {"rank", -1}}, "rank must be >= 0"},
           {{{"kind", "flip"}, {"rank", 0}, {"count", 0}}, "count must be >= 1"},
           {{{"kind", "flip"}}, "expected {"},
           {{{"kind", "flip"}, {"rank", "zero"}}, "wrong type"}}) {
    j["tamper"] = {entry};
    EXPECT_NE(config_error(j).find("'tamper'"), std::string::npos) << entry;
    EXPECT_NE(config_error(j).find(message), std::string::npos) << config_error(j);
  }
  j["tamper"] = {{{"kind", "flip"}, {"rank", 1}}, {{"kind", "flip"}, {"rank", 1}}};
  EXPECT_NE(config_error(j).find("listed twice"), std::string::npos);
  j["tamper"] = {{{"kind", "flip"}, {"rank", 1}}};
  j["encrypt"] = false;
  EXPECT_NE(config_error(j).find("needs encrypt"), std::string::npos);
  j["tamper"] = {{{"kind", "capture"}, {"rank", 1}}};
  EXPECT_EQ(config_error(j), "");
  j["out"] = "";
  EXPECT_NE(config_error(j).find("capture needs 'out'"), std::string::npos);
}

TEST(RoundTripEstimator, TimeoutHasAFloorFollowsTheRoundTripAndBacksOff) {
  RoundTripEstimator estimator(300);
  EXPECT_EQ(estimator.smoothed_ms(), 0);
  EXPECT_EQ(estimator.timeout_ms(0), 300);
  estimator.predict(40);  // srtt 40, rttvar 20: 2 x (40 + 80)
  EXPECT_EQ(estimator.timeout_ms(0), 300);
  estimator.predict(100);
  EXPECT_DOUBLE_EQ(estimator.timeout_ms(0), 600);
  estimator.observe(200);  // the first sample replaces the prediction: srtt 200, rttvar 100
  estimator.predict(10);   // ignored once sampled
  EXPECT_DOUBLE_EQ(estimator.smoothed_ms(), 200);
  EXPECT_DOUBLE_EQ(estimator.timeout_ms(0), 1200);
  EXPECT_DOUBLE_EQ(estimator.timeout_ms(2), 4800);
  estimator.observe(300);  // rttvar 100 + 0.25 x (100 - 100), srtt 200 + 0.2 x 100
  EXPECT_DOUBLE_EQ(estimator.smoothed_ms(), 220);
  EXPECT_DOUBLE_EQ(estimator.timeout_ms(0), 2 * (220 + 4 * 100));
  for (int i = 0; i < 200; ++i) estimator.observe(10);
  EXPECT_EQ(estimator.timeout_ms(0), 300);
  EXPECT_THROW(RoundTripEstimator(0), ConfigError);
}

TEST(FailureDetector, SilenceBeyondThreeHeartbeatsOfAReadyRankIsADeath) {
  FailureDetector detector(100, 5);  // heartbeats every 100 ms, 5 s to start
  const auto unknown = [](int) { return comm::ProcessLiveness::kUnknown; };
  detector.watch({1, 2}, 0);
  EXPECT_TRUE(detector.overdue(1000, unknown, {}).empty());  // not ready: 5 s to say so
  EXPECT_EQ(detector.overdue(5000, unknown, {}).size(), 2u);
  detector.heard_from(1, 1000);
  detector.heard_from(2, 1000);
  EXPECT_TRUE(detector.overdue(1299, unknown, {}).empty());
  EXPECT_EQ(detector.overdue(1300, unknown, {}), (std::map<int, double>{{1, 300}, {2, 300}}));
  EXPECT_EQ(detector.overdue(1300, unknown, {2}), (std::map<int, double>{{1, 300}}));  // 2 reported its end
  detector.declare_dead(1, 300, 1300);
  EXPECT_TRUE(detector.is_dead(1));
  EXPECT_EQ(detector.overdue(2000, unknown, {2}).size(), 0u);  // dead once only
  ASSERT_EQ(detector.failures().size(), 1u);
  EXPECT_EQ(detector.failures()[0].detected_at_ms, 1300);
  EXPECT_EQ(detector.failures()[0].detected_after_ms, 300);
}

TEST(FailureDetector, ProcessChecksShortenOrLengthenTheWait) {
  FailureDetector detector(100, 5);
  detector.watch({1, 2}, 0);
  const auto one_gone = [](int rank) {
    return rank == 1 ? comm::ProcessLiveness::kDead : comm::ProcessLiveness::kAlive;
  };
  EXPECT_EQ(detector.overdue(300, one_gone, {}), (std::map<int, double>{{1, 300}}));  // gone: not awaited
  detector.heard_from(2, 0);
  EXPECT_TRUE(detector.overdue(2999, one_gone, {1}).empty());  // running here: only slow, 10 times longer
  EXPECT_EQ(detector.overdue(3000, one_gone, {1}).size(), 1u);
}

TEST(FailureDetector, ADeadRankStillSpeakingAHeartbeatLaterIsReadmitted) {
  FailureDetector detector(100, 5);
  detector.watch({1}, 0);
  EXPECT_FALSE(detector.heard_from(1, 10));
  detector.declare_dead(1, 300, 310);
  EXPECT_FALSE(detector.heard_from(1, 500));  // its first frame since the verdict: maybe sent before it died
  EXPECT_FALSE(detector.heard_from(1, 560));
  EXPECT_TRUE(detector.is_dead(1));
  EXPECT_TRUE(detector.heard_from(1, 600));  // a heartbeat period later: back
  EXPECT_FALSE(detector.is_dead(1));
  EXPECT_EQ(detector.failures().at(0).rejoined_at_ms, 600);
  EXPECT_FALSE(detector.heard_from(1, 700));
}

TEST(FailureDetector, FramesSentBeforeDeathDoNotReadmit) {
  FailureDetector detector(100, 5);
  detector.watch({1}, 0);
  detector.heard_from(1, 10);
  detector.declare_dead(1, 300, 310);
  for (double at : {311.0, 330.0, 360.0}) EXPECT_FALSE(detector.heard_from(1, at));  // a burst in flight
  EXPECT_TRUE(detector.is_dead(1));
  EXPECT_EQ(detector.failures().at(0).rejoined_at_ms, -1);
}

TEST(Retransmissions, OverdueWorkIsCountedAndBacksOffAndOnlyFirstSendsAreSampled) {
  RequestLedger ledger(0, 0);
  ledger.open(0, 0, 0, 1);
  ledger.open(1, 0, 1, 2);
  Retransmissions<int> kept;
  Retransmissions<int>::mark_sent(kept.keep(0, 100), 0);
  Retransmissions<int>::mark_sent(kept.keep(1, 101), 0);
  EXPECT_TRUE(kept.overdue(kRetransmitFloorMs - 1, ledger).empty());
  EXPECT_EQ(kept.overdue(kRetransmitFloorMs, ledger), (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(ledger.at(0).resends, 1u);
  Retransmissions<int>::mark_sent(kept.at(0), kRetransmitFloorMs);
  EXPECT_EQ(kept.at(0).sends, 2u);
  // Backed off: twice the floor after one re-send.
  EXPECT_TRUE(kept.overdue(2 * kRetransmitFloorMs, ledger) == std::vector<uint32_t>{1});
  kept.answered(0, 3 * kRetransmitFloorMs);  // re-sent: no sample (Karn)
  EXPECT_EQ(kept.round_trip().smoothed_ms(), 0);
  Retransmissions<int>::mark_sent(kept.keep(2, 102), 0);
  kept.answered(2, 40);
  EXPECT_EQ(kept.round_trip().smoothed_ms(), 40);
  EXPECT_FALSE(kept.contains(0));
  EXPECT_TRUE(kept.contains(1));
}

}  // namespace
