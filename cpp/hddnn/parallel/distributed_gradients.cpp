#include "hddnn/parallel/distributed_gradients.hpp"

#include <algorithm>
#include <string>

#include "hddnn/errors.hpp"
#ifdef HDDNN_WITH_NCCL
#include "hddnn/comm/nccl/nccl_collectives.hpp"
#include "hddnn/parallel/shared_devices.hpp"
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

void DistributedGradients::choose_cuda_path(const std::vector<torch::Tensor>& tensors) {
  if (cuda_path_ != CudaPath::kUndecided) return;
  auto cuda = std::find_if(tensors.begin(), tensors.end(), [](const torch::Tensor& t) { return t.is_cuda(); });
  if (cuda == tensors.end()) return;
  cuda_path_ = CudaPath::kHostStaged;
#ifdef HDDNN_WITH_NCCL
  if (!ranks_share_a_device(mpi_.communicator(), cuda->get_device())) {
    nccl_ = std::make_unique<comm::nccl::NcclCollectives>(mpi_.communicator(), cuda->get_device());
    cuda_path_ = CudaPath::kNccl;
  }
#endif
}

std::string DistributedGradients::cuda_path() const {
  switch (cuda_path_) {
    case CudaPath::kNccl: return "nccl";
    case CudaPath::kHostStaged: return "host-staged mpi";
    default: return "none yet";
  }
}

// The buffer MPI reduces for `flat`: itself on the host, a host copy of a CUDA buffer
// NCCL does not take; undefined when NCCL reduces it in place.
torch::Tensor DistributedGradients::host_buffer(const torch::Tensor& flat) const {
  if (!flat.is_cuda()) return flat;
  return cuda_path_ == CudaPath::kNccl ? torch::Tensor() : flat.to(torch::kCPU);
}

std::vector<Bucket> DistributedGradients::plan(const std::vector<torch::Tensor>& tensors) {
  std::vector<TensorSlot> slots;
  slots.reserve(tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    if (!tensors[i].defined()) throw CommError("tensor " + std::to_string(i) + " is undefined");
    slots.push_back(
        {static_cast<std::size_t>(tensors[i].numel()) * tensors[i].element_size(), group_of(tensors[i], i)});
  }
  choose_cuda_path(tensors);
  return plan_buckets(slots, options_.bucket_bytes);
}

void DistributedGradients::reduce_mean(const std::vector<torch::Tensor>& tensors) {
  std::vector<Bucket> buckets = plan(tensors);
  std::vector<torch::Tensor> flats, hosts;
  for (const Bucket& bucket : buckets) {
    flats.push_back(flatten(tensors, bucket));
    hosts.push_back(host_buffer(flats.back()));
    comm::DType dtype = dtype_of(flats.back(), bucket.members.front());
    if (!hosts.back().defined()) nccl_->allreduce_sum(flats.back().data_ptr(), flats.back().numel(), dtype);
    else mpi_.start_allreduce_sum(hosts.back().data_ptr(), hosts.back().numel(), dtype);  // all in flight together
  }
  mpi_.wait_all();
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    if (hosts[b].defined() && !hosts[b].is_same(flats[b])) flats[b].copy_(hosts[b]);
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
    torch::Tensor flat = flatten(tensors, bucket), host = host_buffer(flat);
    comm::Collectives& backend = host.defined() ? static_cast<comm::Collectives&>(mpi_) : *nccl_;
    torch::Tensor& buffer = host.defined() ? host : flat;
    backend.broadcast(buffer.data_ptr(), buffer.numel(), dtype_of(flat, bucket.members.front()), root);
    if (!buffer.is_same(flat)) flat.copy_(buffer);
    copy_back(flat, tensors, bucket);
  }
  last_buckets_ = buckets.size();
}

}  // namespace hddnn::parallel
