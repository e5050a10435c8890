#include "common/ip/icmp.h"

#include <algorithm>
#include <string>

#include "common/checksum.h"
#include "common/wire/reader.h"
#include "common/wire/writer.h"

namespace mipsec::ip {
namespace {

constexpr std::size_t kChecksumOffset = 2;

// RFC 792: the original Internet header + the first 64 bits of its data.
Result<ByteSpan> QuoteOf(ByteSpan original) {
  Result<Ipv4Packet> p = ParseIpv4(original, {.verify_checksum = false, .allow_truncated = true});
  if (!p.ok()) return p.error().WithContext("icmp error: original datagram");
  const std::size_t n =
      p->header.header_length() + std::min(p->payload.size(), kIcmpQuotedPayload);
  return original.first(n);
}

}  // namespace

bool IsIcmpErrorType(std::uint8_t type) {
  return type == kIcmpDestinationUnreachable || type == kIcmpSourceQuench ||
         type == kIcmpRedirect || type == kIcmpTimeExceeded || type == kIcmpParameterProblem;
}

Result<IcmpMessage> ParseIcmp(ByteSpan message, const IcmpParseOptions& options) {
  wire::Reader r(message);
  IcmpMessage m;
  MIPSEC_ASSIGN_OR_RETURN(m.type, r.U8("icmp type"));
  MIPSEC_ASSIGN_OR_RETURN(m.code, r.U8("icmp code"));
  MIPSEC_ASSIGN_OR_RETURN(m.checksum, r.U16("icmp checksum"));
  MIPSEC_ASSIGN_OR_RETURN(m.rest, r.U32("icmp rest of header"));
  m.body = r.TakeRest();
  if (options.verify_checksum && !ChecksumIsValid(message)) {
    return Error(Errc::kMalformed, "icmp: checksum mismatch (type " + std::to_string(m.type) +
                                       ", " + std::to_string(message.size()) + " bytes)");
  }
  return m;
}

Result<Ipv4Packet> ParseIcmpQuote(const IcmpMessage& error) {
  if (!error.IsError()) {
    return Error(Errc::kInvalidArgument,
                 "icmp type " + std::to_string(error.type) + " carries no quoted datagram");
  }
  Result<Ipv4Packet> p =
      ParseIpv4(error.body, {.verify_checksum = false, .allow_truncated = true});
  if (!p.ok()) return p.error().WithContext("icmp quoted datagram");
  return p;
}

Bytes BuildIcmp(std::uint8_t type, std::uint8_t code, std::uint32_t rest, ByteSpan body) {
  wire::Writer w(IcmpMessage::kHeaderSize + body.size());
  w.U8(type).U8(code).U16(0).U32(rest).Append(body);
  w.PatchU16(kChecksumOffset, InternetChecksum(w.View()));
  return std::move(w).Take();
}

Bytes BuildIcmpEchoRequest(std::uint16_t identifier, std::uint16_t sequence, ByteSpan data) {
  return BuildIcmp(kIcmpEchoRequest, 0, static_cast<std::uint32_t>(identifier) << 16 | sequence,
                   data);
}

Bytes BuildIcmpEchoReply(std::uint16_t identifier, std::uint16_t sequence, ByteSpan data) {
  return BuildIcmp(kIcmpEchoReply, 0, static_cast<std::uint32_t>(identifier) << 16 | sequence,
                   data);
}

Status IcmpErrorAllowed(ByteSpan original) {
  Result<Ipv4Packet> p = ParseIpv4(original, {.verify_checksum = false, .allow_truncated = true});
  if (!p.ok()) return p.error().WithContext("icmp error: original datagram");
  const Ipv4Header& h = p->header;
  // RFC 1122 3.2.2, RFC 1812 4.3.2.7.
  if (h.fragment_offset != 0) {
    return Error(Errc::kInvalidArgument, "no ICMP error about a non-initial fragment");
  }
  if (h.dst.IsMulticast() || h.dst.IsLimitedBroadcast()) {
    return Error(Errc::kInvalidArgument, "no ICMP error about a datagram to " + h.dst.ToString() +
                                             " (multicast/broadcast)");
  }
  if (!h.src.IsUnicast()) {
    return Error(Errc::kInvalidArgument,
                 "no ICMP error about a datagram from " + h.src.ToString() + " (not one host)");
  }
  if (h.protocol == kProtoIcmp && !p->payload.empty() && IsIcmpErrorType(p->payload[0])) {
    return Error(Errc::kInvalidArgument, "no ICMP error about an ICMP error message");
  }
  return Ok{};
}

Result<Bytes> BuildIcmpDestinationUnreachable(std::uint8_t code, ByteSpan original,
                                              std::uint16_t next_hop_mtu) {
  if (code != kIcmpFragmentationNeeded && next_hop_mtu != 0) {
    return Error(Errc::kInvalidArgument,
                 "icmp: next-hop MTU only goes with code 4 (fragmentation needed)");
  }
  MIPSEC_TRY(IcmpErrorAllowed(original));
  MIPSEC_ASSIGN_OR_RETURN(ByteSpan quote, QuoteOf(original));
  // RFC 1191 4: unused (16 bits) | next-hop MTU (16 bits).
  return BuildIcmp(kIcmpDestinationUnreachable, code, next_hop_mtu, quote);
}

Result<Bytes> BuildIcmpTimeExceeded(std::uint8_t code, ByteSpan original) {
  MIPSEC_TRY(IcmpErrorAllowed(original));
  MIPSEC_ASSIGN_OR_RETURN(ByteSpan quote, QuoteOf(original));
  return BuildIcmp(kIcmpTimeExceeded, code, 0, quote);
}

Result<Bytes> BuildIcmpPacket(Ipv4Address src, Ipv4Address dst, ByteSpan message,
                              std::uint8_t ttl, std::uint16_t identification) {
  Ipv4Header h;
  h.src = src;
  h.dst = dst;
  h.ttl = ttl;
  h.identification = identification;
  h.protocol = kProtoIcmp;
  return BuildIpv4(h, message);
}

Result<Ipv4IcmpPacket> ParseIpv4Icmp(ByteSpan bytes, const Ipv4ParseOptions& ip_options,
                                     const IcmpParseOptions& icmp_options) {
  MIPSEC_ASSIGN_OR_RETURN(Ipv4Packet ip, ParseIpv4(bytes, ip_options));
  if (ip.header.protocol != kProtoIcmp) {
    return Error(Errc::kMalformed,
                 "ipv4: protocol " + std::to_string(ip.header.protocol) + " is not ICMP (1)");
  }
  if (ip.header.IsFragment()) {
    return Error(Errc::kUnsupported, "ipv4: a fragment of an ICMP message; reassemble first");
  }
  MIPSEC_ASSIGN_OR_RETURN(IcmpMessage icmp, ParseIcmp(ip.payload, icmp_options));
  return Ipv4IcmpPacket{ip.header, icmp};
}

}  // namespace mipsec::ip
