// hddnn-node: one device of a distributed run. Launched by mpirun (through
// `hddnn run` or a cluster script), one rank per topology device, in order:
//   mpirun -n <devices> hddnn-node --config run.json
// Rank i takes device i's role. A run may also span several mpirun jobs, one per
// host, joined through Open MPI's dynamic process management (see comm/mpi_fabric.hpp):
//   mpirun --ompi-server file:URI -n <host's devices> hddnn-node --config run.json --first-rank <i>
// where the job's ranks are the run's i, i+1, ...; --rejoin restarts a lost host's job.
// A rank that fails (a peer lost, bad input)
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
#include "hddnn/runtime/end_device.hpp"
#include "hddnn/runtime/server.hpp"
#include "hddnn/runtime/tampering_transport.hpp"
#include "hddnn/runtime/view_device.hpp"

namespace {

using namespace hddnn;

constexpr const char* kUsage = "usage: hddnn-node --config RUN.json [--first-rank N [--rejoin]]";

// Set once the run rank is known, for the error file (until then: the MPI job's rank).
int run_rank_for_errors = -1;

struct NodeArgs {
  std::string config;
  int first_rank = -1;  ///< a job of a run of joined jobs: its first run rank (-1: one job)
  bool rejoin = false;  ///< the job restarts ranks of a running system
};

int parse_rank(const char* text) {
  try {
    size_t used = 0;
    const int value = std::stoi(text, &used);
    if (used == std::strlen(text) && value >= 0) return value;
  } catch (const std::exception&) {
  }
  throw ConfigError(std::string("--first-rank: expected a rank >= 0, got '") + text + "'; " + kUsage);
}

NodeArgs parse_args(int argc, char** argv) {
  NodeArgs args;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--config") == 0 && has_value) {
      args.config = argv[++i];
    } else if (std::strcmp(argv[i], "--first-rank") == 0 && has_value) {
      args.first_rank = parse_rank(argv[++i]);
    } else if (std::strcmp(argv[i], "--rejoin") == 0) {
      args.rejoin = true;
    } else {
      throw ConfigError(std::string("unknown argument '") + argv[i] + "'; " + kUsage);
    }
  }
  if (args.config.empty()) throw ConfigError(kUsage);
  if (args.rejoin && args.first_rank < 0) throw ConfigError(std::string("--rejoin needs --first-rank; ") + kUsage);
  return args;
}

/// Where every rank of the run is reached: this job holds them all, or, with
/// --first-rank, the run spans several jobs joined through the run's ompi-server.
std::shared_ptr<comm::MpiFabric> make_fabric(const NodeArgs& args, const runtime::RunConfig& config,
                                             const mapping::Topology& topology) {
  const int devices = static_cast<int>(topology.devices.size());
  if (args.first_rank < 0) {
    if (comm::world_size() != devices) {
      throw ConfigError(config.topology + ": " + std::to_string(devices) + " devices but " +
                        std::to_string(comm::world_size()) + " ranks were started");
    }
    return comm::MpiFabric::single_job(MPI_COMM_WORLD);
  }
  if (config.run_id.empty()) throw ConfigError("--first-rank needs a run config with 'run_id' (a run of joined jobs)");
  comm::JoinOptions options;
  options.run_id = config.run_id;
  options.first_rank = args.first_rank;
  options.size = devices;
  options.coordinator = topology.cloud();
  options.rejoin = args.rejoin;
  options.timeout = std::chrono::milliseconds(static_cast<int64_t>(config.startup_timeout_s * 1000));
  return comm::MpiFabric::joined_jobs(MPI_COMM_WORLD, options);
}

/// A link as emulated under time dilation: its delays last `time_scale` times longer on the wall.
comm::LinkSpec dilated(const mapping::Link& link, double time_scale) {
  return {link.latency_ms * time_scale, link.bandwidth_mbps / time_scale};
}

comm::TransportOptions transport_options(const runtime::RunConfig& config, const mapping::Topology& topology,
                                         int rank) {
  comm::TransportOptions options;
  options.emulate = config.emulate;
  for (const auto& link : topology.devices.at(rank).links) {
    options.links[link.to] = dilated(link, config.time_scale);
  }
  // Links are symmetric: a device answers over the link its peer declared toward it.
  for (size_t peer = 0; peer < topology.devices.size(); ++peer) {
    for (const auto& link : topology.devices[peer].links) {
      if (link.to == rank && !options.links.count(static_cast<int>(peer))) {
        options.links[static_cast<int>(peer)] = dilated(link, config.time_scale);
      }
    }
  }
  if (config.encrypt) options.key = crypto::ClusterKey::load(config.key_file);
  return options;
}

std::unique_ptr<runtime::Node> make_role(runtime::NodeSetup setup) {
  const auto& device = setup.topology.devices.at(setup.transport->rank());
  if (device.tier == mapping::Tier::End && !device.views.empty()) {
    return std::make_unique<runtime::ViewDevice>(std::move(setup));
  }
  if (device.tier == mapping::Tier::End) return std::make_unique<runtime::EndDevice>(std::move(setup));
  return std::make_unique<runtime::Server>(std::move(setup));
}

// One compute thread per rank. torch::set_num_threads does not reach an OpenBLAS that
// torch calls through the generic libblas.so.3 (Debian's build), whose own pool would
// run, and spin, a second thread beside every rank on the host's few cores.
void use_one_compute_thread() {
  torch::set_num_threads(1);
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(1);
}

void run_rank(const NodeArgs& args) {
  comm::ensure_initialized();
  use_one_compute_thread();
  runtime::NodeSetup setup;
  setup.config = runtime::load_run_config(args.config);
  setup.topology = mapping::load_topology(setup.config.topology);
  runtime::check_tamper_ranks(setup.config, setup.topology.devices.size());
  auto fabric = make_fabric(args, setup.config, setup.topology);
  // MPI_Finalize is collective over every connected process, dead ones too: a run of joined jobs skips it.
  if (fabric->joined()) comm::mark_peer_failure();
  const int rank = run_rank_for_errors = fabric->rank();
  // Sections run on the CPU; a device placed on a GPU this host or build cannot give is refused.
  parallel::require_placement_available(setup.topology, rank);
  setup.coordinator = setup.topology.cloud();
  setup.rejoining = args.rejoin;
  setup.transport = runtime::with_tamper_hook(
      comm::make_mpi_transport(fabric, transport_options(setup.config, setup.topology, rank)), setup.config);
  const std::string out = setup.config.out;
  auto role = make_role(std::move(setup));
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
  const int rank = run_rank_for_errors >= 0 ? run_rank_for_errors : comm::is_initialized() ? comm::world_rank() : -1;
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
    const NodeArgs args = parse_args(argc, argv);
    path = args.config;
    run_rank(args);
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
