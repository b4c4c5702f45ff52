#include "hddnn/comm/link_emulator.hpp"

#include <string>

#include "hddnn/errors.hpp"

namespace hddnn::comm {
namespace {

void check_spec(int peer, const LinkSpec& spec) {
  if (!(spec.latency_ms >= 0.0))
    throw ConfigError("link toward rank " + std::to_string(peer) + ": latency_ms " + std::to_string(spec.latency_ms) +
                      ", expected >= 0");
  if (!(spec.bandwidth_mbps > 0.0))
    throw ConfigError("link toward rank " + std::to_string(peer) + ": bandwidth_mbps " +
                      std::to_string(spec.bandwidth_mbps) + ", expected > 0");
}

LinkEmulator::Clock::duration from_seconds(double seconds) {
  return std::chrono::duration_cast<LinkEmulator::Clock::duration>(std::chrono::duration<double>(seconds));
}

}  // namespace

LinkEmulator::LinkEmulator(std::map<int, LinkSpec> links) : links_(std::move(links)) {
  for (const auto& [peer, spec] : links_) check_spec(peer, spec);
}

LinkEmulator::Clock::time_point LinkEmulator::release_time(int peer, size_t bytes, Clock::time_point now) {
  auto link = links_.find(peer);
  if (link == links_.end()) return now;
  auto [free_at, inserted] = link_free_.try_emplace(peer, now);
  Clock::time_point start = std::max(now, free_at->second);
  free_at->second = start + from_seconds(static_cast<double>(bytes) * 8.0 / (link->second.bandwidth_mbps * 1e6));
  return free_at->second + from_seconds(link->second.latency_ms / 1e3);
}

LinkEmulator::Clock::time_point LinkEmulator::submit(int peer, std::vector<uint8_t> wire, Clock::time_point now,
                                                     bool occupies_link) {
  Clock::time_point release = release_time(peer, occupies_link ? wire.size() : 0, now);
  queues_[peer].push_back(Frame{peer, std::move(wire), release});
  return release;
}

std::vector<LinkEmulator::Frame> LinkEmulator::take_due(Clock::time_point now) {
  std::vector<Frame> due;
  for (auto& [peer, queue] : queues_) {
    while (!queue.empty() && queue.front().release <= now) {
      due.push_back(std::move(queue.front()));
      queue.pop_front();
    }
  }
  return due;
}

std::optional<LinkEmulator::Clock::time_point> LinkEmulator::next_release() const {
  std::optional<Clock::time_point> earliest;
  for (const auto& [peer, queue] : queues_) {
    if (!queue.empty() && (!earliest || queue.front().release < *earliest)) earliest = queue.front().release;
  }
  return earliest;
}

size_t LinkEmulator::drop(int peer) {
  auto queue = queues_.find(peer);
  if (queue == queues_.end()) return 0;
  size_t dropped = queue->second.size();
  queues_.erase(queue);
  return dropped;
}

size_t LinkEmulator::queued() const {
  size_t total = 0;
  for (const auto& [peer, queue] : queues_) total += queue.size();
  return total;
}

}  // namespace hddnn::comm
