#include "hddnn/nn/train_config.hpp"

#include "hddnn/errors.hpp"
#include "hddnn/nn/device.hpp"

namespace hddnn::nn {
namespace {

template <typename T>
void take(const nlohmann::json& j, const std::string& key, T& value) {
  try {
    value = j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw ConfigError("training." + key + ": wrong type (" + j.at(key).dump() + ")");
  }
}

}  // namespace

TrainConfig train_config_from_json(const nlohmann::json& j, TrainConfig c) {
  if (!j.is_object()) throw ConfigError("training: expected an object");
  for (const auto& item : j.items()) {
    const auto& k = item.key();
    if (k == "epochs") take(j, k, c.epochs);
    else if (k == "batch_size") take(j, k, c.batch_size);
    else if (k == "optimizer") take(j, k, c.optimizer);
    else if (k == "lr") take(j, k, c.lr);
    else if (k == "weight_decay") take(j, k, c.weight_decay);
    else if (k == "schedule") take(j, k, c.schedule);
    else if (k == "warmup") take(j, k, c.warmup);
    else if (k == "augment") take(j, k, c.augment);
    else if (k == "device_dropout") take(j, k, c.device_dropout);
    else if (k == "seed") take(j, k, c.seed);
    else if (k == "threads") take(j, k, c.threads);
    else if (k == "checkpoint") take(j, k, c.checkpoint);
    else if (k == "checkpoint_every") take(j, k, c.checkpoint_every);
    else if (k == "stop_after") take(j, k, c.stop_after);
    else if (k == "device") take(j, k, c.device);
    else if (k == "amp") take(j, k, c.amp);
    else throw ConfigError("training." + k + ": unknown setting");
  }
  if (c.optimizer != "adam" && c.optimizer != "sgd")
    throw ConfigError("training.optimizer: expected adam or sgd, got '" + c.optimizer + "'");
  if (c.schedule != "onecycle" && c.schedule != "cosine" && c.schedule != "constant")
    throw ConfigError("training.schedule: expected onecycle, cosine or constant, got '" + c.schedule + "'");
  if (c.epochs < 1) throw ConfigError("training.epochs: must be >= 1");
  if (c.batch_size < 1) throw ConfigError("training.batch_size: must be >= 1");
  if (c.device_dropout < 0.0 || c.device_dropout >= 1.0)
    throw ConfigError("training.device_dropout: must be in [0, 1)");
  const bool cuda = parse_device(c.device, "training.device").is_cuda();
  if (c.amp && !cuda)
    throw ConfigError("training.amp: mixed precision needs a CUDA device (training.device is \"" + c.device + "\")");
  return c;
}

nlohmann::json to_json(const TrainConfig& c) {
  return {{"epochs", c.epochs},
          {"batch_size", c.batch_size},
          {"optimizer", c.optimizer},
          {"lr", c.lr},
          {"weight_decay", c.weight_decay},
          {"schedule", c.schedule},
          {"warmup", c.warmup},
          {"augment", c.augment},
          {"device_dropout", c.device_dropout},
          {"seed", c.seed},
          {"threads", c.threads},
          {"checkpoint", c.checkpoint},
          {"checkpoint_every", c.checkpoint_every},
          {"stop_after", c.stop_after},
          {"device", c.device},
          {"amp", c.amp}};
}

nlohmann::json to_json(const EpochRecord& r) {
  return {{"epoch", r.epoch}, {"step", r.step},       {"loss", r.loss},
          {"lr", r.lr},       {"seconds", r.seconds}, {"val_accuracy", r.val_accuracy}};
}

EpochRecord epoch_record_from_json(const nlohmann::json& j) {
  EpochRecord r;
  r.epoch = j.at("epoch").get<int64_t>();
  r.step = j.at("step").get<int64_t>();
  r.loss = j.at("loss").get<double>();
  r.lr = j.at("lr").get<double>();
  r.seconds = j.at("seconds").get<double>();
  r.val_accuracy = j.at("val_accuracy").get<std::map<std::string, double>>();
  return r;
}

}  // namespace hddnn::nn
