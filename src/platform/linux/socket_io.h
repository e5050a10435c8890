// Helpers shared by the UDP and raw IPv4 sockets: socket options, address
// conversion, and recvmmsg/sendmmsg with IP_PKTINFO and IP_TOS control
// messages.
#ifndef MIPSEC_PLATFORM_LINUX_SOCKET_IO_H_
#define MIPSEC_PLATFORM_LINUX_SOCKET_IO_H_

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "common/ip/address.h"
#include "common/result.h"
#include "platform/datagram.h"
#include "platform/udp.h"

namespace mipsec::platform::linux_io {

sockaddr_in ToSockaddr(Ipv4Endpoint e);
Ipv4Endpoint FromSockaddr(const sockaddr_in& sa);

// setsockopt of an int; the error names `what` ("setsockopt(IP_PKTINFO)").
Status SetIntOption(int fd, int level, int name, int value, std::string_view what);
Status BindToDevice(int fd, std::string_view device);

// recvmmsg into `batch` (at most 64 per call). Each Datagram gets its data,
// length, truncation flag, sender, destination address (IP_PKTINFO, needs
// the option set), ifindex and TOS (IP_RECVTOS); local.port = `local_port`.
// EAGAIN is 0. `what` names the socket in errors.
Result<std::size_t> RecvBatch(int fd, std::span<Datagram> batch, std::uint16_t local_port,
                              std::string_view what);
// sendmmsg of `batch` with an IP_PKTINFO control message for every datagram
// that sets a source or an ifindex, and an IP_TTL one for each that sets
// ttl. Stops at EAGAIN. An error on the first datagram of the batch is
// returned as an Error.
// gso_max_segments > 1 (UDP sockets only): UDP generic segmentation offload
// (UDP_SEGMENT, Linux 4.18): a run of consecutive datagrams with the same
// destination, source, ifindex and TTL, each of the first one's size except
// a shorter last one, goes to the kernel as one message of at most that many
// segments and kMaxGsoBytes, and crosses the stack (routing, netfilter,
// forwarding hops, veth) as one packet until it is cut up. On the wire the
// datagrams are exactly those of a plain send. An error for such a message
// fails its whole run; EIO (the route's device cannot checksum-offload, so
// the kernel refuses GSO) also sets *gso_refused.
inline constexpr std::size_t kMaxGsoBytes = 65507 - 8;  // IPv4 total length limit, with slack
inline constexpr std::size_t kMaxGsoSegments = 64;       // UDP_MAX_SEGMENTS on every kernel
Result<std::size_t> SendBatch(int fd, std::span<const OutgoingDatagram> batch,
                              std::string_view what, std::size_t gso_max_segments = 0,
                              bool* gso_refused = nullptr);

// One entry of the IP_RECVERR error queue, nullopt when empty.
Result<std::optional<SocketError>> ReadErrorQueue(int fd, std::string_view what);

}  // namespace mipsec::platform::linux_io

#endif  // MIPSEC_PLATFORM_LINUX_SOCKET_IO_H_
