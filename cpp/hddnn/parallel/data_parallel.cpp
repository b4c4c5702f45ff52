#include "hddnn/parallel/data_parallel.hpp"

namespace hddnn::parallel {

nn::DataParallel data_parallel(DistributedGradients& gradients) {
  nn::DataParallel parallel;
  parallel.rank = gradients.rank();
  parallel.size = gradients.size();
  parallel.average_gradients = [&gradients](const std::vector<torch::Tensor>& p) { gradients.average(p); };
  parallel.average = [&gradients](const std::vector<torch::Tensor>& t) { gradients.average_tensors(t); };
  parallel.broadcast = [&gradients](const std::vector<torch::Tensor>& t) { gradients.broadcast(t); };
  return parallel;
}

}  // namespace hddnn::parallel
