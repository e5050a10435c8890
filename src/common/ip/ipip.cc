#include "common/ip/ipip.h"

#include <algorithm>
#include <string>

#include "common/ip/icmp.h"
#include "common/wire/writer.h"

namespace mipsec::ip {
namespace {

// RFC 791: every host must accept a 68-byte datagram without fragmentation;
// RFC 1191 3: a PMTU estimate never goes below it.
constexpr std::size_t kMinIpv4Mtu = 68;

}  // namespace

Result<Bytes> IpipEncapsulate(ByteSpan inner, Ipv4Address outer_src, Ipv4Address outer_dst,
                              const IpipEncapsulateOptions& options) {
  Result<Ipv4Packet> parsed = ParseIpv4(inner);
  if (!parsed.ok()) return parsed.error().WithContext("ipip encapsulate: inner datagram");
  const Ipv4Header& in = parsed->header;
  // RFC 2003 3.1: "An encapsulator MUST NOT encapsulate a datagram with
  // TTL = 0."
  if (in.ttl == 0) {
    return Error(Errc::kMalformed, "ipip encapsulate: inner TTL is 0 (RFC 2003 3.1)");
  }
  if (options.forwarding) {
    // RFC 2003 3.2: a datagram from this router, or from the tunnel exit,
    // must not be tunnelled (it is looping); it SHOULD be discarded.
    if (in.src == outer_src || in.src == outer_dst) {
      return Error(Errc::kState, "ipip encapsulate: inner source " + in.src.ToString() +
                                     " is a tunnel endpoint (RFC 2003 3.2 routing loop)");
    }
    // RFC 2003 3.1: decrement the inner TTL when tunnelling as part of
    // forwarding; if it becomes 0, discard and send Time Exceeded.
    if (in.ttl == 1) {
      return Error(Errc::kTimeout,
                   "ipip encapsulate: inner TTL expired in forwarding (RFC 2003 3.1)");
    }
  }

  // RFC 2003 3.1, outer header fields.
  Ipv4Header out;
  out.tos = options.copy_tos ? in.tos : 0;
  out.identification = options.identification;
  out.dont_fragment = in.dont_fragment || options.set_df;
  out.ttl = options.ttl;
  out.protocol = kProtoIpip;
  out.src = outer_src;
  out.dst = outer_dst;

  const ByteSpan datagram = parsed->datagram;
  wire::Writer w(kIpipOverhead + datagram.size());
  Status st = AppendIpv4Header(w, out, datagram.size());
  if (!st.ok()) return std::move(st).error().WithContext("ipip encapsulate");
  w.Append(datagram);
  if (options.forwarding) {
    // The inner header is valid (parsed above) and its TTL is > 1.
    Result<std::uint8_t> ttl = DecrementTtl(w.Mutable(kIpipOverhead, datagram.size()));
    if (!ttl.ok()) return std::move(ttl).error().WithContext("ipip encapsulate");
  }
  return std::move(w).Take();
}

Result<IpipDecapsulated> IpipDecapsulate(ByteSpan outer_packet,
                                         const IpipDecapsulateOptions& options) {
  Result<Ipv4Packet> outer =
      ParseIpv4(outer_packet, {.verify_checksum = options.verify_outer_checksum});
  if (!outer.ok()) return outer.error().WithContext("ipip decapsulate: outer datagram");
  if (outer->header.protocol != kProtoIpip) {
    return Error(Errc::kMalformed, "ipip decapsulate: outer protocol " +
                                       std::to_string(outer->header.protocol) + " is not 4");
  }
  if (outer->header.IsFragment()) {
    // RFC 2003 5.1: a fragmented encapsulated datagram must be reassembled
    // by the decapsulator before it is decapsulated.
    return Error(Errc::kUnsupported, "ipip decapsulate: outer datagram is a fragment");
  }
  Result<Ipv4Packet> inner =
      ParseIpv4(outer->payload, {.verify_checksum = options.verify_inner_checksum});
  if (!inner.ok()) return inner.error().WithContext("ipip decapsulate: inner datagram");
  // RFC 2003 3.1: "The TTL in the inner IP header is not changed when
  // decapsulating. If, after decapsulation, the inner datagram has TTL = 0,
  // the decapsulator MUST discard the datagram."
  if (inner->header.ttl == 0) {
    return Error(Errc::kMalformed, "ipip decapsulate: inner TTL is 0 (RFC 2003 3.1)");
  }
  return IpipDecapsulated{outer->header, inner->header, inner->datagram};
}

Result<IpipMtuCheck> IpipCheckMtu(ByteSpan inner, std::size_t tunnel_mtu,
                                  Ipv4Address icmp_source) {
  if (tunnel_mtu < kMinIpv4Mtu + kIpipOverhead) {
    return Error(Errc::kInvalidArgument, "ipip: tunnel MTU " + std::to_string(tunnel_mtu) +
                                             " leaves less than 68 bytes for the inner datagram");
  }
  Result<Ipv4Packet> parsed = ParseIpv4(inner, {.verify_checksum = false});
  if (!parsed.ok()) return parsed.error().WithContext("ipip mtu check: inner datagram");
  IpipMtuCheck check;
  if (parsed->datagram.size() + kIpipOverhead <= tunnel_mtu) return check;
  // RFC 2003 3.1: fragmentation is allowed unless the inner DF is set.
  if (!parsed->header.dont_fragment) {
    check.verdict = IpipMtuVerdict::kFragmentOuter;
    return check;
  }
  // RFC 2003 4.1 (code 4) and 5.1: the sender learns the tunnel's MTU, less
  // the encapsulation header, from a Datagram Too Big message (RFC 1191 4).
  check.verdict = IpipMtuVerdict::kTooBig;
  const std::size_t mtu = std::min<std::size_t>(tunnel_mtu - kIpipOverhead, 0xffff);
  Result<Bytes> msg = BuildIcmpDestinationUnreachable(kIcmpFragmentationNeeded, parsed->datagram,
                                                      static_cast<std::uint16_t>(mtu));
  if (!msg.ok()) return check;  // RFC 1122 3.2.2 forbids an error here
  MIPSEC_ASSIGN_OR_RETURN(Bytes packet,
                          BuildIcmpPacket(icmp_source, parsed->header.src, *msg));
  check.icmp = std::move(packet);
  return check;
}

}  // namespace mipsec::ip
