// FakeRawSocket: RawIpSocket (platform/raw_socket.h) in memory.
//
// The test plays the network: Inject() offers a whole IPv4 packet to the
// socket, which accepts it the way a Linux raw socket would (its protocol,
// its ICMP type filter, its bound address, and for multicast destinations
// a joined group; 224.0.0.1 is always joined), and sent() records what the
// application sent, with the IPv4 header the kernel would have built for
// SendBatch (protocol, TTL, TOS, source) or the caller's own for
// SendIpPacket. As on Linux, 255.255.255.255 needs the broadcast option
// (else EACCES), and a multicast destination uses multicast_ttl.
#ifndef MIPSEC_TESTING_FAKES_FAKE_RAW_SOCKET_H_
#define MIPSEC_TESTING_FAKES_FAKE_RAW_SOCKET_H_

#include <cstdint>
#include <deque>
#include <set>
#include <utility>

#include "common/bytes.h"
#include "platform/raw_socket.h"
#include "testing/fakes/ready_fd.h"

namespace mipsec::testing {

class FakeRawSocket final : public platform::RawIpSocket {
 public:
  struct Sent {
    Bytes packet;                  // the whole IPv4 packet
    bool header_included = false;  // sent with SendIpPacket
    Ipv4Address destination;
    int ifindex = 0;  // as requested (0: routing)
  };

  // `source_address` stands in for the routing's source choice when neither
  // the datagram nor bind_address names one.
  explicit FakeRawSocket(platform::RawSocketOptions options,
                         Ipv4Address source_address = Ipv4Address::FromOctets(192, 0, 2, 1))
      : options_(std::move(options)), source_(source_address) {}

  int fd() const override { return ready_.fd(); }
  std::uint8_t protocol() const override { return options_.protocol; }
  Result<std::size_t> RecvBatch(std::span<platform::Datagram> batch) override;
  Result<std::size_t> SendBatch(std::span<const platform::OutgoingDatagram> batch) override;
  Status SendIpPacket(ByteSpan packet, int ifindex = 0) override;
  Status JoinMulticast(Ipv4Address group, int ifindex) override;
  Status LeaveMulticast(Ipv4Address group, int ifindex) override;

  // --- the network's side ---
  // Returns whether the socket accepted (queued) the packet.
  bool Inject(ByteSpan ip_packet, int ifindex = 1);
  std::deque<Sent>& sent() { return sent_; }
  const std::set<std::pair<Ipv4Address, int>>& memberships() const { return groups_; }

 private:
  struct Received {
    Bytes packet;
    int ifindex;
  };

  platform::RawSocketOptions options_;
  Ipv4Address source_;
  std::uint16_t next_id_ = 1;
  std::deque<Received> inbox_;
  std::deque<Sent> sent_;
  std::set<std::pair<Ipv4Address, int>> groups_;
  ReadyFd ready_;
};

}  // namespace mipsec::testing

#endif  // MIPSEC_TESTING_FAKES_FAKE_RAW_SOCKET_H_
