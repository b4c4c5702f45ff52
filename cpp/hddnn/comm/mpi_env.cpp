#include "hddnn/comm/mpi_env.hpp"

#include <mpi.h>

#include <atomic>

#include "hddnn/comm/mpi_check.hpp"

namespace hddnn::comm {
namespace {

std::atomic<bool> g_initialised_here{false};
std::atomic<bool> g_peer_failed{false};

}  // namespace

bool is_initialized() {
  int initialised = 0, finalised = 0;
  MPI_Initialized(&initialised);
  MPI_Finalized(&finalised);
  return initialised && !finalised;
}

int ensure_initialized() {
  int provided = 0;
  if (!is_initialized()) {
    MPI_CHECK(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided));
    g_initialised_here = true;
  } else {
    MPI_CHECK(MPI_Query_thread(&provided));
  }
  MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
  return provided;
}

int world_rank() {
  ensure_initialized();
  int rank = 0;
  MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
  return rank;
}

int world_size() {
  ensure_initialized();
  int size = 0;
  MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size));
  return size;
}

void finalize() {
  if (g_initialised_here && !g_peer_failed && is_initialized()) MPI_Finalize();
}

void mark_peer_failure() { g_peer_failed = true; }

bool peer_failure_seen() { return g_peer_failed; }

std::string library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(text, &length);
  std::string version(text, length);
  auto newline = version.find_first_of("\n,");
  return newline == std::string::npos ? version : version.substr(0, newline);
}

}  // namespace hddnn::comm
