#include "ikev2/codec/ts_payload.h"

#include <string>

#include "common/wire/reader.h"

namespace mipsec::ikev2 {
namespace {

Bytes V4(Ipv4Address a) {
  const auto b = a.ToBytes();
  return Bytes(b.begin(), b.end());
}

std::optional<Ipv4Address> AsV4(const Bytes& b) {
  if (b.size() != 4) return std::nullopt;
  return Ipv4Address::FromOctets(b[0], b[1], b[2], b[3]);
}

Result<TrafficSelector> DecodeSelector(wire::Reader& r) {
  TrafficSelector ts;
  MIPSEC_ASSIGN_OR_RETURN(ts.ts_type, r.U8("TS type"));
  MIPSEC_ASSIGN_OR_RETURN(ts.ip_protocol, r.U8("TS IP protocol ID"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint16_t len, r.U16("TS selector length"));
  if (len < 4) return r.Malformed("TS selector length", std::to_string(len) + " is below 4");
  std::size_t addr = 0;
  if (ts.is_ipv4()) addr = 4;
  if (ts.is_ipv6()) addr = 16;
  // RFC 7296 3.13.1: 16 octets for IPv4 ranges, 40 for IPv6 ranges.
  if (addr != 0 && len != 8 + 2 * addr) {
    return r.Malformed("TS selector length", std::to_string(len) + " does not match the TS type (" +
                                                 std::to_string(8 + 2 * addr) + ")");
  }
  MIPSEC_ASSIGN_OR_RETURN(wire::Reader s, r.Sub(len - 4u, "traffic selector"));
  if (addr == 0) {
    const ByteSpan rest = s.TakeRest();
    ts.opaque.assign(rest.begin(), rest.end());
    return ts;
  }
  MIPSEC_ASSIGN_OR_RETURN(ts.start_port, s.U16("TS start port"));
  MIPSEC_ASSIGN_OR_RETURN(ts.end_port, s.U16("TS end port"));
  MIPSEC_ASSIGN_OR_RETURN(ByteSpan start, s.Span(addr, "TS starting address"));
  MIPSEC_ASSIGN_OR_RETURN(ByteSpan end, s.Span(addr, "TS ending address"));
  ts.start_address.assign(start.begin(), start.end());
  ts.end_address.assign(end.begin(), end.end());
  return ts;
}

}  // namespace

TrafficSelector TrafficSelector::Ipv4Range(Ipv4Address first, Ipv4Address last,
                                           std::uint8_t ip_protocol, std::uint16_t start_port,
                                           std::uint16_t end_port) {
  TrafficSelector ts;
  ts.ts_type = static_cast<std::uint8_t>(TsType::kIpv4AddrRange);
  ts.ip_protocol = ip_protocol;
  ts.start_port = start_port;
  ts.end_port = end_port;
  ts.start_address = V4(first);
  ts.end_address = V4(last);
  return ts;
}

TrafficSelector TrafficSelector::Ipv4Prefix(const mipsec::Ipv4Prefix& p, std::uint8_t ip_protocol) {
  const std::uint32_t net = p.address().ToHostOrder();
  const std::uint32_t last = net | ~mipsec::Ipv4Prefix::MaskBits(p.length());
  return Ipv4Range(p.address(), Ipv4Address::FromHostOrder(last), ip_protocol);
}

std::optional<Ipv4Address> TrafficSelector::StartIpv4() const {
  return is_ipv4() ? AsV4(start_address) : std::nullopt;
}

std::optional<Ipv4Address> TrafficSelector::EndIpv4() const {
  return is_ipv4() ? AsV4(end_address) : std::nullopt;
}

std::size_t TrafficSelector::EncodedSize() const {
  if (!is_ipv4() && !is_ipv6()) return 4 + opaque.size();
  return 8 + start_address.size() + end_address.size();
}

Result<TsPayload> TsPayload::Decode(ByteSpan body) {
  wire::Reader r(body);
  TsPayload ts;
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t count, r.U8("TS number of TSs"));
  MIPSEC_TRY(r.Skip(3, "TS reserved"));
  for (std::uint8_t i = 0; i < count; ++i) {
    Result<TrafficSelector> s = DecodeSelector(r);
    if (!s.ok()) return s.error().WithContext("traffic selector " + std::to_string(i + 1));
    ts.selectors.push_back(std::move(*s));
  }
  if (!r.empty()) {
    return r.Malformed("TS", std::to_string(r.remaining()) + " bytes after the last selector");
  }
  return ts;
}

std::size_t TsPayload::EncodedSize() const {
  std::size_t n = 4;
  for (const TrafficSelector& s : selectors) n += s.EncodedSize();
  return n;
}

void TsPayload::Encode(wire::Writer& w) const {
  w.U8(static_cast<std::uint8_t>(selectors.size())).U8(0).U16(0);
  for (const TrafficSelector& s : selectors) {
    w.U8(s.ts_type).U8(s.ip_protocol).U16(static_cast<std::uint16_t>(s.EncodedSize()));
    if (!s.is_ipv4() && !s.is_ipv6()) {
      w.Append(s.opaque);
      continue;
    }
    w.U16(s.start_port).U16(s.end_port).Append(s.start_address).Append(s.end_address);
  }
}

}  // namespace mipsec::ikev2
