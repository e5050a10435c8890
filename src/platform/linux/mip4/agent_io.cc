#include "platform/linux/mip4/agent_io.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <utility>
#include <variant>

#include "common/wire/reader.h"
#include "platform/linux/socket_io.h"
#include "platform/linux/sys_error.h"

namespace mipsec::mip4d {
namespace {

constexpr std::uint8_t kIcmpAdvertisement = 9;   // RFC 5944 2.1 (RFC 1256)
constexpr std::uint8_t kIcmpSolicitation = 10;   // RFC 5944 2.2
constexpr std::uint8_t kIcmpDestinationUnreachable = 3;  // RFC 792 (RFC 2003 5.1)

Status SetBuffer(int fd, int option, int bytes, const char* what) {
  // SO_*BUFFORCE would ignore rmem_max/wmem_max but needs CAP_NET_ADMIN;
  // try it first, then the capped variant.
  const int force = option == SO_RCVBUF ? SO_RCVBUFFORCE : SO_SNDBUFFORCE;
  if (setsockopt(fd, SOL_SOCKET, force, &bytes, sizeof bytes) == 0) return Ok{};
  return platform::linux_io::SetIntOption(fd, SOL_SOCKET, option, bytes, what);
}

// The destination of an IPv4 header, or an error naming what is wrong.
Result<Ipv4Address> PacketDestination(ByteSpan packet) {
  if (packet.size() < 20 || (packet[0] >> 4) != 4) {
    return Error(Errc::kInvalidArgument,
                 "IpTransmit: not an IPv4 packet (" + std::to_string(packet.size()) + " bytes)");
  }
  return Ipv4Address::FromBytes(packet.subspan<16, 4>());
}

platform::OutgoingDatagram ToOutgoing(const mip4::UdpTransmit& u) {
  platform::OutgoingDatagram d;
  d.payload = u.payload;
  d.remote = u.remote;
  d.source = u.local.address;  // Any(): routing picks it
  d.ifindex = u.ifindex.value_or(0);
  d.ttl = u.ttl;
  return d;
}

Status SendIp(AgentSockets& s, const mip4::IpTransmit& ipt) {
  platform::LinuxRawSocket* raw = s.raw_sender();
  if (raw == nullptr) {
    return Error(Errc::kState, "IpTransmit: no raw socket open (open_ipip or open_icmp)");
  }
  MIPSEC_ASSIGN_OR_RETURN(Ipv4Address dst, PacketDestination(ipt.packet));
  if (ipt.link_next_hop && *ipt.link_next_hop != dst) {
    return Error(Errc::kUnsupported, "IpTransmit: link_next_hop " + ipt.link_next_hop->ToString() +
                                         " differs from the destination " + dst.ToString());
  }
  // With an ifindex the kernel's lookup is restricted to that device and
  // falls back to on-link delivery there (see agent_io.h).
  return raw->SendIpPacket(ipt.packet, ipt.ifindex.value_or(0));
}

}  // namespace

Result<AgentSockets> OpenAgentSockets(const AgentSocketOptions& o) {
  AgentSockets s;
  platform::UdpOptions u;
  u.bind = Ipv4Endpoint{o.bind_address, o.port};
  u.device = o.device;
  u.reuse_address = o.reuse_address;
  u.broadcast = o.udp_broadcast;
  u.receive_ttl = true;
  auto udp = platform::LinuxUdpSocket::Open(u);
  if (!udp.ok()) {
    return Error(udp.error().code(), "udp " + u.bind.ToString() + ": " + udp.error().detail());
  }
  s.udp = std::move(udp).value();
  if (o.udp_buffer_bytes > 0) {
    MIPSEC_TRY(SetBuffer(s.udp->fd(), SO_RCVBUF, o.udp_buffer_bytes, "setsockopt(SO_RCVBUF)"));
    MIPSEC_TRY(SetBuffer(s.udp->fd(), SO_SNDBUF, o.udp_buffer_bytes, "setsockopt(SO_SNDBUF)"));
  }
  if (o.open_ipip) {
    platform::RawSocketOptions r;
    r.protocol = platform::kIpProtoIpip;
    r.device = o.device;
    r.broadcast = true;
    auto raw = platform::LinuxRawSocket::Open(r);
    if (!raw.ok()) {
      return Error(raw.error().code(), "ip-in-ip raw socket: " + raw.error().detail());
    }
    s.ipip = std::move(raw).value();
  }
  if (o.open_icmp) {
    platform::RawSocketOptions r;
    r.protocol = platform::kIpProtoIcmp;
    r.device = o.device;
    r.broadcast = true;
    r.multicast_ttl = 1;  // RFC 5944 2.3 / 2.4 (RFC 1256): link-local
    r.multicast_loop = false;
    r.icmp_types = {kIcmpAdvertisement, kIcmpSolicitation};
    if (o.icmp_destination_unreachable) r.icmp_types.push_back(kIcmpDestinationUnreachable);
    auto raw = platform::LinuxRawSocket::Open(r);
    if (!raw.ok()) return Error(raw.error().code(), "icmp raw socket: " + raw.error().detail());
    s.icmp = std::move(raw).value();
  }
  return s;
}

mip4::UdpReceived ToUdpReceived(const platform::Datagram& d) {
  mip4::UdpReceived r{d.local, d.remote, d.ifindex, d.data(), std::nullopt};
  if (d.ttl != 0) r.ttl = d.ttl;
  return r;
}

Status SendTransmit(AgentSockets& s, mip4::Transmit&& transmit) {
  if (auto* u = std::get_if<mip4::UdpTransmit>(&transmit)) {
    MIPSEC_TRY(s.udp->Send(ToOutgoing(*u)));
    ++s.counters.udp_sent;
    return Ok{};
  }
  MIPSEC_TRY(SendIp(s, std::get<mip4::IpTransmit>(transmit)));
  ++s.counters.raw_sent;
  return Ok{};
}

RecvBuffers::RecvBuffers(std::size_t count, std::size_t buffer_size)
    : storage_(count * buffer_size), slots_(count) {
  for (std::size_t i = 0; i < count; ++i) {
    slots_[i].buffer = MutableByteSpan(storage_.data() + i * buffer_size, buffer_size);
  }
}

void TransmitBatch::Add(mip4::Transmit&& transmit) {
  if (auto* u = std::get_if<mip4::UdpTransmit>(&transmit)) {
    udp_.push_back(std::move(*u));
  } else {
    ip_.push_back(std::move(std::get<mip4::IpTransmit>(transmit)));
  }
}

Status TransmitBatch::Flush(AgentSockets& s) {
  Status first = Ok{};
  auto note = [&first](const Status& st) {
    if (first.ok() && !st.ok()) first = st;
  };
  out_.clear();
  for (const mip4::UdpTransmit& u : udp_) out_.push_back(ToOutgoing(u));
  std::span<const platform::OutgoingDatagram> rest(out_);
  while (!rest.empty()) {
    Result<std::size_t> n = s.udp->SendBatch(rest);
    if (!n.ok()) {  // the first one failed: drop it, go on with the others
      ++s.counters.send_errors;
      note(n.error());
      rest = rest.subspan(1);
      continue;
    }
    s.counters.udp_sent += *n;
    rest = rest.subspan(*n);
    if (*n == 0) {  // the socket buffer is full: drop the rest of the round
      s.counters.send_would_block += rest.size();
      note(Error(Errc::kResource, "udp send: socket buffer full, " +
                                      std::to_string(rest.size()) + " datagrams dropped"));
      break;
    }
  }
  for (const mip4::IpTransmit& ipt : ip_) {
    Status st = SendIp(s, ipt);
    if (st.ok()) {
      ++s.counters.raw_sent;
    } else if (st.error().code() == Errc::kResource) {
      ++s.counters.send_would_block;
      note(st);
    } else {
      ++s.counters.send_errors;
      note(st);
    }
  }
  udp_.clear();
  ip_.clear();
  out_.clear();
  return first;
}

}  // namespace mipsec::mip4d
