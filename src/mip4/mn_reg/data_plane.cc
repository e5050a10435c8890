// MobileNodeRegistration's data plane for co-located care-of addresses
// (RFC 5944 4.2.1, RFC 3024 5.4, RFC 3519 4.2-4.3, 4.9-4.10) and the
// Direct Delivery style with a foreign agent (RFC 3024 5.1).
#include <string>
#include <utility>

#include "common/ip/icmp.h"
#include "common/ip/ipip.h"
#include "common/ip/ipv4.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/tunnel_data.h"
#include "mip4/mn_reg/registration.h"

namespace mipsec::mip4 {

void MobileNodeRegistration::NoteSentToHa(Timestamp now) { last_sent_to_ha_ = now; }

Status MobileNodeRegistration::SendPacket(Timestamp now, ByteSpan inner) {
  if (!binding_) return Error(Errc::kState, "no binding: nothing to tunnel through");
  Result<ip::Ipv4Packet> p = ip::ParseIpv4(inner);
  if (!p.ok()) return Error(Errc::kInvalidArgument, p.error().WithContext("inner").ToString());
  if (p->header.src != binding_->home_address) {
    return Error(Errc::kInvalidArgument, "inner source " + p->header.src.ToString() +
                                             " is not the home address");
  }
  const MnBinding& b = *binding_;
  if (b.foreign_agent) {
    // RFC 3024 5.1.1: Direct Delivery, the FA as the router; it
    // reverse-tunnels (or forwards) the datagram.
    IpTransmit t;
    if (b.ifindex != 0) t.ifindex = b.ifindex;
    t.link_next_hop = b.foreign_agent->agent_address;
    t.packet.assign(p->datagram.begin(), p->datagram.end());
    transmits_.push_back(std::move(t));
    ++counters_.tunnelled_out;
    return Ok{};
  }
  if (!b.reverse_tunnel) {
    return Error(Errc::kState, "reverse tunnelling (T) not registered: send natively");
  }
  if (b.encapsulation == TunnelEncapsulation::kUdp) {
    // RFC 3519 4.2 / 4.4: IP-in-UDP behind a Tunnel Data header, from the
    // registration's source port to HA:434.
    UdpTransmit t;
    t.local = {b.care_of_address, config_.source_port};
    t.remote = {b.home_agent, kMipPort};
    if (b.ifindex != 0) t.ifindex = b.ifindex;
    t.payload = BuildTunnelData(kEncapIpInIp, p->datagram);
    transmits_.push_back(std::move(t));
  } else {
    // RFC 3024 5.4 / RFC 2003: outer CoA -> HA; the MN originates the
    // datagram, so the inner TTL is left alone.
    ip::IpipEncapsulateOptions o;
    o.forwarding = false;
    o.identification = ip_id_++;
    Result<Bytes> outer = ip::IpipEncapsulate(p->datagram, b.care_of_address, b.home_agent, o);
    if (!outer.ok()) return outer.error();
    IpTransmit t;
    if (b.ifindex != 0) t.ifindex = b.ifindex;
    t.packet = std::move(*outer);
    transmits_.push_back(std::move(t));
  }
  ++counters_.tunnelled_out;
  NoteSentToHa(now);
  return Ok{};
}

Status MobileNodeRegistration::HandleIpip(Timestamp /*now*/, int ifindex, ByteSpan packet) {
  if (!binding_ || binding_->encapsulation != TunnelEncapsulation::kIpInIp) {
    return Drop(MnDrop::kTunnelMismatch,
                Error(Errc::kState, "IP-in-IP received without an IP-in-IP binding"));
  }
  Result<ip::IpipDecapsulated> d = ip::IpipDecapsulate(packet);
  if (!d.ok()) return Drop(MnDrop::kMalformed, d.error().WithContext("ip-in-ip"));
  // RFC 2003 6.2 / RFC 5944 4.2.1: only the tunnel we registered.
  if (d->outer.src != binding_->home_agent || d->outer.dst != binding_->care_of_address ||
      (binding_->ifindex != 0 && ifindex != binding_->ifindex)) {
    return Drop(MnDrop::kTunnelMismatch,
                Error(Errc::kState, "IP-in-IP " + d->outer.src.ToString() + " -> " +
                                        d->outer.dst.ToString() +
                                        " is not the registered tunnel"));
  }
  return DeliverInner(d->inner_packet);
}

Status MobileNodeRegistration::HandleTunnelData(Timestamp /*now*/, const UdpReceived& rx) {
  if (!binding_ || binding_->encapsulation != TunnelEncapsulation::kUdp) {
    return Drop(MnDrop::kTunnelMismatch,
                Error(Errc::kState, "Tunnel Data received without a UDP-tunnelled binding"));
  }
  const MnBinding& b = *binding_;
  // RFC 3519 4.3: outer addresses and ports MUST match the tunnel exactly.
  if (rx.remote != Ipv4Endpoint{b.home_agent, kMipPort} ||
      rx.local != Ipv4Endpoint{b.care_of_address, config_.source_port} ||
      (b.ifindex != 0 && rx.ifindex != b.ifindex)) {
    return Drop(MnDrop::kTunnelMismatch,
                Error(Errc::kState, "Tunnel Data " + rx.remote.ToString() + " -> " +
                                        rx.local.ToString() + " is not the registered tunnel"));
  }
  Result<TunnelData> td = ParseTunnelData(rx.payload);
  if (!td.ok()) return Drop(MnDrop::kMalformed, td.error().WithContext("tunnel data"));
  // RFC 3519 3.3: Next Header MUST match the binding's mode (IP-in-UDP).
  if (td->next_header != kEncapIpInIp) {
    return Drop(MnDrop::kTunnelMismatch,
                Error(Errc::kMalformed, "Tunnel Data Next Header " +
                                            std::to_string(td->next_header) +
                                            " does not match the binding (4)"));
  }
  return DeliverInner(td->payload);
}

Status MobileNodeRegistration::DeliverInner(ByteSpan inner) {
  const MnBinding& b = *binding_;
  Result<ip::Ipv4Packet> p = ip::ParseIpv4(inner);
  if (!p.ok()) return Drop(MnDrop::kMalformed, p.error().WithContext("inner datagram"));
  const ip::Ipv4Header& h = p->header;
  if (h.ttl == 0) {  // RFC 2003 3.1: MUST discard
    return Drop(MnDrop::kMalformed, Error(Errc::kMalformed, "inner TTL 0"));
  }
  const bool to_us = h.dst == b.home_address;
  // RFC 5944 3.6.1.2: with B the HA tunnels home-network broadcasts to us.
  const bool broadcast_ok =
      config_.broadcast && (h.dst.IsLimitedBroadcast() || h.dst.IsMulticast());
  if (!to_us && !broadcast_ok) {
    return Drop(MnDrop::kTunnelMismatch, Error(Errc::kState, "inner destination " +
                                                                 h.dst.ToString() +
                                                                 " is not the home address"));
  }
  // RFC 3519 4.9: the HA's answer to our keepalive is consumed here.
  if (b.encapsulation == TunnelEncapsulation::kUdp && h.protocol == ip::kProtoIcmp &&
      h.src == b.home_agent && to_us) {
    Result<ip::IcmpMessage> icmp = ip::ParseIcmp(p->payload);
    if (icmp.ok() && icmp->type == ip::kIcmpEchoReply &&
        icmp->echo_identifier() == keepalive_id_) {
      ++counters_.keepalive_replies;
      if (keepalive_outstanding_) {
        keepalive_outstanding_.reset();
        keepalive_tries_ = 0;
        timers_.Set(Timer::kKeepalive, last_sent_to_ha_ + b.keepalive_interval);
      }
      return Ok{};
    }
  }
  deliveries_.emplace_back(p->datagram.begin(), p->datagram.end());
  ++counters_.tunnelled_in;
  return Ok{};
}

void MobileNodeRegistration::SendKeepalive(Timestamp now) {
  const MnBinding& b = *binding_;
  keepalive_outstanding_ = ++keepalive_seq_;
  ++keepalive_tries_;
  // RFC 3519 4.9: a UDP-encapsulated ICMP Echo Request to the HA, from the
  // registration's port.
  Bytes echo = ip::BuildIcmpEchoRequest(keepalive_id_, keepalive_seq_, {});
  Result<Bytes> inner = ip::BuildIcmpPacket(b.home_address, b.home_agent, echo);
  if (!inner.ok()) return;
  UdpTransmit t;
  t.local = {b.care_of_address, config_.source_port};
  t.remote = {b.home_agent, kMipPort};
  if (b.ifindex != 0) t.ifindex = b.ifindex;
  t.payload = BuildTunnelData(kEncapIpInIp, *inner);
  transmits_.push_back(std::move(t));
  ++counters_.keepalives_sent;
  NoteSentToHa(now);
  timers_.Set(Timer::kKeepalive, now + config_.keepalive_reply_timeout);
}

void MobileNodeRegistration::OnKeepaliveTimer(Timestamp now) {
  if (!binding_ || binding_->encapsulation != TunnelEncapsulation::kUdp) return;
  if (keepalive_outstanding_) {
    if (keepalive_tries_ >= config_.keepalive_retries) {
      // RFC 3519 4.10: no answer after retransmissions: the NAT mapping is
      // presumed lost; re-register to tell the HA the new mapping.
      MIPSEC_LOG(log_, kNotice) << "keepalive unanswered after " << keepalive_tries_
                                << " tries: re-registering";
      events_.push_back(KeepaliveLostEvent{*binding_});
      keepalive_outstanding_.reset();
      keepalive_tries_ = 0;
      if (!attempt_) (void)Reregister(now);
      return;
    }
    SendKeepalive(now);
    return;
  }
  // 4.9: only when nothing else went to the HA for K.
  const Timestamp due = last_sent_to_ha_ + binding_->keepalive_interval;
  if (due > now) {
    timers_.Set(Timer::kKeepalive, due);
    return;
  }
  SendKeepalive(now);
}

}  // namespace mipsec::mip4
