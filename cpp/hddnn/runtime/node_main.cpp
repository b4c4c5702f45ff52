// hddnn-node: one device of a distributed run. Launched by mpirun (through
// `hddnn run` or a cluster script), one rank per topology device, in order:
//   mpirun -n <devices> hddnn-node --config run.json
// or as one mpirun job per host, joined at run time (see comm/mpi_fabric.hpp):
//   mpirun -n <host's slots> --ompi-server file:URI hddnn-node --config run.json
//       --jobs 0,4,6 --job I --run-id ID [--rejoin]
// where --jobs gives every job's first rank (hosts in topology order), --job this
// host's, and --rejoin starts a lost host's ranks again in the running system.
// Rank i (of the run, not of the job) takes device i's role. A rank that fails (a peer lost, bad input)
// prints the typed error (its class name: HddnnError::kind()), writes
// <out>.rank<i>.error.json, and exits 1 without
// MPI_Finalize (Open MPI 4.1.4 can hang there after a death). Once its role is set
// up (model loaded, transport open) a rank writes <out>.rank<i>.ready ({"started_unix_ms",
// "ready_unix_ms"}: the process's start and its readiness), so a launcher can time fault
// injection from the run's start rather than from mpirun's, and measure a rejoin.
#include <torch/torch.h>

#include <dlfcn.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

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

constexpr const char* kUsage =
    "usage: hddnn-node --config RUN.json [--jobs FIRST_RANKS --job I --run-id ID [--rejoin]]";

struct NodeArgs {
  std::string config;
  std::optional<comm::JobLayout> jobs;  ///< one job per host (absent: one job holds every rank)
};

std::vector<int> parse_first_ranks(const std::string& text) {
  std::vector<int> ranks;
  std::stringstream items(text);
  for (std::string item; std::getline(items, item, ',');) {
    try {
      ranks.push_back(std::stoi(item));
    } catch (const std::exception&) {
      throw ConfigError("hddnn-node: --jobs wants first ranks like 0,4,6, got '" + text + "'");
    }
  }
  return ranks;
}

NodeArgs parse_args(int argc, char** argv) {
  NodeArgs args;
  comm::JobLayout layout;
  bool joined = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const bool has_value = i + 1 < argc;
    if (flag == "--config" && has_value) {
      args.config = argv[++i];
    } else if (flag == "--jobs" && has_value) {
      layout.first_ranks = parse_first_ranks(argv[++i]);
      joined = true;
    } else if (flag == "--job" && has_value) {
      layout.job = std::atoi(argv[++i]);
    } else if (flag == "--run-id" && has_value) {
      layout.run_id = argv[++i];
    } else if (flag == "--rejoin") {
      layout.rejoin = true;
    } else {
      throw ConfigError(std::string("hddnn-node: unexpected argument '") + flag + "'; " + kUsage);
    }
  }
  if (args.config.empty()) throw ConfigError(kUsage);
  if (joined) {
    if (layout.run_id.empty()) throw ConfigError(std::string("hddnn-node: --jobs needs --run-id; ") + kUsage);
    args.jobs = layout;
  } else if (layout.rejoin) {
    throw ConfigError(std::string("hddnn-node: --rejoin needs --jobs; ") + kUsage);
  }
  return args;
}

double unix_now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// This process's run rank once known (-1 before), for its error file.
int g_run_rank = -1;

int first_rank_of_job(const NodeArgs& args) {
  if (!args.jobs) return 0;
  const auto& firsts = args.jobs->first_ranks;
  if (args.jobs->job < 0 || args.jobs->job >= static_cast<int>(firsts.size()))
    throw ConfigError("hddnn-node: --job " + std::to_string(args.jobs->job) + " outside the " +
                      std::to_string(firsts.size()) + " jobs of --jobs");
  return firsts[static_cast<size_t>(args.jobs->job)];
}

/// The routes to every rank: this job's communicator, or this host's job joined to the others'.
std::shared_ptr<comm::MpiFabric> make_fabric(const NodeArgs& args, const runtime::RunConfig& config,
                                             const mapping::Topology& topology) {
  const int devices = static_cast<int>(topology.devices.size());
  if (!args.jobs) {
    if (comm::world_size() != devices) {
      throw ConfigError(config.topology + ": " + std::to_string(devices) + " devices but " +
                        std::to_string(comm::world_size()) + " ranks were started");
    }
    return comm::MpiFabric::single_job(MPI_COMM_WORLD);
  }
  comm::JobLayout layout = *args.jobs;
  layout.size = devices;
  layout.timeout = std::chrono::milliseconds(static_cast<int64_t>(config.startup_timeout_s * 1000));
  auto fabric = comm::MpiFabric::joined_jobs(MPI_COMM_WORLD, layout);
  const int coordinator = topology.cloud();
  if (layout.rejoin && !fabric->await_route(coordinator, layout.timeout)) {
    throw PeerLostError("rejoin: the coordinator's job (rank " + std::to_string(coordinator) +
                        ") did not connect within " + std::to_string(config.startup_timeout_s) + " s");
  }
  return fabric;
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

void run_rank(const NodeArgs& args) {
  const double started_unix_ms = unix_now_ms();
  comm::ensure_initialized();
  g_run_rank = first_rank_of_job(args) + comm::world_rank();
  use_one_compute_thread();
  runtime::NodeSetup setup;
  setup.config = runtime::load_run_config(args.config);
  setup.topology = mapping::load_topology(setup.config.topology);
  runtime::check_tamper_ranks(setup.config, setup.topology.devices.size());
  auto fabric = make_fabric(args, setup.config, setup.topology);
  const int rank = g_run_rank = fabric->rank();
  // A device whose accelerator this torch or host cannot give is refused before serving.
  parallel::require_placement_available(setup.topology, rank);
  setup.coordinator = setup.topology.cloud();
  setup.transport = runtime::with_tamper_hook(
      comm::make_mpi_transport(fabric, transport_options(setup.config, setup.topology, rank)), setup.config);
  runtime::load_inputs(setup);
  const std::string out = setup.config.out;
  auto role = runtime::make_role(std::move(setup));
  if (!out.empty()) {
    std::ofstream(out + ".rank" + std::to_string(rank) + ".ready")
        << nlohmann::json({{"started_unix_ms", started_unix_ms}, {"ready_unix_ms", unix_now_ms()}}).dump() << "\n";
  }
  role->run();
  fabric->stop();
  // Joined jobs leave without MPI_Finalize: it is collective over every connected job.
  if (fabric->joined()) comm::mark_peer_failure();
}

void write_error_file(const std::string& config_file, const std::string& type, const std::string& what) {
  std::string out;
  try {
    out = hddnn::runtime::load_run_config(config_file).out;
  } catch (const std::exception&) {
    return;
  }
  if (out.empty()) return;
  std::ofstream(out + ".rank" + std::to_string(g_run_rank) + ".error.json")
      << nlohmann::json({{"rank", g_run_rank}, {"error", type}, {"message", what}}).dump() << "\n";
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
