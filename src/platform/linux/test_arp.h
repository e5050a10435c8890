// ArpProbe (tests): ARP frames on one interface of the calling thread's
// network namespace, read and sent through an AF_PACKET socket — to see
// what a daemon announces or answers on a link (RFC 5944 4.6) without
// tcpdump. The socket keeps the namespace it was opened in.
#ifndef MIPSEC_PLATFORM_LINUX_TEST_ARP_H_
#define MIPSEC_PLATFORM_LINUX_TEST_ARP_H_

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if_arp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/ip/address.h"
#include "common/time.h"
#include "platform/linux/fd.h"
#include "platform/linux/gratuitous_arp.h"

namespace mipsec::platform {

struct ArpFrame {
  std::uint16_t op = 0;  // ARPOP_REQUEST, ARPOP_REPLY
  MacAddress sha{};
  Ipv4Address spa;
  MacAddress tha{};
  Ipv4Address tpa;
  unsigned char pkttype = 0;  // PACKET_HOST, PACKET_BROADCAST, PACKET_OUTGOING, ...

  bool incoming() const { return pkttype != PACKET_OUTGOING; }
  bool broadcast() const { return pkttype == PACKET_BROADCAST; }
  // RFC 5944 4.6: sender and target protocol addresses both `a`.
  bool Gratuitous(Ipv4Address a) const { return spa == a && tpa == a; }
};

inline std::string MacString(const MacAddress& m) {
  char s[18];
  std::snprintf(s, sizeof s, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return s;
}

inline std::string Describe(const ArpFrame& f) {
  return std::string(f.op == ARPOP_REQUEST ? "request" : f.op == ARPOP_REPLY ? "reply" : "op?") +
         " " + MacString(f.sha) + " " + f.spa.ToString() + " -> " + MacString(f.tha) + " " +
         f.tpa.ToString() + " pkttype " + std::to_string(f.pkttype);
}

class ArpProbe {
 public:
  explicit ArpProbe(int ifindex) : ifindex_(ifindex) {
    fd_ = ScopedFd(socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ARP)));
    sockaddr_ll a{};
    a.sll_family = AF_PACKET;
    a.sll_protocol = htons(ETH_P_ARP);
    a.sll_ifindex = ifindex;
    if (fd_.valid() && bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      fd_ = ScopedFd();
    }
  }
  bool ok() const { return fd_.valid(); }

  // Every Ethernet/IPv4 ARP frame seen within `d`.
  std::vector<ArpFrame> Read(Duration d) {
    std::vector<ArpFrame> out;
    const std::int64_t end = NowMs() + d.millis();
    for (;;) {
      const std::int64_t left = end - NowMs();
      if (left <= 0) break;
      pollfd p{fd_.get(), POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      std::uint8_t buf[256];
      sockaddr_ll from{};
      socklen_t len = sizeof from;
      const ssize_t n = recvfrom(fd_.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from),
                                 &len);
      if (n < 28 || buf[0] != 0 || buf[1] != 1 || buf[2] != 0x08 || buf[3] != 0 || buf[4] != 6 ||
          buf[5] != 4) {
        continue;
      }
      ArpFrame f;
      f.op = static_cast<std::uint16_t>(buf[6] << 8 | buf[7]);
      std::memcpy(f.sha.data(), buf + 8, 6);
      f.spa = Ip(buf + 14);
      std::memcpy(f.tha.data(), buf + 18, 6);
      f.tpa = Ip(buf + 24);
      f.pkttype = from.sll_pkttype;
      out.push_back(f);
    }
    return out;
  }

  // A broadcast ARP Request: who has `target`? tell `sender_ip` at `sender`.
  bool Request(const MacAddress& sender, Ipv4Address sender_ip, Ipv4Address target) {
    std::uint8_t p[28] = {0, 1, 0x08, 0, 6, 4, 0, 1};
    std::memcpy(p + 8, sender.data(), 6);
    PutIp(p + 14, sender_ip);
    PutIp(p + 24, target);
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(ETH_P_ARP);
    to.sll_ifindex = ifindex_;
    to.sll_halen = 6;
    std::memset(to.sll_addr, 0xff, 6);
    return sendto(fd_.get(), p, sizeof p, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
           static_cast<ssize_t>(sizeof p);
  }

 private:
  static std::int64_t NowMs() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
  }
  static Ipv4Address Ip(const std::uint8_t* b) {
    return Ipv4Address::FromOctets(b[0], b[1], b[2], b[3]);
  }
  static void PutIp(std::uint8_t* b, Ipv4Address a) {
    const std::uint32_t v = a.ToHostOrder();
    b[0] = static_cast<std::uint8_t>(v >> 24);
    b[1] = static_cast<std::uint8_t>(v >> 16);
    b[2] = static_cast<std::uint8_t>(v >> 8);
    b[3] = static_cast<std::uint8_t>(v);
  }

  int ifindex_;
  ScopedFd fd_;
};

}  // namespace mipsec::platform

#endif  // MIPSEC_PLATFORM_LINUX_TEST_ARP_H_
