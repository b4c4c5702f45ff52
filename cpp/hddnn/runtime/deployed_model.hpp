// The exported sections of a trained network, as the runtime runs them: one
// TorchScript file per tier (end.pt, edge.pt, cloud.pt) and manifest.json, from
// an `hddnn train --out` folder. A rank loads only the sections it may run.
//
// Contract: run() takes a batch-1 input for the section (the image for `end`,
// the unpacked features of the previous section otherwise) and returns its exits'
// logits (per label set of the manifest) and, except for the last section, the quantized features to pass on.
// A multi-view model (DDNN's setting, view_count() > 1) has one end section per
// view ("end<v>", or one shared "end"): a device loads the one of its view, and
// the aggregating edge section takes every view's features, stacked by
// stack_views(), with a mask of the views present.
// pack()/unpack() give the wire form of the features crossing a boundary, exactly
// as the manifest's quantization and shape say. Torch runs single-threaded here, so that
// the thread's CPU time measures a section's compute.
// Device: the sections run on `device` (a GPU for a topology device naming an
// accelerator); run() takes and returns host tensors, copying in and out, so packing,
// unpacking and the exit policy stay on the host.
#pragma once

#include <torch/script.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hddnn/data/label_sets.hpp"
#include "hddnn/data/labelled_images.hpp"
#include "hddnn/runtime/outcome.hpp"

namespace hddnn::runtime {

struct SectionResult {
  std::vector<torch::Tensor> logits;  ///< 1 x classes per label set, undefined where the section has no such exit
  torch::Tensor features;             ///< undefined for the last section
};

/// Decision of the DDNN exit policy at one section's exits.
struct ExitDecision {
  bool fine_confident = false;  ///< the exit onto the finest set is confident
  int fine = 0;                 ///< its class
  int coarse_set = -1;          ///< a confident coarser exit's label set (the one with most classes), -1: none
  int coarse = 0;               ///< its class
  bool coarse_confident() const { return coarse_set >= 0; }
};

class DeployedModel {
 public:
  /// Loads manifest.json and the sections in `tiers` from `export_dir`; `view` is the
  /// view an end device of a multi-view model sees (-1: a single-view device).
  DeployedModel(const std::string& export_dir, const std::vector<Tier>& tiers, int view = -1,
                torch::Device device = torch::kCPU);

  /// `mask` (1 x V, 1 = view present) is for the aggregating section of a multi-view model.
  SectionResult run(Tier tier, const torch::Tensor& input, const torch::Tensor& mask = {});
  int view_count() const { return view_count_; }
  /// Where the sections run.
  torch::Device device() const { return device_; }
  /// The views' name (single, quadrants, grid6), as the data reader takes it.
  std::string views() const { return manifest_.value("views", "single"); }
  /// The aggregating section's input and mask from each view's packed features (empty = absent).
  std::pair<torch::Tensor, torch::Tensor> stack_views(const std::vector<std::vector<uint8_t>>& views) const;
  std::vector<uint8_t> pack(Tier from, const torch::Tensor& features) const;
  torch::Tensor unpack(Tier to, const std::vector<uint8_t>& bytes) const;

  /// Applies the exit policy with the manifest's thresholds (or `override_threshold` >= 0).
  ExitDecision decide(Tier tier, const SectionResult& result, double override_threshold) const;
  /// The model's label sets (the manifest's "labels"; the first is the finest).
  const data::LabelSets& label_sets() const { return labels_; }
  /// DataError naming `source` when request samples (images N x V x C x H x W, finest
  /// labels) do not fit the end section's input or the finest label set.
  void check_requests(const data::LabelledImages& samples, const std::string& source) const;

 private:
  struct Section;
  void check_view(int view) const;
  std::string section_name(Tier tier, int view) const;
  void read_section_manifest(Tier tier, const std::string& name, Section& section) const;
  void load_module(Section& section) const;
  void warm_up();
  std::map<Tier, std::shared_ptr<Section>> sections_;
  nlohmann::json manifest_;
  data::LabelSets labels_;
  std::string dir_;
  int view_count_ = 1;
  torch::Device device_ = torch::kCPU;
};

}  // namespace hddnn::runtime
