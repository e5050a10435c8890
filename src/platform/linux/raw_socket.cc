#include "platform/linux/raw_socket.h"

#include <arpa/inet.h>
#include <linux/icmp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "platform/linux/socket_io.h"
#include "platform/linux/sys_error.h"

namespace mipsec::platform {

Result<std::unique_ptr<LinuxRawSocket>> LinuxRawSocket::Open(const RawSocketOptions& o) {
  if (o.protocol == 0 || o.protocol == IPPROTO_RAW) {
    return Error(Errc::kInvalidArgument,
                 "raw socket: protocol " + std::to_string(o.protocol) + " cannot receive");
  }
  ScopedFd fd(socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, o.protocol));
  if (!fd.valid()) return SysError("socket(AF_INET, SOCK_RAW, " + std::to_string(o.protocol) + ")");
  const int s = fd.get();
  MIPSEC_TRY(linux_io::SetIntOption(s, IPPROTO_IP, IP_PKTINFO, 1, "setsockopt(IP_PKTINFO)"));
  MIPSEC_TRY(linux_io::SetIntOption(s, IPPROTO_IP, IP_RECVTOS, 1, "setsockopt(IP_RECVTOS)"));
  if (o.broadcast) {
    MIPSEC_TRY(linux_io::SetIntOption(s, SOL_SOCKET, SO_BROADCAST, 1, "setsockopt(SO_BROADCAST)"));
  }
  if (o.ttl)
    MIPSEC_TRY(linux_io::SetIntOption(s, IPPROTO_IP, IP_TTL, *o.ttl, "setsockopt(IP_TTL)"));
  if (o.tos)
    MIPSEC_TRY(linux_io::SetIntOption(s, IPPROTO_IP, IP_TOS, *o.tos, "setsockopt(IP_TOS)"));
  MIPSEC_TRY(linux_io::SetIntOption(s, IPPROTO_IP, IP_MULTICAST_TTL, o.multicast_ttl,
                                    "setsockopt(IP_MULTICAST_TTL)"));
  MIPSEC_TRY(linux_io::SetIntOption(s, IPPROTO_IP, IP_MULTICAST_LOOP, o.multicast_loop ? 1 : 0,
                                    "setsockopt(IP_MULTICAST_LOOP)"));
  if (o.multicast_ifindex != 0) {
    ip_mreqn mreq{};
    mreq.imr_ifindex = o.multicast_ifindex;
    if (setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq) != 0) {
      return SysError("setsockopt(IP_MULTICAST_IF, ifindex " + std::to_string(o.multicast_ifindex) +
                      ")");
    }
  }
  if (!o.icmp_types.empty()) {
    if (o.protocol != IPPROTO_ICMP) {
      return Error(Errc::kInvalidArgument, "raw socket: icmp_types needs protocol 1 (ICMP)");
    }
    // ICMP_FILTER: a set bit drops that type; types >= 32 cannot be named.
    std::uint32_t pass = 0;
    for (std::uint8_t t : o.icmp_types) {
      if (t >= 32) {
        return Error(Errc::kInvalidArgument,
                     "raw socket: ICMP_FILTER cannot select type " + std::to_string(t));
      }
      pass |= 1u << t;
    }
    icmp_filter filter{~pass};
    if (setsockopt(s, SOL_RAW, ICMP_FILTER, &filter, sizeof filter) != 0) {
      return SysError("setsockopt(ICMP_FILTER)");
    }
  }
  if (!o.device.empty()) MIPSEC_TRY(linux_io::BindToDevice(s, o.device));
  if (!o.bind_address.IsAny()) {
    sockaddr_in sa = linux_io::ToSockaddr(Ipv4Endpoint{o.bind_address, 0});
    if (bind(s, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
      return SysError("bind raw socket to " + o.bind_address.ToString());
    }
  }
  return std::unique_ptr<LinuxRawSocket>(new LinuxRawSocket(std::move(fd), o.protocol));
}

Result<std::size_t> LinuxRawSocket::RecvBatch(std::span<Datagram> batch) {
  return linux_io::RecvBatch(fd_.get(), batch, 0, Name());
}

Result<std::size_t> LinuxRawSocket::SendBatch(std::span<const OutgoingDatagram> batch) {
  MIPSEC_TRY(SetHeaderIncluded(false));
  return linux_io::SendBatch(fd_.get(), batch, Name());
}

Status LinuxRawSocket::SendIpPacket(ByteSpan packet, int ifindex) {
  if (packet.size() < 20 || (packet[0] >> 4) != 4 || (packet[0] & 0x0f) < 5) {
    return Error(Errc::kInvalidArgument,
                 "SendIpPacket: not an IPv4 packet (" + std::to_string(packet.size()) + " bytes)");
  }
  MIPSEC_TRY(SetHeaderIncluded(true));
  OutgoingDatagram d;
  d.payload = packet;
  d.remote = Ipv4Endpoint{Ipv4Address::FromBytes(packet.subspan<16, 4>()), 0};
  d.ifindex = ifindex;
  MIPSEC_ASSIGN_OR_RETURN(std::size_t n, linux_io::SendBatch(fd_.get(), std::span(&d, 1), Name()));
  if (n == 0) {
    return Error(Errc::kResource, "raw send to " + d.remote.address.ToString() + ": would block");
  }
  return Ok{};
}

Status LinuxRawSocket::SetHeaderIncluded(bool on) {
  if (header_included_ == on) return Ok{};
  MIPSEC_TRY(linux_io::SetIntOption(fd_.get(), IPPROTO_IP, IP_HDRINCL, on ? 1 : 0,
                                    "setsockopt(IP_HDRINCL)"));
  header_included_ = on;
  return Ok{};
}

Status LinuxRawSocket::Membership(int option, Ipv4Address group, int ifindex) {
  ip_mreqn mreq{};
  mreq.imr_multiaddr.s_addr = htonl(group.ToHostOrder());
  mreq.imr_ifindex = ifindex;
  if (setsockopt(fd_.get(), IPPROTO_IP, option, &mreq, sizeof mreq) != 0) {
    return SysError(
        std::string(option == IP_ADD_MEMBERSHIP ? "IP_ADD_MEMBERSHIP " : "IP_DROP_MEMBERSHIP ") +
        group.ToString() + " on ifindex " + std::to_string(ifindex));
  }
  return Ok{};
}

Status LinuxRawSocket::JoinMulticast(Ipv4Address group, int ifindex) {
  return Membership(IP_ADD_MEMBERSHIP, group, ifindex);
}

Status LinuxRawSocket::LeaveMulticast(Ipv4Address group, int ifindex) {
  return Membership(IP_DROP_MEMBERSHIP, group, ifindex);
}

}  // namespace mipsec::platform
