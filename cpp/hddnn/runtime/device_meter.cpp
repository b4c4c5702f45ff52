#include "hddnn/runtime/device_meter.hpp"

#include <algorithm>
#include <fstream>
#include <string>

namespace hddnn::runtime {

DeviceMeter::DeviceMeter(RunClock clock, PowerModel power) : clock_(clock), power_(power) {}

double DeviceMeter::since_start_ms() const { return clock_.now_ms(); }

void DeviceMeter::queue_changed(size_t length) {
  const double now = since_start_ms();
  queue_area_ += queue_length_ * (now - queue_since_ms_);
  queue_since_ms_ = now;
  queue_length_ = length;
  queue_max_ = std::max(queue_max_, length);
}

DeviceStats DeviceMeter::finish(int rank, uint64_t bytes_sent, uint64_t bytes_received, uint64_t messages_sent) {
  queue_changed(queue_length_);
  DeviceStats s;
  s.rank = rank;
  s.elapsed_ms = since_start_ms();
  s.busy_ms = busy_ms_;
  s.queue_time_avg = s.elapsed_ms > 0 ? queue_area_ / s.elapsed_ms : 0;
  s.queue_max = static_cast<int>(queue_max_);
  s.bytes_sent = bytes_sent;
  s.bytes_received = bytes_received;
  s.messages_sent = messages_sent;
  const double idle_ms = std::max(0.0, s.elapsed_ms - busy_ms_);
  s.energy_j = (power_.active_w * busy_ms_ + power_.idle_w * idle_ms) / 1000.0 +
               power_.radio_nj_per_byte * 1e-9 * static_cast<double>(bytes_sent);
  s.peak_memory_mb = peak_resident_mb();
  return s;
}

double peak_resident_mb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  }
  return 0;
}

}  // namespace hddnn::runtime
