// Hand-built IPv4/UDP/ICMP packets for the platform tests. Deliberately
// independent of the codecs in src/common, so these tests check the kernel
// against the RFCs, not against our own encoder.
#ifndef MIPSEC_PLATFORM_LINUX_TEST_PACKETS_H_
#define MIPSEC_PLATFORM_LINUX_TEST_PACKETS_H_

#include <cstdint>

#include "common/bytes.h"
#include "common/ip/address.h"

namespace mipsec::platform::test {

// RFC 1071 over `data` (an odd last byte is padded with zero).
inline std::uint16_t InternetChecksum(ByteSpan data) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < data.size(); i += 2) {
    std::uint32_t hi = data[i];
    std::uint32_t lo = i + 1 < data.size() ? data[i + 1] : 0;
    sum += (hi << 8) | lo;
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

inline std::uint16_t Get16(ByteSpan p, std::size_t at) {
  return static_cast<std::uint16_t>((p[at] << 8) | p[at + 1]);
}
inline Ipv4Address GetAddr(ByteSpan p, std::size_t at) {
  return Ipv4Address::FromOctets(p[at], p[at + 1], p[at + 2], p[at + 3]);
}
inline void Put16(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}
inline void Put32(Bytes& b, std::size_t at, std::uint32_t v) {
  Put16(b, at, static_cast<std::uint16_t>(v >> 16));
  Put16(b, at + 2, static_cast<std::uint16_t>(v));
}

// An IPv4 header (20 bytes, no options, checksum filled in) + payload.
inline Bytes Ipv4Packet(Ipv4Address src, Ipv4Address dst, std::uint8_t protocol, ByteSpan payload,
                        std::uint8_t ttl = 64, std::uint16_t id = 0x1234) {
  Bytes p(20 + payload.size(), 0);
  p[0] = 0x45;
  Put16(p, 2, static_cast<std::uint16_t>(p.size()));
  Put16(p, 4, id);
  p[8] = ttl;
  p[9] = protocol;
  Put32(p, 12, src.ToHostOrder());
  Put32(p, 16, dst.ToHostOrder());
  Put16(p, 10, InternetChecksum(ByteSpan(p.data(), 20)));
  std::copy(payload.begin(), payload.end(), p.begin() + 20);
  return p;
}

// A UDP datagram (checksum 0: "none", allowed over IPv4 by RFC 768).
inline Bytes UdpDatagram(std::uint16_t src_port, std::uint16_t dst_port, ByteSpan payload) {
  Bytes u(8 + payload.size(), 0);
  Put16(u, 0, src_port);
  Put16(u, 2, dst_port);
  Put16(u, 4, static_cast<std::uint16_t>(u.size()));
  std::copy(payload.begin(), payload.end(), u.begin() + 8);
  return u;
}

// An ICMP message of `type`/`code` with a 4-byte rest-of-header and data.
inline Bytes IcmpMessage(std::uint8_t type, std::uint8_t code, std::uint32_t rest, ByteSpan data) {
  Bytes m(8 + data.size(), 0);
  m[0] = type;
  m[1] = code;
  Put32(m, 4, rest);
  std::copy(data.begin(), data.end(), m.begin() + 8);
  Put16(m, 2, InternetChecksum(m));
  return m;
}

}  // namespace mipsec::platform::test

#endif  // MIPSEC_PLATFORM_LINUX_TEST_PACKETS_H_
