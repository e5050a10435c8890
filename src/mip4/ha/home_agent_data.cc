// The home agent's data plane: tunnelling intercepted datagrams to care-of
// addresses (RFC 5944 4.2.3, RFC 2003, RFC 3519 4.2) within each tunnel's
// MTU as ICMP from inside the tunnel taught it (RFC 2003 4.1, 5, 5.1), and
// admitting reverse-tunnelled datagrams only from registered care-of
// addresses (RFC 3024 4.3.2, RFC 3519 4.3), with RFC 3519 4.9 keepalives.
#include <algorithm>
#include <array>
#include <utility>

#include "common/ip/icmp.h"
#include "common/ip/ipip.h"
#include "common/ip/ipv4.h"
#include "common/ip/udp.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/tunnel_data.h"
#include "mip4/ha/home_agent.h"

namespace mipsec::mip4 {

namespace {
// Outer UDP header and Tunnel Data header on top of IP-in-IP's outer header.
constexpr std::size_t kUdpTunnelExtra = ip::UdpHeader::kSize + TunnelData::kHeaderSize;
// RFC 791: the datagram every IPv4 link carries whole; RFC 1191 3: no
// path MTU estimate is below it.
constexpr std::size_t kMinInnerMtu = 68;

// RFC 1191 7: the plateaus to try when a router reports next-hop MTU 0
// (RFC 1191 5, "old-style messages"), descending.
constexpr std::array<std::uint16_t, 10> kMtuPlateaus = {32000, 17914, 8166, 4352, 2002,
                                                        1492,  1006,  508,  296,  68};
}  // namespace

void HomeAgent::QueueIcmpTimeExceeded(ByteSpan original) {
  Result<ip::Ipv4Packet> p = ip::ParseIpv4(original, {.verify_checksum = false});
  if (!p.ok()) return;
  Result<Bytes> msg = ip::BuildIcmpTimeExceeded(ip::kIcmpTtlExceeded, original);
  if (!msg.ok()) return;  // RFC 1122 3.2.2: no error about this datagram
  Result<Bytes> pkt = ip::BuildIcmpPacket(options_.address, p->header.src, *msg);
  if (!pkt.ok()) return;
  transmits_.push_back(IpTransmit{std::nullopt, std::nullopt, std::move(pkt).value()});
}

// Sends one tunnelled copy of `packet` (an IPv4 datagram for the MN) to the
// binding's care-of address. Returns nullopt when sent, else the drop reason.
// `tunnel_mtu`: the path MTU to the tunnel destination (TunnelMtu).
static std::optional<HaDrop> TunnelOne(const BindingRecord& b, ByteSpan packet,
                                       std::size_t tunnel_mtu, const HomeAgentOptions& o,
                                       std::uint16_t& ip_id, std::deque<Transmit>& out,
                                       HaCounters& counters, bool& ttl_expired) {
  if (b.flags & BindingRecord::kHalfBound) return HaDrop::kHalfBound;
  const bool udp = (b.flags & BindingRecord::kUdpTunnel) != 0;
  // RFC 2003 3.1 / 5.1 tunnel MTU (RFC 3519 4.2 adds UDP and Tunnel Data):
  // the inner datagram gets what the path leaves after the encapsulation,
  // never less than the IPv4 minimum of 68 (RFC 791; a learned MTU can be
  // as low as 68).
  const std::size_t extra = udp ? kUdpTunnelExtra : 0;
  const std::size_t usable = std::max(tunnel_mtu, kMinInnerMtu + ip::kIpipOverhead + extra);
  Result<ip::IpipMtuCheck> mtu = ip::IpipCheckMtu(packet, usable - extra, o.address);
  if (!mtu.ok()) return HaDrop::kPacketMalformed;
  if (mtu->verdict == ip::IpipMtuVerdict::kTooBig) {
    if (mtu->icmp) {
      out.push_back(IpTransmit{std::nullopt, std::nullopt, std::move(*mtu->icmp)});
      ++counters.icmp_too_big_sent;
    }
    return HaDrop::kTooBig;
  }
  if (!udp) {
    ip::IpipEncapsulateOptions eo;
    eo.identification = ip_id++;
    // RFC 5944 4.2.3: the outer source is the address in the reply's Home
    // Agent field.
    Result<Bytes> outer = ip::IpipEncapsulate(packet, o.address, b.tunnel_destination(), eo);
    if (!outer.ok()) {
      if (outer.error().code() == Errc::kTimeout) {
        ttl_expired = true;
        return HaDrop::kTtlExpired;
      }
      return outer.error().code() == Errc::kState ? HaDrop::kTunnelLoop : HaDrop::kPacketMalformed;
    }
    out.push_back(IpTransmit{std::nullopt, std::nullopt, std::move(outer).value()});
    ++counters.tunnelled_ipip;
    return std::nullopt;
  }
  // RFC 3519 4.2: as RFC 2003, the inner TTL drops by one when forwarding.
  Bytes inner(packet.begin(), packet.end());
  Result<std::uint8_t> ttl = ip::DecrementTtl(inner);
  if (!ttl.ok()) return HaDrop::kPacketMalformed;
  if (*ttl == 0) {
    ttl_expired = true;
    return HaDrop::kTtlExpired;
  }
  UdpTransmit t;
  t.local = Ipv4Endpoint{o.address, kMipPort};
  t.remote = Ipv4Endpoint{b.tunnel_destination(), b.tunnel_port};
  t.payload = BuildTunnelData(kEncapIpInIp, inner);
  out.push_back(std::move(t));
  ++counters.tunnelled_udp;
  return std::nullopt;
}

HaResult HomeAgent::OnHomePacket(Timestamp now, ByteSpan packet) {
  Result<ip::Ipv4Packet> p = ip::ParseIpv4(packet);
  if (!p.ok()) return Drop(HaDrop::kPacketMalformed);
  const Ipv4Address dst = p->header.dst;
  const std::uint32_t head = bindings_.Head(dst);
  if (head == BindingCache::kNil) {
    // RFC 5944 4.2.3: no binding, the MN is at home.
    ++counters_.not_bound;
    HaResult r;
    r.action = HaResult::Action::kNotBound;
    return r;
  }
  // RFC 5944 4.2.3: an already encapsulated datagram whose inner destination
  // is the MN, coming from the MN's own care-of address, would loop.
  if (p->header.protocol == ip::kProtoIpip && !p->header.IsFragment()) {
    Result<ip::Ipv4Packet> inner =
        ip::ParseIpv4(p->payload, {.verify_checksum = false, .allow_truncated = true});
    if (inner.ok() && inner->header.dst == dst) {
      for (std::uint32_t i = head; i != BindingCache::kNil; i = bindings_[i].next_in_mn) {
        if (bindings_[i].tunnel_address == p->header.src.ToHostOrder()) {
          return Drop(HaDrop::kTunnelLoop);
        }
      }
    }
  }
  // A copy to each care-of address (simultaneous bindings).
  bool sent = false;
  bool ttl_expired = false;
  std::optional<HaDrop> last;
  for (std::uint32_t i = head; i != BindingCache::kNil; i = bindings_[i].next_in_mn) {
    std::optional<HaDrop> d =
        TunnelOne(bindings_[i], p->datagram, TunnelMtu(now, bindings_[i].tunnel_address),
                  options_, next_ip_id_, transmits_, counters_, ttl_expired);
    if (d) {
      last = d;
    } else {
      sent = true;
    }
  }
  if (ttl_expired) QueueIcmpTimeExceeded(p->datagram);
  if (sent) return {};
  return Drop(last.value_or(HaDrop::kPacketMalformed));
}

// Forwards a decapsulated datagram: TTL minus one (RFC 2003 3.1, as any
// forwarding), ICMP Time Exceeded when it runs out.
static HaResult ForwardInner(ByteSpan inner, bool& ttl_expired) {
  HaResult r;
  r.forward.assign(inner.begin(), inner.end());
  Result<std::uint8_t> ttl = ip::DecrementTtl(r.forward);
  if (!ttl.ok() || *ttl == 0) {
    ttl_expired = ttl.ok();
    r.forward.clear();
    r.action = HaResult::Action::kDropped;
    r.drop = ttl.ok() ? HaDrop::kTtlExpired : HaDrop::kPacketMalformed;
    return r;
  }
  r.action = HaResult::Action::kForward;
  return r;
}

HaResult HomeAgent::OnTunnelPacket(Timestamp /*now*/, ByteSpan outer_packet) {
  Result<ip::IpipDecapsulated> dec = ip::IpipDecapsulate(outer_packet);
  if (!dec.ok()) return Drop(HaDrop::kPacketMalformed);
  if (dec->outer.dst != options_.address) return Drop(HaDrop::kNotForHomeAgent);
  // RFC 3024 4.3.2: a binding whose care-of address is the outer source and
  // whose home address is the inner source, with the encapsulation that
  // was negotiated (RFC 3519 4.7: a UDP-tunnelled binding takes UDP only).
  bool found = false;
  bool wrong_encap = false;
  const std::uint32_t outer_src = dec->outer.src.ToHostOrder();
  for (std::uint32_t i = bindings_.Head(dec->inner.src); i != BindingCache::kNil;
       i = bindings_[i].next_in_mn) {
    const BindingRecord& b = bindings_[i];
    if (b.tunnel_address != outer_src) continue;
    if (b.flags & BindingRecord::kUdpTunnel) {
      wrong_encap = true;
    } else {
      found = true;
      break;
    }
  }
  if (!found) {
    MIPSEC_LOG(log_, kDebug) << "security exception: reverse-tunnelled datagram from "
                             << dec->outer.src << " for " << dec->inner.src << " dropped";
    return Drop(wrong_encap ? HaDrop::kEncapsulationMismatch : HaDrop::kReverseNotFromCareOf);
  }
  bool ttl_expired = false;
  HaResult r = ForwardInner(dec->inner_packet, ttl_expired);
  if (r.drop) {
    ++counters_.drops[static_cast<std::size_t>(*r.drop)];
    if (ttl_expired) QueueIcmpTimeExceeded(dec->inner_packet);
    return r;
  }
  ++counters_.decapsulated_ipip;
  return r;
}

HaResult HomeAgent::HandleTunnelData(Timestamp /*now*/, const UdpReceived& d) {
  Result<TunnelData> td = ParseTunnelData(d.payload);
  if (!td.ok()) return Drop(HaDrop::kPacketMalformed);
  Result<ip::Ipv4Packet> inner = ip::ParseIpv4(td->payload);
  if (!inner.ok()) return Drop(HaDrop::kPacketMalformed);
  const Ipv4Address mn = inner->header.src;
  // RFC 3519 4.3: the outer addresses and ports must be the tunnel's exactly;
  // a half-bound tunnel (4.6, 'R') matches on the address alone.
  std::uint32_t match = BindingCache::kNil;
  bool wrong_encap = false;
  const std::uint32_t from = d.remote.address.ToHostOrder();
  for (std::uint32_t i = bindings_.Head(mn); i != BindingCache::kNil;
       i = bindings_[i].next_in_mn) {
    const BindingRecord& b = bindings_[i];
    if (b.tunnel_address != from) continue;
    if (!(b.flags & BindingRecord::kUdpTunnel)) {
      wrong_encap = true;
      continue;
    }
    if ((b.flags & BindingRecord::kHalfBound) || b.tunnel_port == d.remote.port) {
      match = i;
      break;
    }
  }
  if (match == BindingCache::kNil) {
    MIPSEC_LOG(log_, kDebug) << "security exception: Tunnel Data from " << d.remote << " for "
                             << mn << " matches no UDP-tunnelled binding";
    return Drop(wrong_encap ? HaDrop::kEncapsulationMismatch : HaDrop::kReverseNotFromCareOf);
  }
  // RFC 3519 3.3: Next Header must match the binding's mode (IP in UDP).
  if (td->next_header != kEncapIpInIp) return Drop(HaDrop::kEncapsulationMismatch);

  // RFC 3519 4.9: a keepalive is an ICMP Echo Request to the HA, answered
  // through the tunnel; with 'R' the first one binds the port (4.6).
  if (inner->header.protocol == ip::kProtoIcmp && inner->header.dst == options_.address) {
    Result<ip::IcmpMessage> icmp = ip::ParseIcmp(inner->payload);
    if (icmp.ok() && icmp->type == ip::kIcmpEchoRequest) {
      BindingRecord& b = bindings_[match];
      if (b.flags & BindingRecord::kHalfBound) {
        b.tunnel_port = d.remote.port;
        b.flags &= static_cast<std::uint8_t>(~BindingRecord::kHalfBound);
        MIPSEC_LOG(log_, kInfo) << "UDP tunnel of " << mn << " bound to " << d.remote
                                << " by its first keepalive";
        EmitIfChanged(mn, true, true, HaEvent::Cause::kKeepalive);
      }
      Bytes reply = ip::BuildIcmpEchoReply(icmp->echo_identifier(), icmp->echo_sequence(),
                                           icmp->body);
      Result<Bytes> pkt = ip::BuildIcmpPacket(options_.address, mn, reply);
      if (pkt.ok()) {
        UdpTransmit t;
        t.local = Ipv4Endpoint{options_.address, d.local.port};
        t.remote = d.remote;
        t.payload = BuildTunnelData(kEncapIpInIp, *pkt);
        transmits_.push_back(std::move(t));
      }
      ++counters_.keepalives;
      return {};
    }
  }
  if (bindings_[match].flags & BindingRecord::kHalfBound) return Drop(HaDrop::kHalfBound);
  bool ttl_expired = false;
  HaResult r = ForwardInner(inner->datagram, ttl_expired);
  if (r.drop) {
    ++counters_.drops[static_cast<std::size_t>(*r.drop)];
    if (ttl_expired) QueueIcmpTimeExceeded(inner->datagram);
    return r;
  }
  ++counters_.decapsulated_udp;
  return r;
}

// ---- Tunnel MTU soft state (RFC 2003 4.1, 5, 5.1) ----

std::size_t HomeAgent::TunnelMtu(Timestamp now, std::uint32_t tunnel_address) const {
  if (tunnel_mtus_.empty()) return options_.tunnel_mtu;
  auto it = tunnel_mtus_.find(tunnel_address);
  if (it == tunnel_mtus_.end() || it->second.expires <= now) return options_.tunnel_mtu;
  return std::min<std::size_t>(it->second.mtu, options_.tunnel_mtu);
}

std::size_t HomeAgent::TunnelMtu(Timestamp now, Ipv4Address tunnel_destination) const {
  return TunnelMtu(now, tunnel_destination.ToHostOrder());
}

void HomeAgent::RecordTunnelMtu(Timestamp now, std::uint32_t tunnel_address, std::size_t mtu) {
  // Purge what has aged out (entries refreshed since have a later time).
  while (!tunnel_mtu_expiry_.empty() && tunnel_mtu_expiry_.front().first <= now) {
    const auto [when, address] = tunnel_mtu_expiry_.front();
    tunnel_mtu_expiry_.pop_front();
    auto it = tunnel_mtus_.find(address);
    if (it != tunnel_mtus_.end() && it->second.expires == when) tunnel_mtus_.erase(it);
  }
  // RFC 1191 3: a Datagram Too Big never raises the estimate. Lowering it
  // restarts the age (RFC 2003 5 soft state; RFC 1191 6.3 raises it again
  // after tunnel_mtu_age).
  if (mtu >= TunnelMtu(now, tunnel_address)) return;
  const Timestamp expires = now + options_.tunnel_mtu_age;
  tunnel_mtus_[tunnel_address] = LearnedMtu{static_cast<std::uint16_t>(mtu), expires};
  tunnel_mtu_expiry_.emplace_back(expires, tunnel_address);
  MIPSEC_LOG(log_, kInfo) << "tunnel MTU to " << Ipv4Address::FromHostOrder(tunnel_address)
                          << " is now " << mtu << " (ICMP fragmentation needed)";
}

// An ICMP Destination Unreachable, Fragmentation Needed (type 3 code 4)
// addressed to the HA. Changes nothing unless it is about a datagram this HA
// tunnelled to a current binding (see home_agent.h).
void HomeAgent::OnTooBig(Timestamp now, const ip::IcmpMessage& icmp) {
  ++counters_.icmp_too_big_received;
  auto ignore = [this](const char* why) {
    MIPSEC_LOG(log_, kDebug) << "ICMP fragmentation needed ignored: " << why;
    Drop(HaDrop::kBadTooBig);
  };
  Result<ip::Ipv4Packet> quote = ip::ParseIcmpQuote(icmp);
  if (!quote.ok()) return ignore("no IPv4 header quoted");
  const ip::Ipv4Header& outer = quote->header;
  if (outer.src != options_.address) return ignore("the quoted datagram is not from the HA");
  // A router reports this only about a datagram it may not fragment.
  if (!outer.dont_fragment || outer.IsFragment()) return ignore("quoted datagram without DF");
  // The quoted payload: IP-in-IP (RFC 2003) or UDP + Tunnel Data (RFC 3519
  // 3.3), then the inner header, which names the binding.
  ByteSpan inner_bytes;
  std::optional<std::uint16_t> udp_port;
  if (outer.protocol == ip::kProtoIpip) {
    inner_bytes = quote->payload;
  } else if (outer.protocol == ip::kProtoUdp) {
    const ByteSpan u = quote->payload;
    if (u.size() < ip::UdpHeader::kSize + TunnelData::kHeaderSize) {
      return ignore("UDP quote too short");
    }
    udp_port = static_cast<std::uint16_t>((u[2] << 8) | u[3]);
    Result<TunnelData> td = ParseTunnelData(u.subspan(ip::UdpHeader::kSize));
    if (!td.ok() || td->next_header != kEncapIpInIp) return ignore("not Tunnel Data");
    inner_bytes = td->payload;
  } else {
    return ignore("the quoted datagram is not a tunnelled one");
  }
  Result<ip::Ipv4Packet> inner =
      ip::ParseIpv4(inner_bytes, {.verify_checksum = false, .allow_truncated = true});
  if (!inner.ok()) return ignore("no inner IPv4 header quoted");
  const std::uint32_t tunnel = outer.dst.ToHostOrder();
  bool bound = false;
  for (std::uint32_t i = bindings_.Head(inner->header.dst); i != BindingCache::kNil;
       i = bindings_[i].next_in_mn) {
    const BindingRecord& b = bindings_[i];
    const bool b_udp = (b.flags & BindingRecord::kUdpTunnel) != 0;
    if (b.tunnel_address != tunnel || b_udp != udp_port.has_value()) continue;
    if (b_udp && ((b.flags & BindingRecord::kHalfBound) || b.tunnel_port != *udp_port)) continue;
    bound = true;
    break;
  }
  if (!bound) return ignore("not about a current tunnel");

  // RFC 1191 4: the next-hop MTU; 0 from a router older than RFC 1191, for
  // which RFC 1191 5 guesses the next plateau below the datagram's size.
  const std::size_t sent = outer.total_length;
  std::size_t mtu = icmp.next_hop_mtu();
  if (mtu == 0) {
    for (std::uint16_t p : kMtuPlateaus) {
      if (p < sent) {
        mtu = p;
        break;
      }
    }
  }
  // RFC 1191 3: never below 68; a datagram that fitted was not too big;
  // and the HA never sent one over tunnel_mtu.
  if (mtu < kMinInnerMtu || mtu >= sent || sent > options_.tunnel_mtu) {
    return ignore("implausible next-hop MTU");
  }
  ++counters_.icmp_too_big_accepted;
  RecordTunnelMtu(now, tunnel, mtu);

  // RFC 2003 4.1: "The encapsulator MUST relay ICMP Datagram Too Big
  // messages to the sender of the original unencapsulated datagram", here
  // with the MTU that sender may use (5.1: the tunnel's minus the
  // encapsulation). Only when the original had DF (else its sender expects
  // no such message) and enough of it is quoted to be recognised (its
  // header and 8 bytes, RFC 792).
  const ip::Ipv4Header& in = inner->header;
  const std::size_t in_payload = in.total_length - in.header_length();
  if (!in.dont_fragment || inner->payload.size() < std::min(in_payload, ip::kIcmpQuotedPayload)) {
    return;
  }
  const std::size_t extra = udp_port ? kUdpTunnelExtra : 0;
  const std::size_t path =
      std::max(TunnelMtu(now, tunnel), kMinInnerMtu + ip::kIpipOverhead + extra);
  const std::size_t inner_mtu = path - ip::kIpipOverhead - extra;
  Result<Bytes> msg = ip::BuildIcmpDestinationUnreachable(
      ip::kIcmpFragmentationNeeded, inner_bytes, static_cast<std::uint16_t>(inner_mtu));
  if (!msg.ok()) return;  // RFC 1122 3.2.2: no error about this datagram
  Result<Bytes> pkt = ip::BuildIcmpPacket(options_.address, in.src, *msg);
  if (!pkt.ok()) return;
  transmits_.push_back(IpTransmit{std::nullopt, std::nullopt, std::move(pkt).value()});
  ++counters_.icmp_too_big_sent;
}

}  // namespace mipsec::mip4
