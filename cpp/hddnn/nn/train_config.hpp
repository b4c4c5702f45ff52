// Settings of a training run and the state a run leaves behind (for resume).
//
// Defaults are those of `hddnn train`; a spec may override them in its "training"
// object and callers (Python keyword arguments) override both. Unknown keys throw
// ConfigError naming the key.
#pragma once

#include <torch/types.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace hddnn::nn {

struct TrainConfig {
  int64_t epochs = 6;
  int64_t batch_size = 128;
  std::string optimizer = "adam";  ///< adam (AdamW) | sgd (Nesterov momentum 0.9)
  double lr = 4e-3;                ///< peak learning rate
  double weight_decay = 1e-4;
  std::string schedule = "onecycle";  ///< onecycle | cosine | constant
  double warmup = 0.15;               ///< onecycle: fraction of steps warming up
  bool augment = true;                ///< random shifts of up to 2 pixels, horizontal flips (one view)
  double device_dropout = 0.15;       ///< multi-view: probability a device's view is masked out
  uint64_t seed = 0;
  int64_t threads = 0;             ///< torch threads; 0 = all cores
  std::string checkpoint;          ///< path written atomically during training ("" = none)
  int64_t checkpoint_every = 200;  ///< steps between checkpoints (and at each epoch end)
  int64_t stop_after = -1;         ///< stop after this many steps in total, as an interruption would
  std::string device = "cpu";      ///< cpu | cuda (each rank its GPU by local rank) | cuda:N
  bool amp = false;                ///< mixed precision (CUDA autocast and loss scaling); CUDA only
};

TrainConfig train_config_from_json(const nlohmann::json& json, TrainConfig base = {});
nlohmann::json to_json(const TrainConfig& config);

struct EpochRecord {
  int64_t epoch = 0;
  int64_t step = 0;
  double loss = 0.0;  ///< mean joint loss over the epoch's steps
  double lr = 0.0;    ///< learning rate at the epoch's last step
  double seconds = 0.0;
  std::map<std::string, double> val_accuracy;  ///< per exit name
};

nlohmann::json to_json(const EpochRecord& record);
EpochRecord epoch_record_from_json(const nlohmann::json& json);

/// What resuming needs besides the weights.
struct TrainingState {
  int64_t step = 0;  ///< optimizer steps taken
  std::vector<EpochRecord> history;
  torch::Tensor optimizer;  ///< serialized optimizer state (uint8), undefined before training
  double loss_sum = 0.0;    ///< running sum of the current epoch's losses
};

}  // namespace hddnn::nn
