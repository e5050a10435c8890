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
Result<std::size_t> SendBatch(int fd, std::span<const OutgoingDatagram> batch,
                              std::string_view what);

// One entry of the IP_RECVERR error queue, nullopt when empty.
Result<std::optional<SocketError>> ReadErrorQueue(int fd, std::string_view what);

}  // namespace mipsec::platform::linux_io

#endif  // MIPSEC_PLATFORM_LINUX_SOCKET_IO_H_
