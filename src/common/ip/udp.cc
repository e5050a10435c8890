#include "common/ip/udp.h"

#include <string>

#include "common/checksum.h"
#include "common/wire/reader.h"
#include "common/wire/writer.h"

namespace mipsec::ip {
namespace {

constexpr std::size_t kChecksumOffset = 6;

Checksum PseudoHeader(Ipv4Address src, Ipv4Address dst, std::size_t udp_length) {
  // RFC 768 "Fields": source, destination, zero, protocol, UDP length.
  Checksum c;
  c.AddU32(src.ToHostOrder())
      .AddU32(dst.ToHostOrder())
      .AddU16(kProtoUdp)
      .AddU16(static_cast<std::uint16_t>(udp_length));
  return c;
}

void WriteUdp(wire::Writer& w, Ipv4Address src, Ipv4Address dst, std::uint16_t src_port,
              std::uint16_t dst_port, ByteSpan payload, bool with_checksum) {
  const std::size_t start = w.size();
  const std::size_t length = UdpHeader::kSize + payload.size();
  w.U16(src_port).U16(dst_port).U16(static_cast<std::uint16_t>(length)).U16(0).Append(payload);
  if (!with_checksum) return;
  std::uint16_t sum = UdpChecksum(src, dst, w.View().subspan(start, length));
  // RFC 768: an all-zero computed checksum is transmitted as all ones (zero
  // would mean "no checksum").
  if (sum == 0) sum = 0xffff;
  w.PatchU16(start + kChecksumOffset, sum);
}

}  // namespace

std::uint16_t UdpChecksum(Ipv4Address src, Ipv4Address dst, ByteSpan segment) {
  return PseudoHeader(src, dst, segment.size()).Add(segment).Finish();
}

Result<UdpDatagram> ParseUdp(ByteSpan segment, Ipv4Address src, Ipv4Address dst,
                             const UdpParseOptions& options) {
  wire::Reader r(segment);
  UdpDatagram d;
  MIPSEC_ASSIGN_OR_RETURN(d.header.src_port, r.U16("udp source port"));
  MIPSEC_ASSIGN_OR_RETURN(d.header.dst_port, r.U16("udp destination port"));
  MIPSEC_ASSIGN_OR_RETURN(d.header.length, r.U16("udp length"));
  MIPSEC_ASSIGN_OR_RETURN(d.header.checksum, r.U16("udp checksum"));
  if (d.header.length < UdpHeader::kSize) {
    return Error(Errc::kMalformed,
                 "udp: length " + std::to_string(d.header.length) + " is below the 8-byte header");
  }
  MIPSEC_ASSIGN_OR_RETURN(d.payload, r.Span(d.header.length - UdpHeader::kSize, "udp data"));
  if (options.verify_checksum && d.header.checksum != 0 &&
      UdpChecksum(src, dst, segment.first(d.header.length)) != 0) {
    return Error(Errc::kMalformed, "udp: checksum mismatch");
  }
  return d;
}

Result<Bytes> BuildUdp(Ipv4Address src, Ipv4Address dst, std::uint16_t src_port,
                       std::uint16_t dst_port, ByteSpan payload, bool with_checksum) {
  if (payload.size() > UdpHeader::kMaxPayload) {
    return Error(Errc::kInvalidArgument,
                 "udp: a " + std::to_string(payload.size()) + "-byte payload does not fit");
  }
  wire::Writer w(UdpHeader::kSize + payload.size());
  WriteUdp(w, src, dst, src_port, dst_port, payload, with_checksum);
  return std::move(w).Take();
}

Result<Ipv4UdpPacket> ParseIpv4Udp(ByteSpan bytes, const Ipv4ParseOptions& ip_options,
                                   const UdpParseOptions& udp_options) {
  MIPSEC_ASSIGN_OR_RETURN(Ipv4Packet ip, ParseIpv4(bytes, ip_options));
  if (ip.header.protocol != kProtoUdp) {
    return Error(Errc::kMalformed,
                 "ipv4: protocol " + std::to_string(ip.header.protocol) + " is not UDP (17)");
  }
  if (ip.header.IsFragment()) {
    return Error(Errc::kUnsupported, "ipv4: a fragment of a UDP datagram; reassemble first");
  }
  MIPSEC_ASSIGN_OR_RETURN(UdpDatagram udp,
                          ParseUdp(ip.payload, ip.header.src, ip.header.dst, udp_options));
  return Ipv4UdpPacket{ip.header, udp.header, udp.payload};
}

Result<Bytes> BuildIpv4Udp(const Ipv4Header& ip, std::uint16_t src_port, std::uint16_t dst_port,
                           ByteSpan payload) {
  if (payload.size() > UdpHeader::kMaxPayload) {
    return Error(Errc::kInvalidArgument,
                 "udp: a " + std::to_string(payload.size()) + "-byte payload does not fit");
  }
  Ipv4Header h = ip;
  h.protocol = kProtoUdp;
  const std::size_t udp_len = UdpHeader::kSize + payload.size();
  wire::Writer w(h.header_length() + udp_len);
  MIPSEC_TRY(AppendIpv4Header(w, h, udp_len));
  WriteUdp(w, h.src, h.dst, src_port, dst_port, payload, /*with_checksum=*/true);
  return std::move(w).Take();
}

}  // namespace mipsec::ip
