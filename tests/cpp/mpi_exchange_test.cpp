// Runs under mpirun with >= 3 ranks: every rank sends a stamped buffer to its
// right neighbour and receives from its left one, non-blocking with a deadline.
#include <gtest/gtest.h>
#include <mpi.h>

#include <chrono>
#include <numeric>
#include <vector>

#include "hddnn/comm/mpi_check.hpp"
#include "hddnn/comm/mpi_env.hpp"

namespace {

using namespace hddnn;

bool wait_with_deadline(MPI_Request* requests, int count, std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  int done = 0;
  while (!done && std::chrono::steady_clock::now() < until) {
    MPI_CHECK(MPI_Testall(count, requests, &done, MPI_STATUSES_IGNORE));
  }
  return done != 0;
}

TEST(MpiExchange, RingPassesStampedBuffers) {
  const int rank = comm::world_rank(), size = comm::world_size();
  ASSERT_GE(size, 3) << "run this test with mpirun -n 3 or more";
  std::vector<int> out(1024), in(1024, -1);
  std::iota(out.begin(), out.end(), rank * 100000);
  MPI_Request requests[2];
  MPI_CHECK(MPI_Irecv(in.data(), 1024, MPI_INT, (rank + size - 1) % size, 7, MPI_COMM_WORLD, &requests[0]));
  MPI_CHECK(MPI_Isend(out.data(), 1024, MPI_INT, (rank + 1) % size, 7, MPI_COMM_WORLD, &requests[1]));
  ASSERT_TRUE(wait_with_deadline(requests, 2, std::chrono::seconds(20)));
  const int left = (rank + size - 1) % size;
  for (int i = 0; i < 1024; ++i) ASSERT_EQ(in[i], left * 100000 + i);
}

TEST(MpiExchange, AllRanksAgreeOnSum) {
  const int rank = comm::world_rank(), size = comm::world_size();
  int sum = 0;
  MPI_CHECK(MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD));
  EXPECT_EQ(sum, size * (size - 1) / 2);
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  comm::ensure_initialized();
  int failed = RUN_ALL_TESTS();
  int any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  comm::finalize();
  return any_failed;
}
