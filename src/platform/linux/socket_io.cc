#include "platform/linux/socket_io.h"

#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <net/if.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "common/bug.h"
#include "platform/linux/sys_error.h"

namespace mipsec::platform::linux_io {
namespace {

constexpr std::size_t kMaxBatch = 64;
// Room for IP_PKTINFO, IP_TOS and IP_TTL control messages.
constexpr std::size_t kCmsgSpace = CMSG_SPACE(sizeof(in_pktinfo)) + 2 * CMSG_SPACE(sizeof(int));
// Room for the IP_PKTINFO and IP_TTL control messages of one sent datagram.
constexpr std::size_t kSendCmsgSpace = CMSG_SPACE(sizeof(in_pktinfo)) + CMSG_SPACE(sizeof(int));

}  // namespace

sockaddr_in ToSockaddr(Ipv4Endpoint e) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(e.port);
  sa.sin_addr.s_addr = htonl(e.address.ToHostOrder());
  return sa;
}

Ipv4Endpoint FromSockaddr(const sockaddr_in& sa) {
  return Ipv4Endpoint{Ipv4Address::FromHostOrder(ntohl(sa.sin_addr.s_addr)), ntohs(sa.sin_port)};
}

Status SetIntOption(int fd, int level, int name, int value, std::string_view what) {
  if (setsockopt(fd, level, name, &value, sizeof value) != 0) return SysError(what);
  return Ok{};
}

Status BindToDevice(int fd, std::string_view device) {
  if (device.size() >= IFNAMSIZ) {
    return Error(Errc::kInvalidArgument, "interface name too long: " + std::string(device));
  }
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device.data(),
                 static_cast<socklen_t>(device.size())) != 0) {
    return SysError("setsockopt(SO_BINDTODEVICE, " + std::string(device) + ")");
  }
  return Ok{};
}

Result<std::size_t> RecvBatch(int fd, std::span<Datagram> batch, std::uint16_t local_port,
                              std::string_view what) {
  const std::size_t n = std::min(batch.size(), kMaxBatch);
  if (n == 0) return std::size_t{0};
  mmsghdr msgs[kMaxBatch];
  iovec iovs[kMaxBatch];
  sockaddr_in names[kMaxBatch];
  alignas(cmsghdr) unsigned char control[kMaxBatch][kCmsgSpace];
  for (std::size_t i = 0; i < n; ++i) {
    iovs[i] = iovec{batch[i].buffer.data(), batch[i].buffer.size()};
    msgs[i] = mmsghdr{};
    msgs[i].msg_hdr.msg_name = &names[i];
    msgs[i].msg_hdr.msg_namelen = sizeof names[i];
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_control = control[i];
    msgs[i].msg_hdr.msg_controllen = kCmsgSpace;
  }
  int got = recvmmsg(fd, msgs, static_cast<unsigned>(n), MSG_DONTWAIT, nullptr);
  if (got < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return std::size_t{0};
    return SysError(std::string("recvmmsg on ") + std::string(what));
  }
  for (int i = 0; i < got; ++i) {
    Datagram& d = batch[i];
    const msghdr& h = msgs[i].msg_hdr;
    d.length = std::min<std::size_t>(msgs[i].msg_len, d.buffer.size());
    d.truncated = (h.msg_flags & MSG_TRUNC) != 0;
    d.remote = FromSockaddr(names[i]);
    d.local = Ipv4Endpoint{Ipv4Address::Any(), local_port};
    d.ifindex = 0;
    d.tos = 0;
    d.ttl = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr;
         c = CMSG_NXTHDR(const_cast<msghdr*>(&h), c)) {
      if (c->cmsg_level != IPPROTO_IP) continue;
      if (c->cmsg_type == IP_PKTINFO) {
        in_pktinfo info;
        std::memcpy(&info, CMSG_DATA(c), sizeof info);
        d.local.address =
            Ipv4Address::FromHostOrder(ntohl(info.ipi_addr.s_addr));  // the header's destination
        d.ifindex = info.ipi_ifindex;
      } else if (c->cmsg_type == IP_TOS) {
        std::uint8_t tos;
        std::memcpy(&tos, CMSG_DATA(c), 1);
        d.tos = tos;
      } else if (c->cmsg_type == IP_TTL) {
        int ttl;  // IP_RECVTTL delivers an int
        std::memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
        d.ttl = static_cast<std::uint8_t>(ttl);
      }
    }
  }
  return static_cast<std::size_t>(got);
}

namespace {

bool SameFlow(const OutgoingDatagram& a, const OutgoingDatagram& b) {
  return a.remote == b.remote && a.source == b.source && a.ifindex == b.ifindex && a.ttl == b.ttl;
}

}  // namespace

Result<std::size_t> SendBatch(int fd, std::span<const OutgoingDatagram> batch,
                              std::string_view what, std::size_t gso_max_segments,
                              bool* gso_refused) {
  // With GSO, one message carries a run of datagrams: same destination,
  // source, ifindex and TTL, all of the first one's size except the last,
  // which may be shorter (the kernel's UDP_SEGMENT rule), at most
  // gso_max_segments and kMaxGsoBytes of payload.
  constexpr std::size_t kMaxDatagrams = kMaxBatch * 4;
  std::size_t sent_total = 0;
  while (sent_total < batch.size()) {
    auto rest = batch.subspan(sent_total);
    mmsghdr msgs[kMaxBatch];
    iovec iovs[kMaxDatagrams];
    std::size_t counts[kMaxBatch];
    sockaddr_in names[kMaxBatch];
    alignas(cmsghdr) unsigned char control[kMaxBatch][kSendCmsgSpace + CMSG_SPACE(sizeof(std::uint16_t))];
    std::size_t nmsgs = 0;
    std::size_t used = 0;  // datagrams in this sendmmsg
    while (nmsgs < kMaxBatch && used < rest.size() && used < kMaxDatagrams) {
      const OutgoingDatagram& d = rest[used];
      std::size_t run = 1;
      std::size_t bytes = d.payload.size();
      if (gso_max_segments > 1 && !d.payload.empty()) {
        while (used + run < rest.size() && used + run < kMaxDatagrams &&
               run < gso_max_segments) {
          const OutgoingDatagram& n = rest[used + run];
          if (!SameFlow(d, n) || n.payload.size() > d.payload.size() || n.payload.empty() ||
              bytes + n.payload.size() > kMaxGsoBytes) {
            break;
          }
          bytes += n.payload.size();
          ++run;
          if (n.payload.size() < d.payload.size()) break;  // a short one ends the run
        }
      }
      for (std::size_t k = 0; k < run; ++k) {
        const OutgoingDatagram& x = rest[used + k];
        iovs[used + k] = iovec{const_cast<std::uint8_t*>(x.payload.data()), x.payload.size()};
      }
      const std::size_t i = nmsgs++;
      counts[i] = run;
      names[i] = ToSockaddr(d.remote);
      msgs[i] = mmsghdr{};
      msgs[i].msg_hdr.msg_name = &names[i];
      msgs[i].msg_hdr.msg_namelen = sizeof names[i];
      msgs[i].msg_hdr.msg_iov = &iovs[used];
      msgs[i].msg_hdr.msg_iovlen = run;
      used += run;
      const bool pktinfo = !d.source.IsAny() || d.ifindex != 0;
      const bool gso = run > 1;
      if (!pktinfo && !d.ttl && !gso) continue;
      std::memset(control[i], 0, sizeof control[i]);
      msgs[i].msg_hdr.msg_control = control[i];
      msgs[i].msg_hdr.msg_controllen = (pktinfo ? CMSG_SPACE(sizeof(in_pktinfo)) : 0) +
                                       (d.ttl ? CMSG_SPACE(sizeof(int)) : 0) +
                                       (gso ? CMSG_SPACE(sizeof(std::uint16_t)) : 0);
      cmsghdr* c = CMSG_FIRSTHDR(&msgs[i].msg_hdr);
      if (pktinfo) {
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
        in_pktinfo info{};
        info.ipi_ifindex = d.ifindex;
        info.ipi_spec_dst.s_addr = htonl(d.source.ToHostOrder());  // source address to use
        std::memcpy(CMSG_DATA(c), &info, sizeof info);
        c = CMSG_NXTHDR(&msgs[i].msg_hdr, c);
      }
      if (d.ttl) {
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_TTL;  // this datagram only (ip_cmsg_send)
        c->cmsg_len = CMSG_LEN(sizeof(int));
        int ttl = *d.ttl;
        std::memcpy(CMSG_DATA(c), &ttl, sizeof ttl);
        c = CMSG_NXTHDR(&msgs[i].msg_hdr, c);
      }
      if (gso) {
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;  // the kernel cuts the payload into gso_size pieces
        c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
        const auto gso_size = static_cast<std::uint16_t>(d.payload.size());
        std::memcpy(CMSG_DATA(c), &gso_size, sizeof gso_size);
      }
    }
    int sent = sendmmsg(fd, msgs, static_cast<unsigned>(nmsgs), MSG_DONTWAIT);
    if (sent < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return sent_total;
      if (sent_total > 0) return sent_total;  // the failing one goes first next time
      int err = errno;
      if (gso_refused != nullptr && counts[0] > 1 && err == EIO) *gso_refused = true;
      std::string msg = "sendmmsg on " + std::string(what) + " to " + rest[0].remote.ToString();
      if (!rest[0].source.IsAny()) msg += " from " + rest[0].source.ToString();
      if (counts[0] > 1) msg += " (UDP_SEGMENT, " + std::to_string(counts[0]) + " datagrams)";
      return SysError(msg, err);
    }
    for (int k = 0; k < sent; ++k) sent_total += counts[k];
    if (static_cast<std::size_t>(sent) < nmsgs) break;
  }
  return sent_total;
}

Result<std::optional<SocketError>> ReadErrorQueue(int fd, std::string_view what) {
  std::uint8_t payload[64];
  sockaddr_in name{};
  alignas(cmsghdr) unsigned char control[512];
  iovec iov{payload, sizeof payload};
  msghdr h{};
  h.msg_name = &name;
  h.msg_namelen = sizeof name;
  h.msg_iov = &iov;
  h.msg_iovlen = 1;
  h.msg_control = control;
  h.msg_controllen = sizeof control;
  if (recvmsg(fd, &h, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return std::optional<SocketError>();
    return SysError(std::string("recvmsg(MSG_ERRQUEUE) on ") + std::string(what));
  }
  SocketError e;
  e.destination = FromSockaddr(name);
  for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
    if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_RECVERR) continue;
    sock_extended_err ee;
    std::memcpy(&ee, CMSG_DATA(c), sizeof ee);
    e.error = static_cast<int>(ee.ee_errno);
    e.icmp_type = ee.ee_type;
    e.icmp_code = ee.ee_code;
    if (ee.ee_origin == SO_EE_ORIGIN_ICMP &&
        c->cmsg_len >= CMSG_LEN(sizeof ee + sizeof(sockaddr_in))) {
      // The offender's address follows the extended error (SO_EE_OFFENDER).
      sockaddr_in off;
      std::memcpy(&off, CMSG_DATA(c) + sizeof ee, sizeof off);
      if (off.sin_family == AF_INET)
        e.offender = Ipv4Address::FromHostOrder(ntohl(off.sin_addr.s_addr));
    }
  }
  return std::optional<SocketError>(e);
}

}  // namespace mipsec::platform::linux_io
