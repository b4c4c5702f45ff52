#include "hddnn/runtime/tampering_transport.hpp"

#include "hddnn/crypto/link_session.hpp"
#include "hddnn/errors.hpp"
#include "hddnn/wire/wire_format.hpp"

namespace hddnn::runtime {
namespace {

bool is_data(comm::MessageType type) { return type == comm::MessageType::kWork || type == comm::MessageType::kAnswer; }

}  // namespace

TamperingTransport::TamperingTransport(std::unique_ptr<comm::Transport> inner, std::vector<TamperSpec> specs,
                                       const std::string& capture_path)
    : inner_(std::move(inner)) {
  for (const auto& spec : specs) {
    if (spec.kind != TamperKind::kCapture) {
      faults_.push_back(spec);
    } else if (!capture_.is_open()) {
      capture_.open(capture_path, std::ios::binary | std::ios::trunc);
      if (!capture_) throw ConfigError(capture_path + ": cannot write the capture file");
    }
  }
  inner_->set_outgoing_hook([this](int, comm::MessageType type, std::vector<uint8_t>& wire) { on_frame(type, wire); });
}

TamperingTransport::~TamperingTransport() { inner_->set_outgoing_hook({}); }

void TamperingTransport::send(int destination, comm::MessageType type, std::vector<uint8_t> payload) {
  std::lock_guard<std::mutex> lock(send_mutex_);
  payload_ = &payload;
  replay_.clear();
  inner_->send(destination, type, payload);
  payload_ = nullptr;
  if (replay_.empty()) return;
  record(replay_);
  inner_->send_wire(destination, std::move(replay_));
  replay_.clear();
}

void TamperingTransport::send_wire(int destination, std::vector<uint8_t> wire) {
  std::lock_guard<std::mutex> lock(send_mutex_);
  record(wire);
  inner_->send_wire(destination, std::move(wire));
}

void TamperingTransport::set_outgoing_hook(comm::OutgoingHook) {
  throw CommError("set_outgoing_hook: this transport's hook is held by the run's tamper test hook");
}

void TamperingTransport::on_frame(comm::MessageType type, std::vector<uint8_t>& wire) {
  if (is_data(type)) {
    if (TamperSpec* fault = next_fault()) {
      --fault->count;
      inject(fault->kind, wire);
      std::lock_guard<std::mutex> lock(count_mutex_);
      ++injected_[to_string(fault->kind)];
    }
  }
  record(wire);
}

TamperSpec* TamperingTransport::next_fault() {
  for (auto& fault : faults_) {
    if (fault.count > 0) return &fault;
  }
  return nullptr;
}

void TamperingTransport::inject(TamperKind kind, std::vector<uint8_t>& wire) {
  switch (kind) {
    case TamperKind::kFlip: wire[comm::kHeaderBytes + (wire.size() - comm::kHeaderBytes) / 2] ^= 0x01; return;
    case TamperKind::kReplay: replay_ = wire; return;
    case TamperKind::kWrongKey:
      wire = crypto::seal_frame(comm::decode_header(wire.data(), wire.size()), payload_->data(), payload_->size(),
                                crypto::random_link_key());
      return;
    case TamperKind::kTruncate: wire.resize(wire.size() / 2); return;
    case TamperKind::kCapture: return;
  }
}

void TamperingTransport::record(const std::vector<uint8_t>& wire) {
  if (!capture_.is_open()) return;
  const uint32_t size = static_cast<uint32_t>(wire.size());
  const uint8_t length[4] = {uint8_t(size), uint8_t(size >> 8), uint8_t(size >> 16), uint8_t(size >> 24)};
  capture_.write(reinterpret_cast<const char*>(length), sizeof(length));
  capture_.write(reinterpret_cast<const char*>(wire.data()), static_cast<std::streamsize>(wire.size()));
  capture_.flush();
}

std::map<std::string, uint64_t> TamperingTransport::injected() const {
  std::lock_guard<std::mutex> lock(count_mutex_);
  return injected_;
}

std::unique_ptr<comm::Transport> with_tamper_hook(std::unique_ptr<comm::Transport> transport, const RunConfig& config) {
  const int rank = transport->rank();
  std::vector<TamperSpec> mine;
  for (const auto& spec : config.tamper) {
    if (spec.rank == rank) mine.push_back(spec);
  }
  if (mine.empty()) return transport;
  const std::string capture_path = config.out + ".rank" + std::to_string(rank) + ".capture";
  return std::make_unique<TamperingTransport>(std::move(transport), std::move(mine), capture_path);
}

}  // namespace hddnn::runtime
