// main() for transport tests under mpirun: initialises MPI at THREAD_MULTIPLE,
// runs the tests on every rank and fails the job when any rank failed.
#pragma once

#include <gtest/gtest.h>
#include <mpi.h>

#include "hddnn/comm/mpi_env.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  hddnn::comm::ensure_initialized();
  int failed = RUN_ALL_TESTS();
  int any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  hddnn::comm::finalize();
  return any_failed;
}
