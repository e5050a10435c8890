#include "platform/linux/gratuitous_arp.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "platform/linux/fd.h"
#include "platform/linux/sys_error.h"

namespace mipsec::platform {

Bytes GratuitousArpPayload(Ipv4Address address, const MacAddress& sender) {
  Bytes p;
  p.reserve(28);
  auto u16 = [&](std::uint16_t v) {
    p.push_back(static_cast<std::uint8_t>(v >> 8));
    p.push_back(static_cast<std::uint8_t>(v));
  };
  auto ip = [&] {
    const std::uint32_t a = address.ToHostOrder();
    for (int shift = 24; shift >= 0; shift -= 8) p.push_back(static_cast<std::uint8_t>(a >> shift));
  };
  u16(ARPHRD_ETHER);  // hardware type: Ethernet
  u16(ETHERTYPE_IP);  // protocol type: IPv4
  p.push_back(6);     // hardware address length
  p.push_back(4);     // protocol address length
  u16(ARPOP_REQUEST);  // RFC 5944 4.6: "MAY use either an ARP Request or an ARP Reply"
  p.insert(p.end(), sender.begin(), sender.end());
  ip();                               // sender protocol address
  p.insert(p.end(), 6, 0);            // target hardware address: unknown
  ip();                               // target protocol address = sender's (gratuitous)
  return p;
}

Result<MacAddress> InterfaceMac(int ifindex) {
  ifreq ifr{};
  if (if_indextoname(static_cast<unsigned>(ifindex), ifr.ifr_name) == nullptr) {
    return SysError("if_indextoname(" + std::to_string(ifindex) + ")");
  }
  ScopedFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return SysError("socket");
  if (ioctl(fd.get(), SIOCGIFHWADDR, &ifr) != 0) {
    return SysError(std::string("SIOCGIFHWADDR ") + ifr.ifr_name);
  }
  if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
    return Error(Errc::kUnsupported,
                 std::string(ifr.ifr_name) + " has no Ethernet address (no ARP on it)");
  }
  MacAddress mac;
  memcpy(mac.data(), ifr.ifr_hwaddr.sa_data, mac.size());
  return mac;
}

Status SendGratuitousArp(int ifindex, Ipv4Address address, const MacAddress& sender) {
  ScopedFd fd(socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP)));
  if (!fd.valid()) return SysError("socket(AF_PACKET, ETH_P_ARP)");
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_ARP);
  to.sll_ifindex = ifindex;
  to.sll_halen = 6;
  memset(to.sll_addr, 0xff, 6);  // RFC 5944 4.6: "as a broadcast packet on the link"
  const Bytes p = GratuitousArpPayload(address, sender);
  if (sendto(fd.get(), p.data(), p.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) !=
      static_cast<ssize_t>(p.size())) {
    return SysError("gratuitous ARP for " + address.ToString() + " on ifindex " +
                    std::to_string(ifindex));
  }
  return Ok{};
}

GratuitousArp::GratuitousArp(EventLoop& loop, Duration interval, int repeats)
    : loop_(loop), interval_(interval), repeats_(repeats) {}

GratuitousArp::~GratuitousArp() = default;

Status GratuitousArp::Announce(int ifindex, Ipv4Address address, std::optional<MacAddress> sender) {
  if (!sender) {
    MIPSEC_ASSIGN_OR_RETURN(MacAddress own, InterfaceMac(ifindex));
    sender = own;
  }
  if (Status s = SendGratuitousArp(ifindex, address, *sender); !s.ok()) {
    ++errors_;
    return s;
  }
  ++sent_;
  const auto key = std::make_pair(ifindex, address);
  Pending& p = pending_[key];
  p.sender = *sender;
  p.left = repeats_;
  if (!p.timer) {
    p.timer = std::make_unique<Timer>(loop_, [this, key](Timestamp now) {
      auto it = pending_.find(key);
      if (it == pending_.end()) return;
      if (SendGratuitousArp(key.first, key.second, it->second.sender).ok()) {
        ++sent_;
      } else {
        ++errors_;
      }
      if (--it->second.left > 0) {
        it->second.timer->Set(now + interval_);
      } else {
        pending_.erase(it);
      }
    });
  }
  if (p.left > 0) {
    p.timer->Set(loop_.Now() + interval_);
  } else {
    pending_.erase(key);
  }
  return Ok{};
}

void GratuitousArp::Cancel(int ifindex, Ipv4Address address) {
  pending_.erase(std::make_pair(ifindex, address));
}

}  // namespace mipsec::platform
