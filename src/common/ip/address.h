// IPv4 addresses, prefixes and endpoints as small value types.
//
// These are vocabulary types used by every layer (binding caches, SAs,
// traffic selectors, configuration), so they live in namespace mipsec like
// Timestamp; the packet codecs beside them are in mipsec::ip.
//
// Ipv4Address holds the address as a uint32 in host order: 192.0.2.1 is
// 0xc0000201 whatever the machine. Converting from or to the wire is explicit:
// FromHostOrder()/ToHostOrder() for a value read or written with
// wire::Reader::U32 / wire::Writer::U32 (which do the byte order), and
// FromBytes()/ToBytes() for the four bytes in network order.
//
// Text forms are strict, for configuration and logs:
//   address   "a.b.c.d": exactly four decimal octets 0..255, each 1-3 digits,
//             no sign, no whitespace, and no leading zero ("010.1.1.1" is
//             refused: inet_aton() reads it as octal 8, humans as decimal
//             10, so accepting it would let one string mean two addresses).
//   prefix    "a.b.c.d/len", len 0..32 with no leading zero; Parse() refuses
//             host bits ("10.0.0.1/8") because such a string is more likely a
//             typo than a request to mask; FromAddressAndLength() masks.
//   endpoint  "a.b.c.d:port", port 0..65535 with no leading zero.
#ifndef MIPSEC_COMMON_IP_ADDRESS_H_
#define MIPSEC_COMMON_IP_ADDRESS_H_

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"

namespace mipsec {

class Ipv4Address {
 public:
  static constexpr std::size_t kSize = 4;

  // 0.0.0.0.
  constexpr Ipv4Address() = default;
  static constexpr Ipv4Address FromHostOrder(std::uint32_t v) { return Ipv4Address(v); }
  static constexpr Ipv4Address FromOctets(std::uint8_t a, std::uint8_t b, std::uint8_t c,
                                          std::uint8_t d) {
    return Ipv4Address(static_cast<std::uint32_t>(a) << 24 | static_cast<std::uint32_t>(b) << 16 |
                       static_cast<std::uint32_t>(c) << 8 | d);
  }
  // From four bytes in network order (as they appear in a packet).
  static constexpr Ipv4Address FromBytes(std::span<const std::uint8_t, kSize> b) {
    return FromOctets(b[0], b[1], b[2], b[3]);
  }
  // Strict dotted quad (see the file comment); kMalformed otherwise.
  static Result<Ipv4Address> Parse(std::string_view text);

  // Well-known addresses.
  static constexpr Ipv4Address Any() { return Ipv4Address(); }                  // 0.0.0.0
  static constexpr Ipv4Address Broadcast() { return Ipv4Address(0xffffffffu); }  // limited
  static constexpr Ipv4Address Loopback() { return FromOctets(127, 0, 0, 1); }
  // All-systems group: agent advertisements (RFC 5944 2.1, RFC 1256 3).
  static constexpr Ipv4Address AllSystems() { return FromOctets(224, 0, 0, 1); }
  // All-routers group: router solicitations (RFC 1256 4).
  static constexpr Ipv4Address AllRouters() { return FromOctets(224, 0, 0, 2); }
  // Mobile-Agents group: agent solicitations may go here (RFC 5944 2.3).
  static constexpr Ipv4Address AllMobilityAgents() { return FromOctets(224, 0, 0, 11); }

  constexpr std::uint32_t ToHostOrder() const { return v_; }
  // The four bytes in network order.
  constexpr std::array<std::uint8_t, kSize> ToBytes() const {
    return {static_cast<std::uint8_t>(v_ >> 24), static_cast<std::uint8_t>(v_ >> 16),
            static_cast<std::uint8_t>(v_ >> 8), static_cast<std::uint8_t>(v_)};
  }
  // "192.0.2.1".
  std::string ToString() const;

  // 0.0.0.0 ("this host", RFC 1122 3.2.1.3).
  constexpr bool IsAny() const { return v_ == 0; }
  // 255.255.255.255.
  constexpr bool IsLimitedBroadcast() const { return v_ == 0xffffffffu; }
  // 127.0.0.0/8.
  constexpr bool IsLoopback() const { return (v_ >> 24) == 127; }
  // 224.0.0.0/4 (class D).
  constexpr bool IsMulticast() const { return (v_ >> 28) == 0xe; }
  // 224.0.0.0/24: never forwarded by routers (RFC 5771 4).
  constexpr bool IsLinkLocalMulticast() const { return (v_ >> 8) == 0xe00000; }
  // 169.254.0.0/16 (RFC 3927).
  constexpr bool IsLinkLocal() const { return (v_ >> 16) == 0xa9fe; }
  // RFC 1918: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16.
  constexpr bool IsPrivate() const {
    return (v_ >> 24) == 10 || (v_ >> 20) == 0xac1 || (v_ >> 16) == 0xc0a8;
  }
  // Could be the address of one host (RFC 1122 3.2.1.3, 3.2.2): not 0.0.0.0,
  // not loopback, not multicast, not the limited broadcast, not 240.0.0.0/4.
  constexpr bool IsUnicast() const {
    return !IsAny() && !IsLoopback() && (v_ >> 28) < 0xe;
  }

  constexpr auto operator<=>(const Ipv4Address&) const = default;

 private:
  constexpr explicit Ipv4Address(std::uint32_t v) : v_(v) {}
  std::uint32_t v_ = 0;
};

std::ostream& operator<<(std::ostream& os, Ipv4Address a);

class Ipv4Prefix {
 public:
  // 0.0.0.0/0: every address.
  constexpr Ipv4Prefix() = default;
  // "10.0.0.0/8". Refuses a length over 32 and set host bits (kMalformed).
  static Result<Ipv4Prefix> Parse(std::string_view text);
  // Strict: kInvalidArgument if `length` is outside 0..32 or `network` has
  // bits set beyond the first `length`.
  static Result<Ipv4Prefix> Create(Ipv4Address network, int length);
  // Masks: FromAddressAndLength(192.0.2.77, 24) is 192.0.2.0/24. Only a length
  // outside 0..32 is an error (kInvalidArgument).
  static Result<Ipv4Prefix> FromAddressAndLength(Ipv4Address address, int length);
  // a/32.
  static constexpr Ipv4Prefix Host(Ipv4Address a) { return Ipv4Prefix(a, 32); }

  // The network address (host bits are always zero).
  constexpr Ipv4Address address() const { return address_; }
  constexpr int length() const { return length_; }
  // 255.255.255.0 for a /24; 0.0.0.0 for /0.
  constexpr Ipv4Address Netmask() const { return Ipv4Address::FromHostOrder(MaskBits(length_)); }
  // The directed broadcast address: network | ~netmask (192.0.2.255 for
  // 192.0.2.0/24; the address itself for /32).
  constexpr Ipv4Address Broadcast() const {
    return Ipv4Address::FromHostOrder(address_.ToHostOrder() | ~MaskBits(length_));
  }
  constexpr bool Contains(Ipv4Address a) const {
    return (a.ToHostOrder() & MaskBits(length_)) == address_.ToHostOrder();
  }
  // True when every address of `other` is in this prefix.
  constexpr bool Contains(const Ipv4Prefix& other) const {
    return other.length_ >= length_ && Contains(other.address_);
  }
  // "10.0.0.0/8".
  std::string ToString() const;

  // Orders by address, then length.
  constexpr auto operator<=>(const Ipv4Prefix&) const = default;

  static constexpr std::uint32_t MaskBits(int length) {
    return length <= 0 ? 0u : length >= 32 ? 0xffffffffu : ~(0xffffffffu >> length);
  }

 private:
  constexpr Ipv4Prefix(Ipv4Address a, std::uint8_t len) : address_(a), length_(len) {}
  Ipv4Address address_;
  std::uint8_t length_ = 0;
};

std::ostream& operator<<(std::ostream& os, const Ipv4Prefix& p);

struct Ipv4Endpoint {
  Ipv4Address address;
  std::uint16_t port = 0;

  // "192.0.2.1:434" (strict, see the file comment).
  static Result<Ipv4Endpoint> Parse(std::string_view text);
  // "192.0.2.1:434".
  std::string ToString() const;

  constexpr auto operator<=>(const Ipv4Endpoint&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Ipv4Endpoint& e);

}  // namespace mipsec

template <>
struct std::hash<mipsec::Ipv4Address> {
  std::size_t operator()(mipsec::Ipv4Address a) const noexcept {
    return std::hash<std::uint32_t>()(a.ToHostOrder());
  }
};

template <>
struct std::hash<mipsec::Ipv4Prefix> {
  std::size_t operator()(const mipsec::Ipv4Prefix& p) const noexcept {
    return std::hash<std::uint64_t>()(static_cast<std::uint64_t>(p.address().ToHostOrder()) << 8 |
                                      static_cast<std::uint64_t>(p.length()));
  }
};

template <>
struct std::hash<mipsec::Ipv4Endpoint> {
  std::size_t operator()(const mipsec::Ipv4Endpoint& e) const noexcept {
    return std::hash<std::uint64_t>()(static_cast<std::uint64_t>(e.address.ToHostOrder()) << 16 |
                                      e.port);
  }
};

#endif  // MIPSEC_COMMON_IP_ADDRESS_H_
