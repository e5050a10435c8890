// RawIpSocket: a non-blocking raw IPv4 socket for one IP protocol: ICMP (1)
// for Mobile IPv4 agent advertisements and solicitations (RFC 5944 2.1,
// ICMP router discovery types 9 and 10), IP-in-IP (4) for userspace RFC 2003
// tunnels.
//
// Receiving yields whole IPv4 packets, header included (as raw IPv4 sockets
// deliver them). Sending works two ways: SendBatch gives the payload and the
// kernel builds the header; SendIpPacket gives a complete packet (IP_HDRINCL).
//
// Linux: platform/linux/raw_socket.h (needs CAP_NET_RAW). In-memory fake:
// testing/fakes/fake_raw_socket.h.
#ifndef MIPSEC_PLATFORM_RAW_SOCKET_H_
#define MIPSEC_PLATFORM_RAW_SOCKET_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/result.h"
#include "platform/datagram.h"

namespace mipsec::platform {

inline constexpr std::uint8_t kIpProtoIcmp = 1;
inline constexpr std::uint8_t kIpProtoIpip = 4;

struct RawSocketOptions {
  std::uint8_t protocol = kIpProtoIcmp;
  Ipv4Address bind_address{};         // bind(): source for SendBatch, receive filter
  std::string device{};               // SO_BINDTODEVICE when not empty
  bool broadcast = false;             // SO_BROADCAST (needed for 255.255.255.255)
  std::optional<std::uint8_t> ttl{};  // IP_TTL for unicast
  std::optional<std::uint8_t> tos{};  // IP_TOS
  std::uint8_t multicast_ttl = 1;     // IP_MULTICAST_TTL (RFC 5944 advertisements: 1)
  int multicast_ifindex = 0;          // IP_MULTICAST_IF; 0: routing decides
  bool multicast_loop = true;         // IP_MULTICAST_LOOP
  // ICMP sockets only: when not empty, deliver only these ICMP types (ICMP_FILTER).
  std::vector<std::uint8_t> icmp_types{};
};

class RawIpSocket {
 public:
  virtual ~RawIpSocket() = default;

  // Readable (for an EventLoop) while packets are waiting.
  virtual int fd() const = 0;
  virtual std::uint8_t protocol() const = 0;

  // Receives whole IPv4 packets (header included) without blocking. In each
  // Datagram, remote.address is the IP source, local.address the IP
  // destination (IP_PKTINFO: e.g. 224.0.0.1 for a multicast advertisement),
  // ports are 0. Returns how many were filled (0: nothing waiting).
  virtual Result<std::size_t> RecvBatch(std::span<Datagram> batch) = 0;

  // Sends payloads; the kernel prepends an IPv4 header with this socket's
  // protocol, source (OutgoingDatagram::source, or bind_address, or routing),
  // TTL and TOS. Same return contract as UdpSocket::SendBatch.
  virtual Result<std::size_t> SendBatch(std::span<const OutgoingDatagram> batch) = 0;

  // Sends a complete IPv4 packet built by the caller (IP_HDRINCL); the
  // destination is taken from the header. The kernel fills in a zero source
  // address, a zero identification, the total length and the header
  // checksum. `ifindex` (0: routing) picks the outgoing interface.
  virtual Status SendIpPacket(ByteSpan packet, int ifindex = 0) = 0;

  // IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP on the interface (0: routing).
  virtual Status JoinMulticast(Ipv4Address group, int ifindex) = 0;
  virtual Status LeaveMulticast(Ipv4Address group, int ifindex) = 0;

  Result<bool> Recv(Datagram& d) {
    MIPSEC_ASSIGN_OR_RETURN(std::size_t n, RecvBatch(std::span<Datagram>(&d, 1)));
    return n == 1;
  }
  Status Send(const OutgoingDatagram& d) {
    MIPSEC_ASSIGN_OR_RETURN(std::size_t n, SendBatch(std::span<const OutgoingDatagram>(&d, 1)));
    if (n == 0) {
      return Error(Errc::kResource, "raw send to " + d.remote.address.ToString() + ": would block");
    }
    return Ok{};
  }
};

}  // namespace mipsec::platform

#endif  // MIPSEC_PLATFORM_RAW_SOCKET_H_
