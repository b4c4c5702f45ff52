// MPI_CHECK(call): runs an MPI call and throws CommError naming the call, the
// MPI error string and file:line when it does not return MPI_SUCCESS.
#pragma once

#include <mpi.h>

#include <string>

#include "hddnn/errors.hpp"

namespace hddnn::comm::detail {

[[noreturn]] inline void throw_mpi_error(int code, const char* call, const char* file, int line) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw CommError(std::string(call) + " failed: " + std::string(text, length) + " (" + file + ":" +
                  std::to_string(line) + ")");
}

}  // namespace hddnn::comm::detail

#define MPI_CHECK(call)                                                                 \
  do {                                                                                  \
    int hddnn_mpi_rc_ = (call);                                                         \
    if (hddnn_mpi_rc_ != MPI_SUCCESS)                                                   \
      ::hddnn::comm::detail::throw_mpi_error(hddnn_mpi_rc_, #call, __FILE__, __LINE__); \
  } while (0)
