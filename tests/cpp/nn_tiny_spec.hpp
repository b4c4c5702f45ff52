// Tiny network specs shared by the nn tests: fast to build and train.
#pragma once

#include <nlohmann/json.hpp>

namespace hddnn::nn::specs {

inline nlohmann::json tiny_single_spec(const std::string& quantize = "1bit") {
  return nlohmann::json::parse(R"({
    "name": "tiny", "views": "single",
    "sections": [
      {"tier": "end",
       "blocks": [{"type": "conv", "out": 4, "kernel": 3, "stride": 2}, {"type": "batchnorm"},
                  {"type": "activation"}, {"type": "dwsep", "out": 8, "stride": 2}],
       "exits": [{"labels": "fine", "weight": 1.0, "blocks": [{"type": "pool", "mode": "avg", "global": true}]},
                 {"labels": "coarse", "weight": 0.5, "blocks": [{"type": "pool", "mode": "avg", "global": true}]}],
       "output": {"blocks": [{"type": "conv", "out": 2, "kernel": 1}, {"type": "batchnorm"}], "quantize": ")" +
                               quantize + R"("}},
      {"tier": "edge",
       "blocks": [{"type": "conv", "out": 8, "kernel": 3}, {"type": "activation", "function": "relu6"}],
       "exits": [{"labels": "fine", "weight": 1.0, "blocks": [{"type": "pool", "mode": "max", "kernel": 2}]}],
       "output": {"quantize": "8bit"}},
      {"tier": "cloud",
       "blocks": [{"type": "residual", "out": 8}, {"type": "dropout", "p": 0.2}, {"type": "linear", "out": 16}],
       "exits": [{"labels": "fine", "weight": 1.0}]}
    ]})");
}

inline nlohmann::json tiny_multiview_spec(const std::string& aggregator = "max") {
  return nlohmann::json::parse(R"({
    "name": "tiny6", "views": "grid6",
    "sections": [
      {"tier": "end",
       "blocks": [{"type": "conv", "out": 4, "kernel": 3, "stride": 2}, {"type": "activation"}],
       "exits": [{"labels": "fine", "blocks": [{"type": "pool", "mode": "avg", "global": true}]}],
       "output": {"blocks": [{"type": "conv", "out": 2, "kernel": 3, "stride": 2}], "quantize": "1bit"}},
      {"tier": "edge", "aggregator": ")" +
                               aggregator + R"(",
       "blocks": [{"type": "conv", "out": 8, "kernel": 3}, {"type": "activation"}],
       "exits": [{"labels": "fine", "blocks": [{"type": "pool", "mode": "avg", "global": true}]},
                 {"labels": "coarse", "blocks": [{"type": "pool", "mode": "avg", "global": true}]}]}
    ]})");
}

}  // namespace hddnn::nn::specs
