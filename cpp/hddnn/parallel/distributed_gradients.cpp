#include "hddnn/parallel/distributed_gradients.hpp"

#include <string>

#include "hddnn/errors.hpp"
#ifdef HDDNN_WITH_NCCL
#include "hddnn/comm/nccl/nccl_collectives.hpp"
#endif

namespace hddnn::parallel {

namespace {

comm::DType dtype_of(const torch::Tensor& tensor, std::size_t index) {
  if (tensor.scalar_type() == torch::kFloat32) return comm::DType::Float32;
  if (tensor.scalar_type() == torch::kFloat64) return comm::DType::Float64;
  throw CommError("tensor " + std::to_string(index) + ": dtype " + std::string(c10::toString(tensor.scalar_type())) +
                  " cannot be reduced (expected float32 or float64)");
}

// Group key: dtype and device kind; buckets never mix them.
int group_of(const torch::Tensor& tensor, std::size_t index) {
  return static_cast<int>(dtype_of(tensor, index)) * 2 + (tensor.is_cuda() ? 1 : 0);
}

torch::Tensor flatten(const std::vector<torch::Tensor>& tensors, const Bucket& bucket) {
  std::vector<torch::Tensor> pieces;
  pieces.reserve(bucket.members.size());
  for (std::size_t index : bucket.members) pieces.push_back(tensors[index].detach().reshape({-1}));
  return torch::cat(pieces);
}

void copy_back(const torch::Tensor& flat, const std::vector<torch::Tensor>& tensors, const Bucket& bucket) {
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  for (std::size_t index : bucket.members) {
    const torch::Tensor& tensor = tensors[index];
    tensor.copy_(flat.narrow(0, offset, tensor.numel()).view_as(tensor));
    offset += tensor.numel();
  }
}

}  // namespace

DistributedGradients::DistributedGradients(MPI_Comm comm, DistributedOptions options) : mpi_(comm), options_(options) {
  if (options_.bucket_bytes == 0) throw ConfigError("DistributedOptions.bucket_bytes: expected a size > 0");
}

DistributedGradients::~DistributedGradients() = default;

comm::Collectives& DistributedGradients::backend_for(const torch::Tensor& tensor) {
  if (!tensor.is_cuda()) return mpi_;
#ifdef HDDNN_WITH_NCCL
  if (!nccl_) nccl_ = std::make_unique<comm::nccl::NcclCollectives>(mpi_.communicator(), tensor.get_device());
  return *nccl_;
#else
  throw CommError("CUDA tensor on " + tensor.device().str() +
                  ": this build has no NCCL backend (configure with -DHDDNN_WITH_NCCL=ON)");
#endif
}

std::vector<Bucket> DistributedGradients::plan(const std::vector<torch::Tensor>& tensors) const {
  std::vector<TensorSlot> slots;
  slots.reserve(tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    if (!tensors[i].defined()) throw CommError("tensor " + std::to_string(i) + " is undefined");
    slots.push_back(
        {static_cast<std::size_t>(tensors[i].numel()) * tensors[i].element_size(), group_of(tensors[i], i)});
  }
  return plan_buckets(slots, options_.bucket_bytes);
}

void DistributedGradients::reduce_mean(const std::vector<torch::Tensor>& tensors) {
  std::vector<Bucket> buckets = plan(tensors);
  std::vector<torch::Tensor> flats;
  for (const Bucket& bucket : buckets) {
    flats.push_back(flatten(tensors, bucket));
    const torch::Tensor& flat = flats.back();
    comm::DType dtype = dtype_of(flat, bucket.members.front());
    if (flat.is_cuda()) backend_for(flat).allreduce_sum(flat.data_ptr(), flat.numel(), dtype);
    else mpi_.start_allreduce_sum(flat.data_ptr(), flat.numel(), dtype);  // all CPU buckets in flight together
  }
  mpi_.wait_all();
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    flats[b].div_(static_cast<double>(size()));
    copy_back(flats[b], tensors, buckets[b]);
  }
  last_buckets_ = buckets.size();
}

void DistributedGradients::average_tensors(const std::vector<torch::Tensor>& tensors) { reduce_mean(tensors); }

void DistributedGradients::average(const std::vector<torch::Tensor>& parameters) {
  std::vector<torch::Tensor> gradients;
  gradients.reserve(parameters.size());
  for (const torch::Tensor& parameter : parameters) {
    if (!parameter.grad().defined()) parameter.mutable_grad() = torch::zeros_like(parameter);
    gradients.push_back(parameter.grad());
  }
  reduce_mean(gradients);
}

void DistributedGradients::broadcast(const std::vector<torch::Tensor>& tensors, int root) {
  std::vector<Bucket> buckets = plan(tensors);
  for (const Bucket& bucket : buckets) {
    torch::Tensor flat = flatten(tensors, bucket);
    backend_for(flat).broadcast(flat.data_ptr(), flat.numel(), dtype_of(flat, bucket.members.front()), root);
    copy_back(flat, tensors, bucket);
  }
  last_buckets_ = buckets.size();
}

}  // namespace hddnn::parallel
