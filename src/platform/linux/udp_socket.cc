#include "platform/linux/udp_socket.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

#include "platform/linux/socket_io.h"
#include "platform/linux/sys_error.h"

namespace mipsec::platform {

Result<std::unique_ptr<LinuxUdpSocket>> LinuxUdpSocket::Open(const UdpOptions& o) {
  ScopedFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP));
  if (!fd.valid()) return SysError("socket(AF_INET, SOCK_DGRAM)");
  const int s = fd.get();
  MIPSEC_TRY(linux_io::SetIntOption(s, IPPROTO_IP, IP_PKTINFO, 1, "setsockopt(IP_PKTINFO)"));
  MIPSEC_TRY(linux_io::SetIntOption(s, IPPROTO_IP, IP_RECVTOS, 1, "setsockopt(IP_RECVTOS)"));
  if (o.reuse_address) {
    MIPSEC_TRY(linux_io::SetIntOption(s, SOL_SOCKET, SO_REUSEADDR, 1, "setsockopt(SO_REUSEADDR)"));
  }
  if (o.broadcast) {
    MIPSEC_TRY(linux_io::SetIntOption(s, SOL_SOCKET, SO_BROADCAST, 1, "setsockopt(SO_BROADCAST)"));
  }
  if (o.receive_errors) {
    MIPSEC_TRY(linux_io::SetIntOption(s, IPPROTO_IP, IP_RECVERR, 1, "setsockopt(IP_RECVERR)"));
  }
  if (o.receive_ttl) {
    MIPSEC_TRY(linux_io::SetIntOption(s, IPPROTO_IP, IP_RECVTTL, 1, "setsockopt(IP_RECVTTL)"));
  }
  if (o.tos) {
    MIPSEC_TRY(linux_io::SetIntOption(s, IPPROTO_IP, IP_TOS, *o.tos, "setsockopt(IP_TOS)"));
  }
  if (!o.device.empty()) MIPSEC_TRY(linux_io::BindToDevice(s, o.device));
  sockaddr_in sa = linux_io::ToSockaddr(o.bind);
  if (bind(s, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    return SysError("bind " + o.bind.ToString());
  }
  sockaddr_in bound{};
  socklen_t len = sizeof bound;
  if (getsockname(s, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
    return SysError("getsockname");
  }
  return std::unique_ptr<LinuxUdpSocket>(
      new LinuxUdpSocket(std::move(fd), linux_io::FromSockaddr(bound), o.segmentation_offload));
}

Result<std::size_t> LinuxUdpSocket::RecvBatch(std::span<Datagram> batch) {
  return linux_io::RecvBatch(fd_.get(), batch, local_.port, Name());
}

Result<std::size_t> LinuxUdpSocket::SendBatch(std::span<const OutgoingDatagram> batch) {
  if (!gso_.load(std::memory_order_relaxed)) return linux_io::SendBatch(fd_.get(), batch, Name());
  bool refused = false;
  Result<std::size_t> r =
      linux_io::SendBatch(fd_.get(), batch, Name(), linux_io::kMaxGsoSegments, &refused);
  if (!refused) return r;
  gso_.store(false, std::memory_order_relaxed);
  return linux_io::SendBatch(fd_.get(), batch, Name());
}

Status LinuxUdpSocket::SetTos(std::uint8_t tos) {
  return linux_io::SetIntOption(fd_.get(), IPPROTO_IP, IP_TOS, tos, "setsockopt(IP_TOS)");
}

Result<std::optional<SocketError>> LinuxUdpSocket::ReadError() {
  return linux_io::ReadErrorQueue(fd_.get(), Name());
}

}  // namespace mipsec::platform
