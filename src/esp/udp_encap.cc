#include "esp/udp_encap.h"

#include <string>

#include "common/checksum.h"
#include "common/ip/ipv4.h"
#include "common/ip/udp.h"
#include "common/wire/writer.h"

namespace mipsec::esp {

namespace {
constexpr std::size_t kEspHeaderSize = 8;
}  // namespace

Udp4500Classified ClassifyUdp4500(ByteSpan p) {
  // RFC 3948 2.3: the keepalive is exactly one octet 0xFF.
  if (p.size() == 1 && p[0] == kNatKeepaliveByte) return {Udp4500Kind::kKeepalive, 0};
  if (p.size() < kNonEspMarkerSize) return {Udp4500Kind::kInvalid, 0};
  // RFC 3948 2.2: the non-ESP marker is four zero bytes where the SPI would
  // be; an ESP SPI is never 0 (2.1).
  if (p[0] == 0 && p[1] == 0 && p[2] == 0 && p[3] == 0) {
    return {Udp4500Kind::kIke, kNonEspMarkerSize};
  }
  if (p.size() < kEspHeaderSize) return {Udp4500Kind::kInvalid, 0};
  return {Udp4500Kind::kEsp, 0};
}

ByteSpan NatKeepalivePayload() {
  static constexpr std::uint8_t kPayload[1] = {kNatKeepaliveByte};
  return ByteSpan(kPayload, 1);
}

Bytes BuildNatKeepalivePacket(Ipv4Endpoint local, Ipv4Endpoint remote) {
  ip::Ipv4Header h;
  h.protocol = ip::kProtoUdp;
  h.src = local.address;
  h.dst = remote.address;
  wire::Writer w(29);
  // A 20-byte header and a 9-byte datagram always fit: no error possible.
  (void)ip::AppendIpv4Header(w, h, ip::UdpHeader::kSize + 1);
  w.U16(local.port).U16(remote.port).U16(ip::UdpHeader::kSize + 1).U16(0);
  w.U8(kNatKeepaliveByte);
  return std::move(w).Take();
}

Bytes WithNonEspMarker(ByteSpan ike_message) {
  Bytes out(kNonEspMarkerSize + ike_message.size(), 0);
  std::copy(ike_message.begin(), ike_message.end(), out.begin() + kNonEspMarkerSize);
  return out;
}

Result<OuterPacket> LocateEsp(ByteSpan bytes) {
  MIPSEC_ASSIGN_OR_RETURN(ip::Ipv4Packet p, ip::ParseIpv4(bytes));
  if (p.header.IsFragment()) {
    return Error(Errc::kUnsupported, "outer ipv4: fragment (reassemble before ESP processing)");
  }
  OuterPacket out;
  out.source.address = p.header.src;
  out.destination.address = p.header.dst;
  const std::size_t base = p.header.header_length();
  if (p.header.protocol == ip::kProtoEsp) {
    if (p.payload.size() < kEspHeaderSize) {
      return Error(Errc::kTruncated, "esp: header needs 8 bytes, " +
                                         std::to_string(p.payload.size()) + " present");
    }
    out.offset = base;
    out.length = p.payload.size();
    return out;
  }
  if (p.header.protocol != ip::kProtoUdp) {
    return Error(Errc::kUnsupported,
                 "outer ipv4: protocol " + std::to_string(p.header.protocol) + " is not ESP or UDP");
  }
  // RFC 3948 2.1: receivers MUST NOT depend on a zero checksum; the ESP ICV
  // covers the content, so a non-zero checksum is not verified either.
  MIPSEC_ASSIGN_OR_RETURN(ip::UdpDatagram u,
                          ip::ParseUdp(p.payload, p.header.src, p.header.dst,
                                       ip::UdpParseOptions{.verify_checksum = false}));
  out.udp = true;
  out.source.port = u.header.src_port;
  out.destination.port = u.header.dst_port;
  if (u.header.dst_port == kIkePort) {
    // RFC 7296 2.23: IKE on port 500 carries no non-ESP marker, and ESP is
    // never sent there.
    out.kind = Udp4500Kind::kIke;
    out.offset = base + ip::UdpHeader::kSize;
    out.length = u.payload.size();
    return out;
  }
  const Udp4500Classified c = ClassifyUdp4500(u.payload);
  if (c.kind == Udp4500Kind::kInvalid) {
    return Error(Errc::kMalformed, "udp 4500: payload of " + std::to_string(u.payload.size()) +
                                       " bytes is neither ESP, IKE nor a keepalive");
  }
  out.kind = c.kind;
  out.offset = base + ip::UdpHeader::kSize + c.offset;
  out.length = u.payload.size() - c.offset;
  return out;
}

}  // namespace mipsec::esp
