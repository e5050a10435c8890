#include "testing/fakes/fake_udp.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/bug.h"

namespace mipsec::testing {

namespace {
constexpr Ipv4Address kLimitedBroadcast = Ipv4Address::Broadcast();
}  // namespace

FakeUdpNetwork::~FakeUdpNetwork() {
  MIPSEC_BUG_IF(!bound_.empty(), "FakeUdpNetwork destroyed before its sockets");
}

Result<std::unique_ptr<FakeUdpSocket>> FakeUdpNetwork::Open(const platform::UdpOptions& o) {
  Ipv4Endpoint local = o.bind;
  if (local.port == 0) {
    // The next free ephemeral port, as the kernel would pick one.
    for (int tries = 0; tries < 16384; ++tries) {
      std::uint16_t p = next_ephemeral_;
      next_ephemeral_ = next_ephemeral_ == 65535 ? 49152 : next_ephemeral_ + 1;
      bool used = std::any_of(bound_.begin(), bound_.end(),
                              [&](const auto& kv) { return kv.first.second == p; });
      if (!used) {
        local.port = p;
        break;
      }
    }
    if (local.port == 0) return Error(Errc::kResource, "fake udp: no ephemeral port left");
  } else {
    // A wildcard bind conflicts with any bind on the port, and vice versa.
    for (const auto& [key, s] : bound_) {
      if (key.second != local.port) continue;
      if (key.first != local.address && !key.first.IsAny() && !local.address.IsAny()) continue;
      if (o.reuse_address && s->options_.reuse_address) continue;
      return Error(Errc::kSystem, "bind " + local.ToString() + ": Address already in use");
    }
  }
  std::unique_ptr<FakeUdpSocket> s(new FakeUdpSocket(this, o, local));
  bound_.emplace(Key{local.address, local.port}, s.get());
  return s;
}

void FakeUdpNetwork::Unbind(FakeUdpSocket* s) {
  for (auto it = bound_.begin(); it != bound_.end(); ++it) {
    if (it->second == s) {
      bound_.erase(it);
      return;
    }
  }
}

void FakeUdpNetwork::Deliver(FakeUdpPacket packet, FakeUdpSocket* sender) {
  if (drop_ && drop_(packet)) {
    ++dropped_;
    return;
  }
  const Ipv4Endpoint dst = packet.destination;
  std::vector<FakeUdpSocket*> targets;
  if (dst.address == kLimitedBroadcast) {
    for (const auto& [key, s] : bound_) {
      if (key.second == dst.port && (key.first.IsAny() || key.first == kLimitedBroadcast)) {
        targets.push_back(s);
      }
    }
  } else {
    auto exact = bound_.find(Key{dst.address, dst.port});
    if (exact != bound_.end()) {
      targets.push_back(exact->second);
    } else if (auto any = bound_.find(Key{Ipv4Address::Any(), dst.port}); any != bound_.end()) {
      targets.push_back(any->second);
    }
  }
  if (targets.empty()) {
    ++dropped_;
    if (sender->options_.receive_errors) {
      // What an ICMP port unreachable from the destination would queue.
      sender->errors_.push_back(platform::SocketError{ECONNREFUSED, dst.address, dst, 3, 3});
      sender->UpdateReady();
    }
    return;
  }
  for (FakeUdpSocket* t : targets) {
    if (t->inbox_.size() >= queue_limit_) {
      ++dropped_;
      continue;
    }
    t->Enqueue(packet);
    ++delivered_;
  }
}

FakeUdpSocket::~FakeUdpSocket() { net_->Unbind(this); }

void FakeUdpSocket::Enqueue(FakeUdpPacket p) {
  inbox_.push_back(std::move(p));
  UpdateReady();
}

Result<std::size_t> FakeUdpSocket::RecvBatch(std::span<platform::Datagram> batch) {
  std::size_t n = 0;
  while (n < batch.size() && !inbox_.empty()) {
    FakeUdpPacket& p = inbox_.front();
    platform::Datagram& d = batch[n];
    d.length = std::min(p.payload.size(), d.buffer.size());
    d.truncated = p.payload.size() > d.buffer.size();
    if (d.length > 0) std::memcpy(d.buffer.data(), p.payload.data(), d.length);
    d.remote = p.source;
    d.local = Ipv4Endpoint{p.destination.address, local_.port};
    d.ifindex = p.ifindex;
    d.tos = p.tos;
    inbox_.pop_front();
    ++n;
  }
  UpdateReady();
  return n;
}

Result<std::size_t> FakeUdpSocket::SendBatch(std::span<const platform::OutgoingDatagram> batch) {
  std::size_t n = 0;
  for (const platform::OutgoingDatagram& d : batch) {
    if (d.remote.port == 0 || (d.remote.address == kLimitedBroadcast && !options_.broadcast)) {
      if (n > 0) break;  // the failing one goes first next time, as with sendmmsg
      const char* why = d.remote.port == 0 ? "Invalid argument" : "Permission denied";
      return Error(Errc::kSystem, "sendmmsg on udp " + local_.ToString() + " to " +
                                      d.remote.ToString() + ": " + why);
    }
    FakeUdpPacket p;
    p.payload.assign(d.payload.begin(), d.payload.end());
    p.source.address = !d.source.IsAny()         ? d.source
                       : !local_.address.IsAny() ? local_.address
                                                 : net_->default_source();
    p.source.port = local_.port;
    p.destination = d.remote;
    p.ifindex = d.ifindex != 0 ? d.ifindex : 1;
    p.tos = tos_;
    net_->Deliver(std::move(p), this);
    ++n;
  }
  return n;
}

Result<std::optional<platform::SocketError>> FakeUdpSocket::ReadError() {
  if (errors_.empty()) return std::optional<platform::SocketError>();
  platform::SocketError e = errors_.front();
  errors_.pop_front();
  UpdateReady();
  return std::optional<platform::SocketError>(e);
}

}  // namespace mipsec::testing
