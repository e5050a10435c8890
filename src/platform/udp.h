// UdpSocket: a non-blocking IPv4 UDP socket with batched receive and send,
// per-datagram local address (IP_PKTINFO) and per-datagram source address.
//
// Linux: platform/linux/udp_socket.h (recvmmsg/sendmmsg). In-memory fake:
// testing/fakes/fake_udp.h.
#ifndef MIPSEC_PLATFORM_UDP_H_
#define MIPSEC_PLATFORM_UDP_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "common/ip/address.h"
#include "common/result.h"
#include "platform/datagram.h"

namespace mipsec::platform {

struct UdpOptions {
  Ipv4Endpoint bind{};                // port 0: an ephemeral port (see local())
  std::string device{};               // SO_BINDTODEVICE when not empty
  bool reuse_address = false;         // SO_REUSEADDR
  bool broadcast = false;             // SO_BROADCAST
  bool receive_errors = false;        // IP_RECVERR; read them with ReadError()
  bool receive_ttl = false;           // IP_RECVTTL: fill Datagram::ttl
  std::optional<std::uint8_t> tos{};  // IP_TOS for every datagram sent (DSCP << 2 | ECN)
  // UDP generic segmentation offload (UDP_SEGMENT) in SendBatch: runs of
  // equal-size datagrams to one destination cross the stack as one packet
  // (platform/linux/socket_io.h). The wire is unchanged. Turned off for
  // good if the kernel refuses it for a route (EIO), after which that
  // batch is sent again without it.
  bool segmentation_offload = false;
};

// An ICMP error queued by IP_RECVERR for a datagram this socket sent.
struct SocketError {
  int error = 0;               // errno value, e.g. ECONNREFUSED
  Ipv4Address offender{};      // who reported it (the ICMP source), if known
  Ipv4Endpoint destination{};  // where the failed datagram was going
  std::uint8_t icmp_type = 0;
  std::uint8_t icmp_code = 0;
};

class UdpSocket {
 public:
  virtual ~UdpSocket() = default;

  // Readable (for an EventLoop) while datagrams are waiting.
  virtual int fd() const = 0;
  // The bound address and the actual port (an ephemeral one if bind.port was 0).
  virtual Ipv4Endpoint local() const = 0;

  // Receives up to batch.size() datagrams into the caller's buffers without
  // blocking. Returns how many were filled (0: nothing waiting).
  virtual Result<std::size_t> RecvBatch(std::span<Datagram> batch) = 0;
  // Sends datagrams in order without blocking. Returns how many left; fewer
  // than batch.size() means the socket buffer is full (wait for writability)
  // or that the next one fails (it will fail again alone). An Error means the
  // FIRST datagram failed (e.g. an unreachable network or a source address
  // that is not local): drop it and go on with the rest.
  virtual Result<std::size_t> SendBatch(std::span<const OutgoingDatagram> batch) = 0;

  // DSCP/ECN octet for datagrams sent from now on.
  virtual Status SetTos(std::uint8_t tos) = 0;
  // One queued error (only with receive_errors), nullopt when none.
  virtual Result<std::optional<SocketError>> ReadError() = 0;

  // One datagram: true if `d` was filled, false if nothing was waiting.
  Result<bool> Recv(Datagram& d) {
    MIPSEC_ASSIGN_OR_RETURN(std::size_t n, RecvBatch(std::span<Datagram>(&d, 1)));
    return n == 1;
  }
  // One datagram; a full socket buffer is Errc::kResource.
  Status Send(const OutgoingDatagram& d) {
    MIPSEC_ASSIGN_OR_RETURN(std::size_t n, SendBatch(std::span<const OutgoingDatagram>(&d, 1)));
    if (n == 0)
      return Error(Errc::kResource, "udp send to " + d.remote.ToString() + ": would block");
    return Ok{};
  }
};

}  // namespace mipsec::platform

#endif  // MIPSEC_PLATFORM_UDP_H_
