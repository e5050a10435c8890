#include "common/ip/ipv4.h"

#include <cstdio>

#include "common/checksum.h"
#include "common/wire/reader.h"

namespace mipsec::ip {
namespace {

constexpr std::uint16_t kFlagReserved = 0x8000;
constexpr std::uint16_t kFlagDf = 0x4000;
constexpr std::uint16_t kFlagMf = 0x2000;
constexpr std::size_t kChecksumOffset = 10;
constexpr std::size_t kTtlOffset = 8;

std::string Hex16(std::uint16_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", v);
  return buf;
}

}  // namespace

std::string Ipv4Header::ToString() const {
  std::string s = src.ToString() + " > " + dst.ToString() + " proto " + std::to_string(protocol) +
                  " ttl " + std::to_string(ttl) + " len " + std::to_string(total_length) + " id " +
                  Hex16(identification);
  if (tos != 0) s += " tos " + std::to_string(tos);
  if (dont_fragment) s += " DF";
  if (more_fragments) s += " MF";
  if (fragment_offset != 0) s += " off " + std::to_string(fragment_offset * 8);
  if (!options.empty()) s += " optlen " + std::to_string(options.size());
  return s;
}

Result<Ipv4Packet> ParseIpv4(ByteSpan bytes, const Ipv4ParseOptions& options) {
  wire::Reader r(bytes);
  Ipv4Packet p;
  Ipv4Header& h = p.header;
  // RFC 791 3.1.
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t vihl, r.U8("ipv4 version/IHL"));
  if (vihl >> 4 != 4) {
    return Error(Errc::kMalformed, "ipv4: version is " + std::to_string(vihl >> 4) + ", not 4");
  }
  const std::size_t header_len = static_cast<std::size_t>(vihl & 0xf) * 4;
  if (header_len < Ipv4Header::kMinSize) {
    return Error(Errc::kMalformed,
                 "ipv4: header length " + std::to_string(header_len) + " is below 20");
  }
  MIPSEC_ASSIGN_OR_RETURN(h.tos, r.U8("ipv4 TOS"));
  MIPSEC_ASSIGN_OR_RETURN(h.total_length, r.U16("ipv4 total length"));
  MIPSEC_ASSIGN_OR_RETURN(h.identification, r.U16("ipv4 identification"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint16_t frag, r.U16("ipv4 flags/fragment offset"));
  h.reserved_flag = (frag & kFlagReserved) != 0;
  h.dont_fragment = (frag & kFlagDf) != 0;
  h.more_fragments = (frag & kFlagMf) != 0;
  h.fragment_offset = frag & Ipv4Header::kMaxFragmentOffset;
  MIPSEC_ASSIGN_OR_RETURN(h.ttl, r.U8("ipv4 TTL"));
  MIPSEC_ASSIGN_OR_RETURN(h.protocol, r.U8("ipv4 protocol"));
  MIPSEC_ASSIGN_OR_RETURN(h.checksum, r.U16("ipv4 header checksum"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint32_t src, r.U32("ipv4 source address"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint32_t dst, r.U32("ipv4 destination address"));
  h.src = Ipv4Address::FromHostOrder(src);
  h.dst = Ipv4Address::FromHostOrder(dst);
  MIPSEC_ASSIGN_OR_RETURN(h.options, r.Span(header_len - Ipv4Header::kMinSize, "ipv4 options"));

  if (h.total_length < header_len) {
    return Error(Errc::kMalformed, "ipv4: total length " + std::to_string(h.total_length) +
                                       " is smaller than the header length " +
                                       std::to_string(header_len));
  }
  std::size_t end = h.total_length;
  if (end > bytes.size()) {
    if (!options.allow_truncated) {
      return Error(Errc::kTruncated, "ipv4: total length " + std::to_string(h.total_length) +
                                         " exceeds the " + std::to_string(bytes.size()) +
                                         " bytes received");
    }
    end = bytes.size();
  }
  if (options.verify_checksum && !ChecksumIsValid(bytes.first(header_len))) {
    // Report what the field should have held.
    Checksum c;
    c.Add(bytes.first(kChecksumOffset)).Add(bytes.subspan(kChecksumOffset + 2, header_len - 12));
    return Error(Errc::kMalformed, "ipv4: header checksum " + Hex16(h.checksum) + " is wrong (" +
                                       Hex16(c.Finish()) + " expected)");
  }
  p.datagram = bytes.first(end);
  p.payload = bytes.subspan(header_len, end - header_len);
  return p;
}

Status AppendIpv4Header(wire::Writer& w, const Ipv4Header& h, std::size_t payload_length) {
  if (h.options.size() % 4 != 0 || h.options.size() > Ipv4Header::kMaxOptionsSize) {
    return Error(Errc::kInvalidArgument, "ipv4: options are " + std::to_string(h.options.size()) +
                                             " bytes; need a multiple of 4, at most 40");
  }
  if (h.fragment_offset > Ipv4Header::kMaxFragmentOffset) {
    return Error(Errc::kInvalidArgument,
                 "ipv4: fragment offset " + std::to_string(h.fragment_offset) + " exceeds 8191");
  }
  const std::size_t header_len = h.header_length();
  if (payload_length > Ipv4Header::kMaxTotalLength - header_len) {
    return Error(Errc::kInvalidArgument, "ipv4: a " + std::to_string(payload_length) +
                                             "-byte payload does not fit in a datagram");
  }
  const std::size_t start = w.size();
  std::uint16_t frag = h.fragment_offset;
  if (h.reserved_flag) frag |= kFlagReserved;
  if (h.dont_fragment) frag |= kFlagDf;
  if (h.more_fragments) frag |= kFlagMf;
  w.U8(static_cast<std::uint8_t>(0x40 | header_len / 4))
      .U8(h.tos)
      .U16(static_cast<std::uint16_t>(header_len + payload_length))
      .U16(h.identification)
      .U16(frag)
      .U8(h.ttl)
      .U8(h.protocol)
      .U16(0)  // checksum, patched below
      .U32(h.src.ToHostOrder())
      .U32(h.dst.ToHostOrder())
      .Append(h.options);
  // RFC 791 3.1: the checksum field is zero while the checksum is computed.
  w.PatchU16(start + kChecksumOffset, InternetChecksum(w.View().subspan(start, header_len)));
  return Ok{};
}

Result<Bytes> BuildIpv4(const Ipv4Header& h, ByteSpan payload) {
  wire::Writer w(h.header_length() + payload.size());
  MIPSEC_TRY(AppendIpv4Header(w, h, payload.size()));
  w.Append(payload);
  return std::move(w).Take();
}

Result<std::uint8_t> DecrementTtl(MutableByteSpan packet) {
  if (packet.size() < Ipv4Header::kMinSize) {
    return Error(Errc::kTruncated,
                 "ipv4: " + std::to_string(packet.size()) + " bytes is shorter than a header");
  }
  if (packet[0] >> 4 != 4 || (packet[0] & 0xf) < 5) {
    return Error(Errc::kMalformed, "ipv4: not an IPv4 header (version/IHL byte " +
                                       std::to_string(packet[0]) + ")");
  }
  const std::uint8_t ttl = packet[kTtlOffset];
  if (ttl == 0) return Error(Errc::kMalformed, "ipv4: TTL is already 0");
  // RFC 1624 3: TTL and protocol share one 16-bit word of the header.
  const std::uint16_t old_word = wire::LoadU16(packet, kTtlOffset);
  const std::uint16_t new_word = static_cast<std::uint16_t>(old_word - 0x100);
  wire::StoreU16(packet, kTtlOffset, new_word);
  wire::StoreU16(packet, kChecksumOffset,
                 ChecksumAdjust16(wire::LoadU16(packet, kChecksumOffset), old_word, new_word));
  return static_cast<std::uint8_t>(ttl - 1);
}

}  // namespace mipsec::ip
