// Process-wide MPI lifetime for hddnn.
//
// Contract: ensure_initialized() initialises MPI once per process at
// MPI_THREAD_MULTIPLE (the transport's progress thread and the caller both make
// MPI calls) unless someone else (mpi4py, a test main) already did; errors return
// instead of aborting (MPI_ERRORS_RETURN on MPI_COMM_WORLD). finalize() finalises
// only what this module initialised, and never after mark_peer_failure(): Open MPI
// 4.1.4 can hang in MPI_Finalize once a rank has died.
#pragma once

#include <string>

namespace hddnn::comm {

/// Initialises MPI if needed; returns the thread level provided.
int ensure_initialized();
bool is_initialized();
int world_rank();
int world_size();
/// Finalises MPI if this module initialised it and no peer failure was seen.
void finalize();
/// Records that a peer died, so finalize() skips MPI_Finalize.
void mark_peer_failure();
/// Whether mark_peer_failure() was called in this process.
bool peer_failure_seen();
/// MPI_Get_library_version, first line (callable before MPI_Init).
std::string library_version();

}  // namespace hddnn::comm
