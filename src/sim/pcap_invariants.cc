#include "sim/pcap_invariants.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <optional>

#include "common/ip/ipv4.h"

namespace mipsec::sim {

namespace {

constexpr std::uint32_t kLinkEthernet = 1;
constexpr std::uint32_t kLinkRaw = 101;
constexpr std::uint32_t kLinkIpv4 = 228;
constexpr std::size_t kGlobalHeader = 24;
constexpr std::size_t kRecordHeader = 16;

constexpr std::uint16_t kPortDhcpServer = 67;
constexpr std::uint16_t kPortDhcpClient = 68;
constexpr std::uint16_t kPortMip = 434;
constexpr std::uint16_t kPortIke = 500;
constexpr std::uint16_t kPortNatt = 4500;

// Mobile IP message types on port 434 (RFC 5944 3.3, 3.4; RFC 3519 3.3).
constexpr std::uint8_t kMipRequest = 1;
constexpr std::uint8_t kMipReply = 3;
constexpr std::uint8_t kMipTunnelData = 4;

std::uint16_t Be16(ByteSpan b, std::size_t o) {
  return static_cast<std::uint16_t>((b[o] << 8) | b[o + 1]);
}
Ipv4Address AddressAt(ByteSpan b, std::size_t o) {
  return Ipv4Address::FromOctets(b[o], b[o + 1], b[o + 2], b[o + 3]);
}

// An IPv4 header read without trusting anything: the payload is what was
// captured of what the header declares.
struct Ip {
  Ipv4Address src, dst;
  std::uint8_t protocol = 0;
  bool first_fragment = true;  // offset 0: the transport header is here
  ByteSpan payload;
};

std::optional<Ip> ReadIp(ByteSpan b) {
  if (b.size() < ip::Ipv4Header::kMinSize || (b[0] >> 4) != 4) return std::nullopt;
  const std::size_t ihl = static_cast<std::size_t>(b[0] & 0x0f) * 4;
  const std::size_t total = Be16(b, 2);
  if (ihl < ip::Ipv4Header::kMinSize || ihl > b.size() || total < ihl) return std::nullopt;
  Ip ip;
  ip.src = AddressAt(b, 12);
  ip.dst = AddressAt(b, 16);
  ip.protocol = b[9];
  ip.first_fragment = (Be16(b, 6) & 0x1fff) == 0;
  ip.payload = b.subspan(ihl, std::min(total, b.size()) - ihl);
  return ip;
}

std::string ProtocolName(std::uint8_t p) {
  switch (p) {
    case ip::kProtoIcmp: return "icmp";
    case ip::kProtoIpip: return "ip-in-ip";
    case ip::kProtoTcp: return "tcp";
    case ip::kProtoUdp: return "udp";
    case ip::kProtoGre: return "gre";
    case ip::kProtoMinEnc: return "minimal encapsulation";
    default: return "protocol " + std::to_string(p);
  }
}

std::string Flow(const Ip& ip) {
  std::string s = ProtocolName(ip.protocol) + " " + ip.src.ToString();
  const bool ports = ip.first_fragment && ip.payload.size() >= 4 &&
                     (ip.protocol == ip::kProtoUdp || ip.protocol == ip::kProtoTcp);
  if (ports) s += ":" + std::to_string(Be16(ip.payload, 0));
  s += " -> " + ip.dst.ToString();
  if (ports) s += ":" + std::to_string(Be16(ip.payload, 2));
  return s;
}

class Checker {
 public:
  explicit Checker(const std::vector<Ipv4Address>& protected_addresses)
      : protected_(protected_addresses) {}

  // nullopt: allowed; otherwise what is wrong with the packet.
  std::optional<std::string> CheckIpv4(ByteSpan packet) const {
    std::optional<Ip> ip = ReadIp(packet);
    if (!ip) {
      return "not a parseable IPv4 packet (" + std::to_string(packet.size()) + " bytes)";
    }
    const bool outer = Protected(*ip);
    if (!ip->first_fragment) {
      // No transport header to tell what it is.
      if (outer) return "fragment of " + Flow(*ip) + " in clear";
      return std::nullopt;
    }
    switch (ip->protocol) {
      case ip::kProtoEsp:
        return std::nullopt;  // RFC 4303: encrypted
      case ip::kProtoUdp:
        return CheckUdp(*ip, outer);
      case ip::kProtoIcmp:
        return CheckIcmp(*ip, outer);
      case ip::kProtoIpip:
        if (outer) return Flow(*ip) + " in clear";
        return CheckInner(*ip, ip->payload);
      default:
        if (outer) return Flow(*ip) + " in clear";
        return std::nullopt;
    }
  }

 private:
  bool Protected(Ipv4Address a) const {
    return std::find(protected_.begin(), protected_.end(), a) != protected_.end();
  }
  bool Protected(const Ip& ip) const { return Protected(ip.src) || Protected(ip.dst); }

  // A tunnel without encryption: its inner packet must not be protected.
  std::optional<std::string> CheckInner(const Ip& outer, ByteSpan inner_bytes) const {
    std::optional<Ip> inner = ReadIp(inner_bytes);
    if (!inner || !Protected(*inner)) return std::nullopt;
    return Flow(outer) + " carries " + Flow(*inner) + " in clear";
  }

  std::optional<std::string> CheckUdp(const Ip& ip, bool outer) const {
    if (ip.payload.size() < 8) {
      if (outer) return Flow(ip) + " (truncated header) in clear";
      return std::nullopt;
    }
    const std::uint16_t sport = Be16(ip.payload, 0), dport = Be16(ip.payload, 2);
    auto port = [&](std::uint16_t p) { return sport == p || dport == p; };
    const ByteSpan data = ip.payload.subspan(8);
    // IKE on 500; on 4500 IKE behind the non-ESP marker, the NAT keepalive
    // and ESP-in-UDP (RFC 3948 2.1-2.3): all encrypted or content-free.
    if (port(kPortIke) || port(kPortNatt)) return std::nullopt;
    if (port(kPortDhcpServer) || port(kPortDhcpClient)) return std::nullopt;
    if (port(kPortMip) && !data.empty()) {
      // The direct Registration Request / Reply (RFC 5266 3.4) is allowed.
      if (data[0] == kMipRequest || data[0] == kMipReply) return std::nullopt;
      if (data[0] == kMipTunnelData && !outer) {
        // RFC 3519 3.3: type, next header, reserved (2), then the payload.
        if (data.size() >= 4 && data[1] == ip::kProtoIpip) return CheckInner(ip, data.subspan(4));
        return std::nullopt;
      }
    }
    if (outer) return Flow(ip) + " in clear";
    return std::nullopt;
  }

  std::optional<std::string> CheckIcmp(const Ip& ip, bool outer) const {
    if (ip.payload.empty()) {
      if (outer) return Flow(ip) + " (empty) in clear";
      return std::nullopt;
    }
    const std::uint8_t type = ip.payload[0];
    // Router discovery: agent advertisements and solicitations (RFC 5944 2).
    if (type == 9 || type == 10) return std::nullopt;
    if (outer) return Flow(ip) + " type " + std::to_string(type) + " in clear";
    // Errors quote the offending header and 8 bytes of its payload.
    const bool error = type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
    if (error && ip.payload.size() >= 8) {
      std::optional<Ip> quoted = ReadIp(ip.payload.subspan(8));
      if (quoted && Protected(*quoted)) {
        return Flow(ip) + " type " + std::to_string(type) + " quotes " + Flow(*quoted);
      }
    }
    return std::nullopt;
  }

  const std::vector<Ipv4Address>& protected_;
};

}  // namespace

std::string PcapViolation::ToString() const {
  char at[48];
  const std::int64_t ns = time.nanos();
  std::snprintf(at, sizeof at, "%" PRId64 ".%09" PRId64, ns / 1'000'000'000, ns % 1'000'000'000);
  return "#" + std::to_string(index) + " at " + at + " s: " + description;
}

Result<std::vector<PcapViolation>> FindCleartextViolations(
    ByteSpan pcap, const std::vector<Ipv4Address>& protected_addresses) {
  if (pcap.size() < kGlobalHeader) {
    return Error(Errc::kTruncated, "pcap: the global header needs 24 bytes, the file has " +
                                       std::to_string(pcap.size()));
  }
  const std::uint32_t magic_le = static_cast<std::uint32_t>(pcap[0]) | pcap[1] << 8 |
                                 pcap[2] << 16 | static_cast<std::uint32_t>(pcap[3]) << 24;
  bool big_endian = false, nanos = false;
  switch (magic_le) {
    case 0xa1b2c3d4: break;
    case 0xa1b23c4d: nanos = true; break;
    case 0xd4c3b2a1: big_endian = true; break;
    case 0x4d3cb2a1: big_endian = nanos = true; break;
    default: {
      char m[16];
      std::snprintf(m, sizeof m, "0x%08" PRIx32, magic_le);
      return Error(Errc::kMalformed, std::string("pcap: not a pcap file (magic ") + m + ")");
    }
  }
  auto u32 = [&](std::size_t o) -> std::uint32_t {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const std::uint32_t byte = pcap[o + static_cast<std::size_t>(big_endian ? i : 3 - i)];
      v = v << 8 | byte;
    }
    return v;
  };
  const std::uint32_t link = u32(20) & 0xffff;  // the upper bits carry FCS information
  if (link != kLinkRaw && link != kLinkIpv4 && link != kLinkEthernet) {
    return Error(Errc::kUnsupported, "pcap: link type " + std::to_string(link) +
                                         " (expected 101 raw IPv4, 228 IPv4 or 1 Ethernet)");
  }
  const Checker checker(protected_addresses);
  std::vector<PcapViolation> out;
  std::size_t offset = kGlobalHeader;
  for (std::size_t index = 0; offset < pcap.size(); ++index) {
    const std::string where =
        "pcap: record #" + std::to_string(index) + " at offset " + std::to_string(offset);
    if (pcap.size() - offset < kRecordHeader) {
      return Error(Errc::kTruncated, where + ": its header needs 16 bytes, " +
                                         std::to_string(pcap.size() - offset) + " left");
    }
    const std::uint32_t sec = u32(offset), frac = u32(offset + 4), incl = u32(offset + 8);
    offset += kRecordHeader;
    if (incl > pcap.size() - offset) {
      return Error(Errc::kTruncated, where + ": " + std::to_string(incl) +
                                         " bytes of packet declared, " +
                                         std::to_string(pcap.size() - offset) + " left");
    }
    ByteSpan frame = pcap.subspan(offset, incl);
    offset += incl;
    const std::int64_t frac_ns = static_cast<std::int64_t>(frac) * (nanos ? 1 : 1000);
    const Timestamp time =
        Timestamp::FromNanos(static_cast<std::int64_t>(sec) * 1'000'000'000 + frac_ns);
    std::optional<std::string> problem;
    if (link == kLinkEthernet) {
      if (frame.size() < 14) {
        problem = "Ethernet frame of " + std::to_string(frame.size()) + " bytes";
      } else {
        std::size_t l2 = 14;
        std::uint16_t type = Be16(frame, 12);
        if (type == 0x8100 && frame.size() >= 18) {  // one 802.1Q tag
          type = Be16(frame, 16);
          l2 = 18;
        }
        // ARP carries no user data; other ethertypes carry no IPv4.
        if (type == 0x0800) problem = checker.CheckIpv4(frame.subspan(l2));
      }
    } else {
      problem = checker.CheckIpv4(frame);
    }
    if (problem) out.push_back(PcapViolation{index, time, std::move(*problem)});
  }
  return out;
}

}  // namespace mipsec::sim
