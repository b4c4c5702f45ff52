// The MPI backend of Transport.
#pragma once

#include <mpi.h>

#include <memory>

#include "hddnn/comm/mpi_fabric.hpp"
#include "hddnn/comm/transport.hpp"

namespace hddnn::comm {

/// Builds the MPI transport over a duplicate of comm. Collective over comm, at
/// start-up (before any rank can die): duplicates comm, gathers the process
/// directory, and, when options.key is set, exchanges hellos with every peer
/// (throws CommError naming the ranks whose hello did not arrive within
/// options.handshake_timeout). Needs MPI initialised at MPI_THREAD_MULTIPLE
/// (comm::ensure_initialized); throws CommError otherwise.
std::unique_ptr<Transport> make_mpi_transport(MPI_Comm comm, TransportOptions options);

/// The same over a fabric's routes (one job, or several joined; see mpi_fabric.hpp):
/// collective over the fabric's job. The handshake waits for the ranks routed now;
/// ranks routed later (a joined job, a rejoined host) are greeted when their route
/// appears, and frames toward a rank without a session are lost, as toward a dead one.
std::unique_ptr<Transport> make_mpi_transport(std::shared_ptr<MpiFabric> fabric, TransportOptions options);

}  // namespace hddnn::comm
