// FakeUdpNetwork / FakeUdpSocket: UdpSocket (platform/udp.h) in memory.
//
// A FakeUdpNetwork is one host's worth of UDP: sockets bind to
// address:port on it (port 0 picks an ephemeral port from 49152 up; a taken
// address:port is EADDRINUSE unless both set reuse_address), and a send is
// delivered at once to the socket bound to the destination (exact address
// first, then a wildcard bind on that port), which reports the destination
// address as its local address, as IP_PKTINFO does. Every address counts as
// local, so any source address may be used.
//
// As on Linux: a datagram to a port nobody bound is dropped, and a socket
// with receive_errors gets ECONNREFUSED queued (ReadError), as an ICMP port
// unreachable would; 255.255.255.255 needs the broadcast option (else
// EACCES) and reaches every socket on the port bound to it or to 0.0.0.0;
// a socket's receive queue holds at most `receive_queue_limit` datagrams,
// the rest are dropped. Sends never block. Datagrams carry ifindex 1 ("lo")
// unless the sender named an interface; SO_BINDTODEVICE has no effect.
//
// The network must outlive its sockets. Single-threaded.
#ifndef MIPSEC_TESTING_FAKES_FAKE_UDP_H_
#define MIPSEC_TESTING_FAKES_FAKE_UDP_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "common/bytes.h"
#include "platform/udp.h"
#include "testing/fakes/ready_fd.h"

namespace mipsec::testing {

struct FakeUdpPacket {
  Bytes payload;
  Ipv4Endpoint source;
  Ipv4Endpoint destination;
  int ifindex = 1;
  std::uint8_t tos = 0;
};

class FakeUdpSocket;

class FakeUdpNetwork {
 public:
  FakeUdpNetwork() = default;
  FakeUdpNetwork(const FakeUdpNetwork&) = delete;
  FakeUdpNetwork& operator=(const FakeUdpNetwork&) = delete;
  ~FakeUdpNetwork();

  Result<std::unique_ptr<FakeUdpSocket>> Open(const platform::UdpOptions& options);

  // Source used when a socket bound to 0.0.0.0 sends without a source.
  void set_default_source(Ipv4Address a) { default_source_ = a; }
  Ipv4Address default_source() const { return default_source_; }
  // Drops every datagram for which `drop` returns true (before delivery).
  void set_drop_filter(std::function<bool(const FakeUdpPacket&)> drop) { drop_ = std::move(drop); }
  void set_receive_queue_limit(std::size_t n) { queue_limit_ = n; }

  std::uint64_t delivered() const { return delivered_; }
  std::uint64_t dropped() const { return dropped_; }

 private:
  friend class FakeUdpSocket;
  // key: (address, port) of the bind.
  using Key = std::pair<Ipv4Address, std::uint16_t>;

  void Deliver(FakeUdpPacket packet, FakeUdpSocket* sender);
  void Unbind(FakeUdpSocket* s);

  std::multimap<Key, FakeUdpSocket*> bound_;
  std::uint16_t next_ephemeral_ = 49152;
  Ipv4Address default_source_ = Ipv4Address::FromOctets(127, 0, 0, 1);
  std::function<bool(const FakeUdpPacket&)> drop_;
  std::size_t queue_limit_ = 1024;
  std::uint64_t delivered_ = 0;
  std::uint64_t dropped_ = 0;
};

class FakeUdpSocket final : public platform::UdpSocket {
 public:
  ~FakeUdpSocket() override;

  int fd() const override { return ready_.fd(); }
  Ipv4Endpoint local() const override { return local_; }
  Result<std::size_t> RecvBatch(std::span<platform::Datagram> batch) override;
  Result<std::size_t> SendBatch(std::span<const platform::OutgoingDatagram> batch) override;
  Status SetTos(std::uint8_t tos) override {
    tos_ = tos;
    return Ok{};
  }
  Result<std::optional<platform::SocketError>> ReadError() override;

  std::size_t queued() const { return inbox_.size(); }

 private:
  friend class FakeUdpNetwork;
  FakeUdpSocket(FakeUdpNetwork* net, const platform::UdpOptions& o, Ipv4Endpoint local)
      : net_(net), options_(o), local_(local), tos_(o.tos.value_or(0)) {}
  void Enqueue(FakeUdpPacket p);
  void UpdateReady() { ready_.Set(!inbox_.empty() || !errors_.empty()); }

  FakeUdpNetwork* net_;
  platform::UdpOptions options_;
  Ipv4Endpoint local_;
  std::uint8_t tos_;
  std::deque<FakeUdpPacket> inbox_;
  std::deque<platform::SocketError> errors_;
  ReadyFd ready_;
};

}  // namespace mipsec::testing

#endif  // MIPSEC_TESTING_FAKES_FAKE_UDP_H_
