// IP in IP encapsulation (RFC 2003): the tunnel between home agent and
// care-of address, and the reverse tunnel (RFC 3024).
//
//   +---------------------------+
//   |      Outer IP Header      |  protocol 4, tunnel entry -> tunnel exit
//   +---------------------------+
//   |      Inner IP Header      |  original sender -> recipient, unchanged
//   +---------------------------+  except for the TTL (see below)
//   |        IP Payload         |
//   +---------------------------+
//
// What the codec does (RFC 2003 section numbers):
//   Encapsulate  outer Version 4, IHL 5 (no outer options, 3.1 "Options"),
//                TOS copied from the inner header (3.1 "TOS"), DF set when
//                the inner DF is set (3.1 "MUST"; the caller may also set it
//                for tunnel PMTU discovery, 5.1), Identification from the
//                caller, TTL "appropriate for delivery to the tunnel exit
//                point" (3.1; default kDefaultTunnelTtl), protocol 4, checksum.
//                When tunnelling as part of forwarding, the inner TTL is
//                decremented by one and the inner checksum fixed (3.1); an
//                inner TTL of 0 is never encapsulated (3.1 "MUST NOT").
//                Forwarding refuses the 3.2 routing loops it can see: an
//                inner source equal to the outer source (this router) or to
//                the outer destination (the tunnel exit).
//   Decapsulate  outer protocol 4, not a fragment, inner a valid IPv4
//                datagram that fits in the outer payload; the inner TTL is
//                NOT changed (3.1), and an inner TTL of 0 is refused (3.1
//                "MUST discard").
//   IpipCheckMtu the tunnel MTU rule (3.1 last paragraph, 4.1 code 4, 5.1):
//                an inner datagram with DF that does not fit is answered with
//                ICMP Fragmentation Needed carrying MTU = tunnel MTU - 20.
//
// What the caller (HA, FA, MN) must do itself:
//   - before encapsulating: IpipCheckMtu(); the other 3.2 check (inner source
//     equal to ANY of this router's addresses, not just the tunnel source);
//     send ICMP Time Exceeded (icmp.h) when Encapsulate says the inner TTL
//     expired (kTimeout);
//   - after decapsulating: admit only tunnels it expects (6.2: the outer
//     source is a registered care-of address / foreign agent / its home
//     agent, the inner destination is itself or a node it serves; RFC 3024
//     adds that a reverse-tunnelled inner source is the mobile node's home
//     address), and decrement the TTL (ip/ipv4.h DecrementTtl) if it then
//     forwards the inner datagram, as normal forwarding does (3.1). An inner
//     datagram that is itself IP in IP is returned as is; decapsulating again
//     is the caller's policy;
//   - relay ICMP errors received from inside the tunnel per section 4 (e.g.
//     Datagram Too Big MUST be relayed to the original sender; Time Exceeded
//     is reported as Host Unreachable) and keep tunnel soft state (5, 5.1):
//     ParseIcmpQuote() gives the quoted outer header, which is all routers
//     are required to return.
// The ECN handling of RFC 6040 (copying CE from outer to inner on
// decapsulation) is not done: RFC 2003 does not ask for it.
//
// The returned inner view points into the caller's buffer.
#ifndef MIPSEC_COMMON_IP_IPIP_H_
#define MIPSEC_COMMON_IP_IPIP_H_

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/ip/ipv4.h"
#include "common/result.h"

namespace mipsec::ip {

// RFC 2003 3.1 leaves the outer TTL to the encapsulator; mipsec uses the
// ordinary default TTL, enough for any enterprise path to the tunnel exit.
inline constexpr std::uint8_t kDefaultTunnelTtl = kDefaultTtl;
// The outer header the codec adds (no options).
inline constexpr std::size_t kIpipOverhead = Ipv4Header::kMinSize;

struct IpipEncapsulateOptions {
  std::uint8_t ttl = kDefaultTunnelTtl;
  // RFC 2003 3.1: TOS is copied from the inner header. false writes 0.
  bool copy_tos = true;
  // Set the outer DF even when the inner DF is clear (tunnel PMTU discovery,
  // RFC 2003 5.1). The inner DF is always copied.
  bool set_df = false;
  // The outer Identification: take it from the tunnel's counter
  // (`options.identification = next_id_++`); the codec keeps no state.
  std::uint16_t identification = 0;
  // True when tunnelling as part of forwarding the datagram (a home agent or
  // foreign agent relaying someone else's datagram): the inner TTL is
  // decremented and the 3.2 loop checks apply. False for datagrams this node
  // originates (a mobile node reverse-tunnelling its own traffic).
  bool forwarding = true;
};

// Returns the outer datagram: a new 20-byte outer header followed by the
// inner datagram (its Total Length bytes; trailing padding dropped). Errors:
//   kMalformed        `inner` is not a valid IPv4 datagram (checksum
//                     verified), or its TTL is 0;
//   kTimeout          forwarding, and the decremented inner TTL is 0: drop
//                     it and send ICMP Time Exceeded to the inner source;
//   kState            forwarding, and the inner source is `outer_src` or
//                     `outer_dst` (RFC 2003 3.2 routing loop): discard;
//   kInvalidArgument  the outer datagram would exceed 65535 bytes.
Result<Bytes> IpipEncapsulate(ByteSpan inner, Ipv4Address outer_src, Ipv4Address outer_dst,
                              const IpipEncapsulateOptions& options = {});

struct IpipDecapsulateOptions {
  bool verify_outer_checksum = true;
  bool verify_inner_checksum = true;
};

struct IpipDecapsulated {
  Ipv4Header outer;
  Ipv4Header inner;
  // Exactly the inner datagram (inner Total Length bytes) inside the input.
  // Outer payload bytes after it, if any, are ignored.
  ByteSpan inner_packet;
};

// Checks and strips the outer header. Errors: kMalformed/kTruncated for a bad
// outer or inner datagram, an outer protocol other than 4, or an inner TTL
// of 0; kUnsupported for an outer fragment (reassemble first).
Result<IpipDecapsulated> IpipDecapsulate(ByteSpan outer_packet,
                                         const IpipDecapsulateOptions& options = {});

enum class IpipMtuVerdict {
  kFits,           // outer datagram <= tunnel MTU: encapsulate
  kFragmentOuter,  // too big but the inner DF is clear: encapsulate without
                   // outer DF; the outer datagram will be fragmented (3.1)
  kTooBig,         // too big and DF set: drop the inner datagram, send `icmp`
};

struct IpipMtuCheck {
  IpipMtuVerdict verdict = IpipMtuVerdict::kFits;
  // For kTooBig: ICMP Destination Unreachable, code 4, next-hop MTU = tunnel
  // MTU - 20, from `icmp_source` to the inner source, as a whole IPv4
  // datagram. Empty when RFC 1122 3.2.2 forbids an error about this inner
  // datagram (see IcmpErrorAllowed in icmp.h): then drop silently.
  std::optional<Bytes> icmp;
};

// Decides what to do with `inner` before encapsulating it into a tunnel with
// path MTU `tunnel_mtu` (the largest outer datagram). `icmp_source` is this
// encapsulator's address. kMalformed if `inner` is not an IPv4 datagram;
// kInvalidArgument if tunnel_mtu - 20 is below the IPv4 minimum of 68.
Result<IpipMtuCheck> IpipCheckMtu(ByteSpan inner, std::size_t tunnel_mtu, Ipv4Address icmp_source);

}  // namespace mipsec::ip

#endif  // MIPSEC_COMMON_IP_IPIP_H_
