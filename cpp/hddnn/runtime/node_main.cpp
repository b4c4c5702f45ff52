// hddnn-node: one device of a distributed run. Launched by mpirun (through
// `hddnn run` or a cluster script), one rank per topology device, in order:
//   mpirun -n <devices> hddnn-node --config run.json
// Rank i takes device i's role. A rank that fails (a peer lost, bad input)
// prints the typed error (its class name: HddnnError::kind()), writes
// <out>.rank<i>.error.json, and exits 1 without
// MPI_Finalize (Open MPI 4.1.4 can hang there after a death). Once its role is set
// up (model loaded, transport open) a rank touches <out>.rank<i>.ready, so a
// launcher can time fault injection from the run's start rather than from mpirun's.
#include <torch/torch.h>

#include <dlfcn.h>

#include <cstring>
#include <fstream>
#include <iostream>

#include "hddnn/comm/mpi_env.hpp"
#include "hddnn/comm/mpi_transport.hpp"
#include "hddnn/crypto/cluster_key.hpp"
#include "hddnn/errors.hpp"
#include "hddnn/mapping/topology.hpp"
#include "hddnn/parallel/device_placement.hpp"
#include "hddnn/runtime/emulated_links.hpp"
#include "hddnn/runtime/roles.hpp"
#include "hddnn/runtime/tampering_transport.hpp"

namespace {

using namespace hddnn;

std::string config_path(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--config") == 0) return argv[2];
  throw ConfigError("usage: hddnn-node --config RUN.json");
}

comm::TransportOptions transport_options(const runtime::RunConfig& config, const mapping::Topology& topology,
                                         int rank) {
  comm::TransportOptions options;
  options.emulate = config.emulate;
  options.links = runtime::emulated_links(topology, rank, config.time_scale);
  if (config.encrypt) options.key = crypto::ClusterKey::load(config.key_file);
  return options;
}

// One compute thread per rank. torch::set_num_threads does not reach an OpenBLAS that
// torch calls through the generic libblas.so.3 (Debian's build), whose own pool would
// run, and spin, a second thread beside every rank on the host's few cores.
void use_one_compute_thread() {
  torch::set_num_threads(1);
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(1);
}

void run_rank(const std::string& path) {
  comm::ensure_initialized();
  use_one_compute_thread();
  runtime::NodeSetup setup;
  setup.config = runtime::load_run_config(path);
  setup.topology = mapping::load_topology(setup.config.topology);
  const int rank = comm::world_rank(), size = comm::world_size();
  if (size != static_cast<int>(setup.topology.devices.size())) {
    throw ConfigError(setup.config.topology + ": " + std::to_string(setup.topology.devices.size()) + " devices but " +
                      std::to_string(size) + " ranks were started");
  }
  runtime::check_tamper_ranks(setup.config, setup.topology.devices.size());
  // Sections run on the CPU; a device placed on a GPU this host or build cannot give is refused.
  parallel::require_placement_available(setup.topology, rank);
  setup.coordinator = setup.topology.cloud();
  setup.transport = runtime::with_tamper_hook(
      comm::make_mpi_transport(MPI_COMM_WORLD, transport_options(setup.config, setup.topology, rank)), setup.config);
  runtime::load_inputs(setup);
  const std::string out = setup.config.out;
  auto role = runtime::make_role(std::move(setup));
  if (!out.empty()) std::ofstream(out + ".rank" + std::to_string(rank) + ".ready");
  role->run();
}

void write_error_file(const std::string& config_file, const std::string& type, const std::string& what) {
  std::string out;
  try {
    out = hddnn::runtime::load_run_config(config_file).out;
  } catch (const std::exception&) {
    return;
  }
  if (out.empty()) return;
  const int rank = comm::is_initialized() ? comm::world_rank() : -1;
  std::ofstream(out + ".rank" + std::to_string(rank) + ".error.json")
      << nlohmann::json({{"rank", rank}, {"error", type}, {"message", what}}).dump() << "\n";
}

/// Reports a rank's failure (stderr and its error file) and leaves without MPI_Finalize.
[[noreturn]] void fail(const std::string& config_file, const std::string& type, const std::string& what) {
  std::cerr << "hddnn-node: " << type << ": " << what << std::endl;
  write_error_file(config_file, type, what);
  hddnn::comm::mark_peer_failure();
  std::_Exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  try {
    path = config_path(argc, argv);
    run_rank(path);
  } catch (const hddnn::HddnnError& e) {
    fail(path, e.kind(), e.what());
  } catch (const std::exception& e) {
    fail(path, "HddnnError", std::string("unexpected error: ") + e.what());
  }
  if (hddnn::comm::peer_failure_seen()) {
    // After a death Open MPI 4.1.4 can hang in MPI_Finalize or its exit handlers:
    // the results are written, so leave at once.
    std::cout.flush();
    std::_Exit(0);
  }
  hddnn::comm::finalize();
  return 0;
}
