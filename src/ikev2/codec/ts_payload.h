// Traffic Selector payloads TSi and TSr (RFC 7296 3.13), body after the
// generic header:
//
//                        1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | Number of TSs |                 RESERVED                      |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   ~                       <Traffic Selectors>                     ~
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Traffic selector (3.13.1):
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |   TS Type     |IP Protocol ID*|       Selector Length         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |           Start Port*         |           End Port*           |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   ~                         Starting Address*                     ~
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   ~                         Ending Address*                       ~
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Selector Length is 16 for TS_IPV4_ADDR_RANGE and 40 for
// TS_IPV6_ADDR_RANGE (kMalformed otherwise). A selector of another TS Type
// is kept as opaque bytes (everything after the 4-byte selector header) so
// that the SA layer can decide (it is a selector we cannot narrow to).
#ifndef MIPSEC_IKEV2_CODEC_TS_PAYLOAD_H_
#define MIPSEC_IKEV2_CODEC_TS_PAYLOAD_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/result.h"
#include "common/wire/writer.h"
#include "ikev2/codec/ids.h"

namespace mipsec::ikev2 {

struct TrafficSelector {
  std::uint8_t ts_type = static_cast<std::uint8_t>(TsType::kIpv4AddrRange);
  std::uint8_t ip_protocol = 0;  // 0: any
  // Known types: ports and addresses (4 bytes for IPv4, 16 for IPv6).
  std::uint16_t start_port = 0;
  std::uint16_t end_port = 0xffff;
  Bytes start_address;
  Bytes end_address;
  // Unknown types: the bytes after Selector Length.
  Bytes opaque;

  // An IPv4 range [first, last], ports [start_port, end_port].
  static TrafficSelector Ipv4Range(Ipv4Address first, Ipv4Address last,
                                   std::uint8_t ip_protocol = 0, std::uint16_t start_port = 0,
                                   std::uint16_t end_port = 0xffff);
  // All addresses of a prefix.
  static TrafficSelector Ipv4Prefix(const mipsec::Ipv4Prefix& p, std::uint8_t ip_protocol = 0);

  bool is_ipv4() const { return ts_type == static_cast<std::uint8_t>(TsType::kIpv4AddrRange); }
  bool is_ipv6() const { return ts_type == static_cast<std::uint8_t>(TsType::kIpv6AddrRange); }
  // For IPv4 selectors.
  std::optional<Ipv4Address> StartIpv4() const;
  std::optional<Ipv4Address> EndIpv4() const;

  std::size_t EncodedSize() const;
  bool operator==(const TrafficSelector&) const = default;
};

struct TsPayload {
  std::vector<TrafficSelector> selectors;

  static Result<TsPayload> Decode(ByteSpan body);
  std::size_t EncodedSize() const;
  void Encode(wire::Writer& w) const;
  bool operator==(const TsPayload&) const = default;
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CODEC_TS_PAYLOAD_H_
