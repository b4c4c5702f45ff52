#include "hddnn/parallel/shared_devices.hpp"

#include <set>

#include "hddnn/comm/mpi_check.hpp"

namespace hddnn::parallel {

bool any_placement_shared(const std::vector<std::string>& placements) {
  return std::set<std::string>(placements.begin(), placements.end()).size() != placements.size();
}

bool ranks_share_a_device(MPI_Comm comm, int cuda_device) {
  constexpr int kWidth = MPI_MAX_PROCESSOR_NAME + 16;
  char host[MPI_MAX_PROCESSOR_NAME] = {};
  int length = 0;
  MPI_CHECK(MPI_Get_processor_name(host, &length));
  std::string mine = std::string(host, length) + "#" + std::to_string(cuda_device);
  mine.resize(kWidth, '\0');
  int size = 0;
  MPI_CHECK(MPI_Comm_size(comm, &size));
  std::vector<char> all(static_cast<std::size_t>(size) * kWidth);
  MPI_CHECK(MPI_Allgather(mine.data(), kWidth, MPI_CHAR, all.data(), kWidth, MPI_CHAR, comm));
  std::vector<std::string> placements;
  for (int r = 0; r < size; ++r) placements.emplace_back(all.data() + static_cast<std::size_t>(r) * kWidth);
  return any_placement_shared(placements);
}

}  // namespace hddnn::parallel
