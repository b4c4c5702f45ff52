#include "hddnn/comm/process_directory.hpp"

#include <unistd.h>

#include <array>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "hddnn/comm/mpi_check.hpp"
#include "hddnn/errors.hpp"

namespace hddnn::comm {
namespace {

constexpr size_t kHostnameBytes = 256;

// The fixed-size record exchanged by MPI_Allgather.
struct WireEntry {
  std::array<char, kHostnameBytes> hostname;
  int64_t pid;
  uint64_t start_ticks;
};

struct ProcStat {
  char state = '?';
  uint64_t start_ticks = 0;
};

// Parses /proc/<pid>/stat: the command name is in parentheses and may hold spaces,
// so fields are counted after the last ')'.
std::optional<ProcStat> read_proc_stat(int64_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!file || !std::getline(file, text)) return std::nullopt;
  auto close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(close + 1));
  ProcStat stat;
  std::string skip;
  fields >> stat.state;  // field 3
  for (int field = 4; field < 22; ++field) fields >> skip;
  fields >> stat.start_ticks;  // field 22
  if (!fields) return std::nullopt;
  return stat;
}

}  // namespace

std::string to_string(ProcessLiveness liveness) {
  switch (liveness) {
    case ProcessLiveness::kAlive: return "alive";
    case ProcessLiveness::kDead: return "dead";
    case ProcessLiveness::kUnknown: return "unknown";
  }
  return "unknown";
}

ProcessDirectory::Entry ProcessDirectory::self() {
  std::array<char, kHostnameBytes> name{};
  gethostname(name.data(), name.size() - 1);
  Entry entry{name.data(), static_cast<int64_t>(getpid()), 0};
  if (auto stat = read_proc_stat(entry.pid)) entry.start_ticks = stat->start_ticks;
  return entry;
}

ProcessDirectory ProcessDirectory::gather(MPI_Comm comm) {
  int rank = 0, size = 0;
  MPI_CHECK(MPI_Comm_rank(comm, &rank));
  MPI_CHECK(MPI_Comm_size(comm, &size));
  Entry me = self();
  WireEntry mine{};
  std::strncpy(mine.hostname.data(), me.hostname.c_str(), kHostnameBytes - 1);
  mine.pid = me.pid;
  mine.start_ticks = me.start_ticks;
  std::vector<WireEntry> all(size);
  MPI_CHECK(MPI_Allgather(&mine, sizeof(WireEntry), MPI_BYTE, all.data(), sizeof(WireEntry), MPI_BYTE, comm));
  std::vector<Entry> entries;
  for (const auto& wire : all) {
    std::string host(wire.hostname.data(), strnlen(wire.hostname.data(), kHostnameBytes));
    entries.push_back(Entry{host, wire.pid, wire.start_ticks});
  }
  return ProcessDirectory(rank, std::move(entries));
}

ProcessDirectory ProcessDirectory::gather(MPI_Comm job, int first_rank, int run_size) {
  ProcessDirectory mine = gather(job);
  std::vector<Entry> entries(static_cast<size_t>(run_size));
  for (int rank = 0; rank < mine.size(); ++rank) entries.at(static_cast<size_t>(first_rank + rank)) = mine.entry(rank);
  return ProcessDirectory(first_rank + mine.rank_, std::move(entries));
}

ProcessDirectory::ProcessDirectory(int rank, std::vector<Entry> entries) : rank_(rank), entries_(std::move(entries)) {}

const ProcessDirectory::Entry& ProcessDirectory::entry(int rank) const {
  if (rank < 0 || rank >= size())
    throw CommError("process directory: rank " + std::to_string(rank) + " outside 0.." + std::to_string(size() - 1));
  return entries_[rank];
}

bool ProcessDirectory::same_host(int rank) const { return entry(rank).hostname == entry(rank_).hostname; }

ProcessLiveness ProcessDirectory::peer_process_alive(int rank) const {
  if (!same_host(rank)) return ProcessLiveness::kUnknown;
  const Entry& peer = entry(rank);
  auto stat = read_proc_stat(peer.pid);
  if (!stat || stat->state == 'Z' || stat->state == 'X') return ProcessLiveness::kDead;
  if (peer.start_ticks != 0 && stat->start_ticks != peer.start_ticks) return ProcessLiveness::kDead;
  return ProcessLiveness::kAlive;
}

}  // namespace hddnn::comm
