#include "mip4/fa/foreign_agent.h"

#include <algorithm>
#include <utility>

#include "common/bug.h"
#include "common/ip/icmp.h"
#include "common/ip/ipip.h"
#include "common/ip/ipv4.h"
#include "common/wire/writer.h"
#include "mip4/codec/agent_advertisement.h"
#include "mip4/codec/agent_solicitation.h"
#include "mip4/codec/auth_extension.h"
#include "mip4/codec/builder.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/nai_extension.h"
#include "mip4/codec/registration_extensions.h"
#include "mip4/codec/rules.h"
#include "mip4/codec/tunnel_data.h"
#include "mip4/codec/udp_tunnel_reply.h"
#include "mip4/codec/udp_tunnel_request.h"
#include "mip4/security/replay.h"

namespace mipsec::mip4 {

namespace {

constexpr std::uint8_t Code(ReplyCode c) { return static_cast<std::uint8_t>(c); }

// RFC 3519 4.9 keepalives: ICMP echo requests with this identifier.
constexpr std::uint16_t kKeepaliveEchoId = 0x4d34;

Timestamp LifetimeEnd(Timestamp now, std::uint16_t seconds) {
  return seconds == kInfiniteLifetime ? Timestamp::Infinite() : now + Duration::Seconds(seconds);
}

std::string NaiOf(const ExtensionList& ext) {
  if (const Extension* e = ext.First(kExtNai)) return DecodeNai(*e).value_or("");
  return "";
}

// RFC 5944 3.7.3: the "home agent unreachable" code for an ICMP error.
std::uint8_t UnreachableCode(const ip::IcmpMessage& icmp) {
  if (icmp.type == ip::kIcmpDestinationUnreachable) {
    switch (icmp.code) {
      case ip::kIcmpNetUnreachable:
      case 6:   // destination network unknown
      case 11:  // network unreachable for TOS
        return Code(ReplyCode::kFaHomeNetworkUnreachable);
      case ip::kIcmpHostUnreachable:
      case 7:   // destination host unknown
      case 12:  // host unreachable for TOS
        return Code(ReplyCode::kFaHaHostUnreachable);
      case ip::kIcmpPortUnreachable:
        return Code(ReplyCode::kFaHaPortUnreachable);
      default:
        break;
    }
  }
  return Code(ReplyCode::kFaHaUnreachable);
}

}  // namespace

std::string_view FaDropName(FaDrop d) {
  switch (d) {
    case FaDrop::kNotServedInterface: return "request on a link not served";
    case FaDrop::kMalformedRequest: return "malformed request";
    case FaDrop::kUnrecognizedExtension: return "unrecognized non-skippable extension";
    case FaDrop::kUnknownMessage: return "unknown message";
    case FaDrop::kMnFaAuthFailed: return "MN-FA authentication failed";
    case FaDrop::kDenialRateLimited: return "denial rate limited";
    case FaDrop::kUnmatchedReply: return "reply matches no pending request";
    case FaDrop::kFaHaAuthFailed: return "FA-HA authentication failed";
    case FaDrop::kMalformedReply: return "malformed reply";
    case FaDrop::kBadSolicitation: return "bad solicitation";
    case FaDrop::kUnmatchedIcmpError: return "ICMP error about nothing relayed";
    case FaDrop::kPacketMalformed: return "malformed packet";
    case FaDrop::kNotCareOfAddress: return "tunnel not to a care-of address";
    case FaDrop::kNoVisitor: return "no such visitor";
    case FaDrop::kWrongTunnel: return "not the visitor's tunnel";
    case FaDrop::kNotFromVisitor: return "encapsulated delivery not from a visitor";
    case FaDrop::kTtlExpired: return "TTL expired";
    case FaDrop::kTooBig: return "too big for the tunnel";
    case FaDrop::kTunnelLoop: return "tunnel loop";
    case FaDrop::kCount: break;
  }
  return "?";
}

std::string_view FaEventKindName(FaEvent::Kind k) {
  switch (k) {
    case FaEvent::Kind::kVisitorPending: return "visitor pending";
    case FaEvent::Kind::kVisitorActive: return "visitor active";
    case FaEvent::Kind::kVisitorRemoved: return "visitor removed";
  }
  return "?";
}

struct ForeignAgent::Request {
  const UdpReceived& d;
  Link& link;
  ParsedRegistrationRequest parsed;
  VisitorKey key;
  std::optional<std::uint32_t> mn_fa_spi;
  bool encapsulating_delivery = false;
};

// ---- Construction ----

Status ForeignAgent::ValidateOptions(const ForeignAgentOptions& o) {
  auto bad = [](std::string detail) { return Error(Errc::kInvalidArgument, std::move(detail)); };
  if (o.interfaces.empty()) return bad("interfaces: at least one served link is needed");
  for (std::size_t i = 0; i < o.interfaces.size(); ++i) {
    const FaInterface& f = o.interfaces[i];
    const std::string at = "interfaces[" + std::to_string(i) + "].";
    if (f.ifindex <= 0) return bad(at + "ifindex must be positive");
    for (std::size_t j = 0; j < i; ++j) {
      if (o.interfaces[j].ifindex == f.ifindex) return bad(at + "ifindex is listed twice");
    }
    if (!f.address.IsUnicast()) return bad(at + "address must be a unicast address");
    // RFC 5944 2.1.1: at least one care-of address with 'F'; at most 62 fit.
    if (f.care_of_addresses.empty() ||
        f.care_of_addresses.size() > MobilityAgentExtension::kMaxCareOfAddresses) {
      return bad(at + "care_of_addresses: 1 to 62 needed (RFC 5944 2.1.1)");
    }
    for (const Ipv4Address& a : f.care_of_addresses) {
      if (!a.IsUnicast()) return bad(at + "care_of_addresses: " + a.ToString() + " is not unicast");
    }
    if (f.prefix_length && (*f.prefix_length < 0 || *f.prefix_length > 32)) {
      return bad(at + "prefix_length must be 0..32");
    }
    // RFC 5944 2.1 / RFC 1256: all-systems or limited broadcast.
    if (f.advertisement_address != Ipv4Address::AllSystems() &&
        !f.advertisement_address.IsLimitedBroadcast()) {
      return bad(at + "advertisement_address must be 224.0.0.1 or 255.255.255.255 (RFC 5944 2.1)");
    }
  }
  MIPSEC_TRY(ValidateAdvertisementTiming(o.advertisement));
  if (o.advertisement_lifetime != 0) {
    MIPSEC_TRY(ValidateAdvertisementLifetime(o.advertisement, o.advertisement_lifetime));
  }
  if (o.max_registration_lifetime == 0) return bad("max_registration_lifetime must be positive");
  if (o.reverse_tunnel_mandatory && !o.reverse_tunnelling) {
    return bad("reverse_tunnel_mandatory needs reverse_tunnelling");
  }
  if (o.force_udp_tunnelling && !o.behind_nat) {
    return bad("force_udp_tunnelling needs behind_nat (RFC 3519 4.5)");
  }
  if (o.udp_keepalive_interval == 0) return bad("udp_keepalive_interval must be positive");
  if (o.max_visitors == 0) return bad("max_visitors must be positive");
  if (o.max_pending == 0) return bad("max_pending must be positive");
  if (o.pending_timeout <= Duration::Zero()) return bad("pending_timeout must be positive");
  if (o.tunnel_mtu < 68 + ip::kIpipOverhead) return bad("tunnel_mtu must be at least 88");
  if (o.denial_interval < Duration::Zero()) return bad("denial_interval must not be negative");
  return Ok{};
}

Result<std::unique_ptr<ForeignAgent>> ForeignAgent::Create(ForeignAgentOptions options,
                                                            SaDatabase& sas, RandomSource& rng,
                                                            Logger logger) {
  MIPSEC_TRY(ValidateOptions(options));
  if (options.advertisement_lifetime == 0) {
    options.advertisement_lifetime = MinAdvertisementLifetime(options.advertisement);
  }
  return std::unique_ptr<ForeignAgent>(
      new ForeignAgent(std::move(options), sas, rng, std::move(logger)));
}

ForeignAgent::ForeignAgent(ForeignAgentOptions options, SaDatabase& sas, RandomSource& rng,
                           Logger logger)
    : options_(std::move(options)), sas_(&sas), rng_(rng), log_(std::move(logger)) {
  links_.reserve(options_.interfaces.size());
  for (const FaInterface& f : options_.interfaces) {
    links_.push_back(Link{f, AdvertisementSchedule(options_.advertisement)});
  }
}

Status ForeignAgent::AddHomeAgentSa(Ipv4Address ha, SecurityAssociation sa) {
  // The first SA added per HA is the one requests are authenticated with
  // (SaDatabase::FirstPeerSpi).
  return sas_->AddPeerSa(ha, std::move(sa));
}

Status ForeignAgent::Reconfigure(Timestamp now, ForeignAgentOptions options, SaDatabase& sas) {
  MIPSEC_TRY(ValidateOptions(options));
  if (!(options.interfaces == options_.interfaces)) {
    return Error(Errc::kInvalidArgument, "interfaces: cannot change on a running foreign agent");
  }
  if (options.advertisement_lifetime == 0) {
    options.advertisement_lifetime = MinAdvertisementLifetime(options.advertisement);
  }
  // Nothing fails from here on.
  if (!(options.advertisement == options_.advertisement)) {
    for (Link& l : links_) l.schedule.SetTiming(options.advertisement, now);
  }
  sas_ = &sas;
  options_ = std::move(options);
  return Ok{};
}

// ---- Helpers ----

void ForeignAgent::EnsureStarted(Timestamp now) {
  if (started_) return;
  started_ = true;
  for (Link& l : links_) l.schedule.Start(now);
}

ForeignAgent::Link* ForeignAgent::FindLink(int ifindex) {
  for (Link& l : links_) {
    if (l.config.ifindex == ifindex) return &l;
  }
  return nullptr;
}

const ForeignAgent::Link* ForeignAgent::FindLink(int ifindex) const {
  for (const Link& l : links_) {
    if (l.config.ifindex == ifindex) return &l;
  }
  return nullptr;
}

bool ForeignAgent::IsCareOfAddress(Ipv4Address a) const {
  for (const Link& l : links_) {
    for (const Ipv4Address& c : l.config.care_of_addresses) {
      if (c == a) return true;
    }
  }
  return false;
}

bool ForeignAgent::IsOwnAddress(Ipv4Address a) const {
  for (const Link& l : links_) {
    if (l.config.address == a) return true;
  }
  return IsCareOfAddress(a);
}

FaResult ForeignAgent::Drop(FaDrop reason) {
  ++counters_.drops[static_cast<std::size_t>(reason)];
  MIPSEC_LOG(log_, kDebug) << "dropped: " << FaDropName(reason);
  return FaResult{FaResult::Action::kDropped, reason};
}

void ForeignAgent::EmitEvent(FaEvent::Kind kind, FaEvent::Cause cause, const Visitor& v) {
  FaEvent e;
  e.kind = kind;
  e.cause = cause;
  e.home_address = v.key.home_address;
  e.nai = v.key.nai;
  if (v.active) {
    e.ifindex = v.active->ifindex;
    e.home_agent = v.active->home_agent;
    e.care_of_address = v.active->care_of_address;
    e.colocated = v.active->colocated;
    e.reverse_tunnel = v.active->reverse_tunnel;
    e.udp_tunnel = v.active->udp_tunnel;
    e.lifetime = v.active->granted_lifetime;
  } else if (v.pending) {
    e.ifindex = v.pending->ifindex;
    e.home_agent = v.pending->request.home_agent;
    e.care_of_address = v.pending->request.care_of_address;
    e.colocated = v.pending->request.decapsulation_by_mn;
    e.reverse_tunnel = v.pending->request.reverse_tunnel;
  }
  events_.push_back(std::move(e));
}

Status ForeignAgent::AppendMnFa(MessageBuilder& b, Ipv4Address home, const std::string& nai,
                                std::uint32_t spi) {
  MobileNodeSecurity* mn = home.IsAny() ? nullptr : sas_->FindMobileNode(home);
  if (mn == nullptr && !nai.empty()) mn = sas_->FindMobileNodeByNai(nai);
  SecurityAssociation* sa = mn != nullptr ? sas_->MobileNodeSa(*mn, spi) : nullptr;
  if (sa == nullptr) return Error(Errc::kNotFound, "MN-FA SA " + std::to_string(spi) + " gone");
  return b.AppendAuth(kExtMnFaAuth, sa->spi(), sa->authenticator_size(),
                      [sa](ByteSpan covered) { return sa->Compute(covered); });
}

void ForeignAgent::SendToMn(int ifindex, Ipv4Address mn_destination, Ipv4Endpoint mn_source,
                            Ipv4Address home_address, Bytes payload) {
  // RFC 5944 3.7.2.3: source copied from the request's destination unless
  // that was multicast or broadcast; destination the Home Address, or
  // 255.255.255.255 when it is zero; ports 434 -> the request's source port.
  Ipv4Address source = mn_destination;
  if (!source.IsUnicast() || !IsOwnAddress(source)) {
    if (const Link* l = FindLink(ifindex)) source = l->config.address;
  }
  UdpTransmit t;
  t.local = {source, kMipPort};
  t.remote = {home_address.IsAny() ? Ipv4Address::Broadcast() : home_address, mn_source.port};
  t.ifindex = ifindex;
  t.broadcast = home_address.IsAny();
  t.payload = std::move(payload);
  transmits_.push_back(std::move(t));
}

// ---- Registration Requests (RFC 5944 3.7.2) ----

void ForeignAgent::OnUdp(Timestamp now, const UdpReceived& d) {
  EnsureStarted(now);
  if (d.local.port != kMipPort) {
    Drop(FaDrop::kUnknownMessage);
    return;
  }
  Result<std::uint8_t> type = PeekMessageType(d.payload);
  if (!type.ok()) {
    Drop(FaDrop::kUnknownMessage);
    return;
  }
  switch (*type) {
    case kMsgRegistrationRequest: HandleRequest(now, d, d.ttl); break;
    case kMsgRegistrationReply: HandleReply(now, d); break;
    case kMsgTunnelData: HandleTunnelData(now, d); break;
    default: Drop(FaDrop::kUnknownMessage); break;
  }
}

void ForeignAgent::HandleRequest(Timestamp now, const UdpReceived& d,
                                 std::optional<std::uint8_t> ttl) {
  ++counters_.requests;
  Link* link = FindLink(d.ifindex);
  if (link == nullptr) {
    Drop(FaDrop::kNotServedInterface);
    return;
  }
  Result<ParsedRegistrationRequest> parsed = ParseRegistrationRequest(d.payload);
  if (!parsed.ok()) {
    // RFC 5944 1.8: an unknown extension 0-127 means a silent discard.
    if (IsUnrecognizedExtension(parsed.error())) {
      MIPSEC_LOG(log_, kInfo) << "request from " << d.remote << " discarded: "
                              << parsed.error().detail();
      Drop(FaDrop::kUnrecognizedExtension);
      return;
    }
    // 3.7.2.3: a poorly formed request whose fixed part reads gets 70.
    if (d.payload.size() >= RegistrationRequest::kFixedSize) {
      Result<ParsedRegistrationRequest> fixed =
          ParseRegistrationRequest(d.payload.first(RegistrationRequest::kFixedSize));
      if (fixed.ok()) {
        Request r{d, *link, std::move(*fixed), {}, {}, false};
        r.key = {r.parsed.request.home_address, ""};
        MIPSEC_LOG(log_, kInfo) << "poorly formed request from " << d.remote << ": "
                                << parsed.error().detail();
        Deny(now, r, Code(ReplyCode::kFaPoorlyFormedRequest));
        return;
      }
    }
    Drop(FaDrop::kMalformedRequest);
    return;
  }
  Request r{d, *link, std::move(*parsed), {}, {}, false};
  r.key = {r.parsed.request.home_address, NaiOf(r.parsed.extensions)};
  if (std::optional<std::uint8_t> code = CheckRequest(now, r, ttl)) {
    Deny(now, r, *code);
    return;
  }
  Relay(now, r);
}

std::optional<std::uint8_t> ForeignAgent::CheckRequest(Timestamp now, Request& r,
                                                       std::optional<std::uint8_t> ttl) {
  (void)now;
  const RegistrationRequest& q = r.parsed.request;
  const ExtensionList& ext = r.parsed.extensions;
  // 3.7.2.1: non-zero reserved bits; the extension rules.
  if (q.reserved_r || q.reserved_x) return Code(ReplyCode::kFaPoorlyFormedRequest);
  if (std::optional<Violation> v = Validate(r.parsed)) {
    MIPSEC_LOG(log_, kInfo) << "poorly formed request for " << r.key.ToString() << ": "
                            << v->ToError().detail();
    return Code(ReplyCode::kFaPoorlyFormedRequest);
  }
  const std::size_t mnha = *ext.Find(kExtMnHaAuth);  // Validate() requires it

  // 3.7.2.1: exactly one valid MN-FA when the FA shares an SA with the MN.
  MobileNodeSecurity* mn = q.home_address.IsAny() ? nullptr : sas_->FindMobileNode(q.home_address);
  if (mn == nullptr && !r.key.nai.empty()) mn = sas_->FindMobileNodeByNai(r.key.nai);
  if (mn != nullptr) {
    std::string failure;
    if (ext.Count(kExtMnFaAuth) != 1) {
      failure = std::to_string(ext.Count(kExtMnFaAuth)) + " MN-FA extensions, exactly 1 needed";
      r.mn_fa_spi = mn->sas.front().spi();
    } else {
      Result<AuthCoverage> cov = AuthenticationCoverageOfType(ext, kExtMnFaAuth);
      SecurityAssociation* sa = cov.ok() ? sas_->MobileNodeSa(*mn, cov->spi) : nullptr;
      r.mn_fa_spi = sa != nullptr ? sa->spi() : mn->sas.front().spi();
      if (sa == nullptr) {
        failure = "unknown MN-FA SPI " + std::to_string(cov.ok() ? cov->spi : 0);
      } else if (!sa->Verify(cov->covered, cov->authenticator).ok()) {
        failure = "MN-FA authenticator does not verify (SPI " + std::to_string(sa->spi()) + ")";
      }
    }
    if (!failure.empty()) {
      ++counters_.mn_fa_auth_failures;
      Drop(FaDrop::kMnFaAuthFailed);
      MIPSEC_LOG(log_, kWarning) << "security exception: request for " << r.key.ToString()
                                 << " from " << r.d.remote << ": " << failure;
      return Code(ReplyCode::kFaMnFailedAuthentication);
    }
  } else if (options_.require_mn_fa_sa) {
    MIPSEC_LOG(log_, kInfo) << "no MN-FA SA for " << r.key.ToString();
    return Code(ReplyCode::kFaMnFailedAuthentication);
  }

  // 3.7.2: the Home Agent field is one of the FA's own addresses, and this FA
  // is nobody's home agent.
  if (IsOwnAddress(q.home_agent)) return Code(ReplyCode::kFaInvalidHomeAgentAddress);
  // Nothing to relay to (a dynamically assigned home agent is not supported).
  if (!q.home_agent.IsUnicast()) {
    return Code(ReplyCode::kFaPoorlyFormedRequest);
  }
  // 3.7.2.3.
  if (q.lifetime > options_.max_registration_lifetime) return Code(ReplyCode::kFaLifetimeTooLong);
  // 3.7.2.1: 'D' clear, nonzero Lifetime, care-of address not offered here.
  if (!q.decapsulation_by_mn && q.lifetime != 0 &&
      std::find(r.link.config.care_of_addresses.begin(), r.link.config.care_of_addresses.end(),
                q.care_of_address) == r.link.config.care_of_addresses.end()) {
    return Code(ReplyCode::kFaInvalidCareOfAddress);
  }
  // Only IP-in-IP is decapsulated here (RFC 3024 4.2.1: 72).
  if (q.minimal_encapsulation || q.gre) return Code(ReplyCode::kFaEncapsulationUnavailable);
  // RFC 3115: a CVSE after the MN-HA extension is for the FA, which
  // understands none.
  for (std::size_t i = mnha + 1; i < ext.size(); ++i) {
    if (ext[i].type == kExtCvse) return Code(ReplyCode::kFaCvseFromMnUnsupported);
  }
  // RFC 3024 4.2.1, in its order.
  r.encapsulating_delivery = ext.Find(kExtDeliveryStyle).has_value();
  if (r.encapsulating_delivery && !options_.encapsulating_delivery) {
    return Code(ReplyCode::kFaDeliveryStyleUnsupported);
  }
  if (!q.reverse_tunnel && options_.reverse_tunnel_mandatory && q.lifetime != 0 &&
      !q.decapsulation_by_mn) {
    return Code(ReplyCode::kFaReverseTunnelMandatory);
  }
  if (q.reverse_tunnel) {
    if (!ttl) {
      ++counters_.ttl_check_skipped;
    } else if (*ttl != 255) {
      return Code(ReplyCode::kFaMnTooDistant);
    }
    if (!options_.reverse_tunnelling) return Code(ReplyCode::kFaReverseTunnelUnavailable);
  }
  // 3.7.1: resources.
  const Visitor* existing = visitors_.Find(r.key);
  if (existing == nullptr && visitors_.size() >= options_.max_visitors) {
    return Code(ReplyCode::kFaInsufficientResources);
  }
  if ((existing == nullptr || !existing->pending) &&
      visitors_.pending_count() >= options_.max_pending) {
    return Code(ReplyCode::kFaInsufficientResources);
  }
  if (options_.require_fa_ha_sa && !sas_->FirstPeerSpi(q.home_agent)) {
    MIPSEC_LOG(log_, kInfo) << "no FA-HA SA with home agent " << q.home_agent;
    return Code(ReplyCode::kFaAdministrativelyProhibited);
  }
  return std::nullopt;
}

void ForeignAgent::Relay(Timestamp now, Request& r) {
  const RegistrationRequest& q = r.parsed.request;
  const ExtensionList& ext = r.parsed.extensions;
  // 3.7.2.2: unchanged through the MN-HA extension; what follows is the
  // FA's and is consumed (RFC 3024 3.3: the delivery style too).
  const std::size_t prefix_end = ext[*ext.Find(kExtMnHaAuth)].end();
  MessageBuilder b = MessageBuilder::Continue(r.d.payload.first(prefix_end));

  const std::vector<Ipv4Address>& coas = r.link.config.care_of_addresses;
  const bool coa_is_ours = std::find(coas.begin(), coas.end(), q.care_of_address) != coas.end();
  const Ipv4Address source = (!q.decapsulation_by_mn && coa_is_ours) ? q.care_of_address
                                                                     : coas.front();
  // RFC 3519 4.5: an FA behind a NAT asks for UDP tunnelling for its own
  // care-of address, never for a co-located one.
  const bool udp_request = options_.behind_nat && !q.decapsulation_by_mn;
  if (udp_request) {
    b.AppendUdpTunnelRequest({.force = options_.force_udp_tunnelling,
                              .encapsulation = kEncapIpInIp});
  }
  // 3.5.4, 3.7.2.2: FA-HA when an SA exists, not on a deregistration, and
  // only for a care-of address of this FA.
  const bool deregistration = q.lifetime == 0 || q.home_address == q.care_of_address;
  bool fa_ha = false;
  if (!deregistration && !q.decapsulation_by_mn && coa_is_ours) {
    if (const std::optional<std::uint32_t> spi = sas_->FirstPeerSpi(q.home_agent)) {
      SecurityAssociation* sa = sas_->PeerSa(q.home_agent, *spi);
      if (sa != nullptr) {
        Status s = b.AppendAuth(kExtFaHaAuth, sa->spi(), sa->authenticator_size(),
                                [sa](ByteSpan covered) { return sa->Compute(covered); });
        if (!s.ok()) {
          MIPSEC_LOG(log_, kError) << "FA-HA authenticator: " << s.error().detail();
          Deny(now, r, Code(ReplyCode::kFaUnspecified));
          return;
        }
        fa_ha = true;
      }
    }
  }

  UdpTransmit t;
  t.local = {source, kMipPort};
  t.remote = {q.home_agent, kMipPort};
  t.payload = std::move(b).Take();
  transmits_.push_back(std::move(t));
  ++counters_.requests_relayed;

  Visitor& v = visitors_.FindOrInsert(r.key);
  const bool is_new = !v.active && !v.pending;
  PendingRegistration p;
  p.request = q;
  p.ifindex = r.d.ifindex;
  p.mn_source = r.d.remote;
  p.mn_destination = r.d.local.address;
  p.relay_source = source;
  p.mn_fa_spi = r.mn_fa_spi;
  p.encapsulating_delivery = r.encapsulating_delivery;
  p.udp_tunnel_requested = udp_request;
  p.fa_ha_authenticated = fa_ha;
  p.relayed = now;
  // 3.7.1 (7 s, then 78) and 3.7.2.2 (the requested lifetime, if shorter).
  Duration wait = options_.pending_timeout;
  if (q.lifetime != 0) wait = std::min(wait, Duration::Seconds(q.lifetime));
  p.deadline = now + wait;
  v.pending = std::move(p);
  visitors_.Update(v);
  MIPSEC_LOG(log_, kInfo) << "relayed request for " << v.key.ToString() << " to " << q.home_agent
                          << " lifetime " << q.lifetime << (fa_ha ? " with FA-HA" : "");
  if (is_new) EmitEvent(FaEvent::Kind::kVisitorPending, FaEvent::Cause::kRelayed, v);
}

void ForeignAgent::Deny(Timestamp now, const Request& r, std::uint8_t code) {
  // 3.7.2: at most one denial per second to one mobile node (RFC 3024
  // 4.2.1 for 76 too).
  if (auto it = last_denial_.find(r.d.remote);
      it != last_denial_.end() && now - it->second < options_.denial_interval) {
    Drop(FaDrop::kDenialRateLimited);
    return;
  }
  if (last_denial_.size() >= 4096) {
    std::erase_if(last_denial_, [&](const auto& kv) {
      return now - kv.second >= options_.denial_interval;
    });
  }
  last_denial_[r.d.remote] = now;

  const RegistrationRequest& q = r.parsed.request;
  // 3.7.2.3: Home Address, Home Agent and Identification copied; Lifetime
  // copied, or the FA's maximum with 69.
  RegistrationReply rep;
  rep.code = code;
  rep.lifetime = code == Code(ReplyCode::kFaLifetimeTooLong) ? options_.max_registration_lifetime
                                                             : q.lifetime;
  rep.home_address = q.home_address;
  rep.home_agent = q.home_agent;
  rep.identification = q.identification;
  MessageBuilder b = MessageBuilder::Reply(rep);
  // 3.7.1: MN-FA on every reply to an MN the FA shares an SA with.
  if (r.mn_fa_spi) {
    if (Status s = AppendMnFa(b, q.home_address, r.key.nai, *r.mn_fa_spi); !s.ok()) {
      MIPSEC_LOG(log_, kError) << "MN-FA on denial: " << s.error().detail();
    }
  }
  SendToMn(r.d.ifindex, r.d.local.address, r.d.remote, q.home_address, std::move(b).Take());
  ++counters_.denials;
  ++counters_.denials_by_code[code];
  MIPSEC_LOG(log_, kInfo) << "denied request for " << r.key.ToString() << " from " << r.d.remote
                          << ": " << static_cast<int>(code) << " " << ReplyCodeName(code);
}

// ---- Registration Replies (RFC 5944 3.7.3) ----

Visitor* ForeignAgent::FindPending(const RegistrationReply& rep, const std::string& nai) {
  const std::uint32_t low = IdentificationLow(rep.identification);
  auto matches = [&](const Visitor* v) {
    return v->pending && IdentificationLow(v->pending->request.identification) == low;
  };
  // 3.7.3.1: by home address, the NAI telling apart entries that share it.
  for (Visitor* v : visitors_.FindByHome(rep.home_address)) {
    if (!v->pending) continue;
    if (!nai.empty() && v->key.nai != nai) continue;
    if (matches(v)) return v;
  }
  // RFC 2794 3: a pending request with a zero home address, by NAI.
  if (!nai.empty()) {
    Visitor* v = visitors_.Find(VisitorKey{Ipv4Address::Any(), nai});
    if (v != nullptr && matches(v)) return v;
  }
  return nullptr;
}

void ForeignAgent::HandleReply(Timestamp now, const UdpReceived& d) {
  ++counters_.replies;
  Result<ParsedRegistrationReply> parsed = ParseRegistrationReply(d.payload);
  if (!parsed.ok()) {
    if (IsUnrecognizedExtension(parsed.error())) {
      Drop(FaDrop::kUnrecognizedExtension);
      return;
    }
    // 71 to the visitor whose pending request it answers, if that can be told.
    Drop(FaDrop::kMalformedReply);
    if (d.payload.size() >= RegistrationReply::kFixedSize) {
      Result<ParsedRegistrationReply> fixed =
          ParseRegistrationReply(d.payload.first(RegistrationReply::kFixedSize));
      if (fixed.ok()) {
        if (Visitor* v = FindPending(fixed->reply, "")) {
          MIPSEC_LOG(log_, kInfo) << "poorly formed reply from " << d.remote << ": "
                                  << parsed.error().detail();
          DenyPending(now, *v, Code(ReplyCode::kFaPoorlyFormedReply), FaEvent::Cause::kDenied);
        }
      }
    }
    return;
  }
  const RegistrationReply& rep = parsed->reply;
  const ExtensionList& ext = parsed->extensions;
  const std::string nai = NaiOf(ext);
  Visitor* v = FindPending(rep, nai);
  if (v == nullptr) {
    MIPSEC_LOG(log_, kInfo) << "reply for " << rep.home_address << " from " << d.remote
                            << " matches no pending request";
    Drop(FaDrop::kUnmatchedReply);
    return;
  }
  if (std::optional<Violation> viol = Validate(*parsed)) {
    MIPSEC_LOG(log_, kInfo) << "poorly formed reply for " << v->key.ToString() << ": "
                            << viol->ToError().detail();
    Drop(FaDrop::kMalformedReply);
    DenyPending(now, *v, Code(ReplyCode::kFaPoorlyFormedReply), FaEvent::Cause::kDenied);
    return;
  }
  // 3.7.1, 3.7.3.1: exactly one valid FA-HA when the FA shares an SA with
  // the HA (selected by the reply's Home Agent field, 3.5.4), authenticated
  // the request with it ("in this case", 3.7.1: not a deregistration, the
  // FA's own care-of address) and the Lifetime is nonzero.
  const bool p_fa_ha = v->pending->fa_ha_authenticated;
  if (p_fa_ha && sas_->FirstPeerSpi(rep.home_agent) && rep.lifetime != 0) {
    std::string failure;
    if (ext.Count(kExtFaHaAuth) != 1) {
      failure = std::to_string(ext.Count(kExtFaHaAuth)) + " FA-HA extensions, exactly 1 needed";
    } else {
      Result<AuthCoverage> cov = AuthenticationCoverageOfType(ext, kExtFaHaAuth);
      SecurityAssociation* sa = cov.ok() ? sas_->PeerSa(rep.home_agent, cov->spi) : nullptr;
      if (sa == nullptr) {
        failure = "unknown FA-HA SPI " + std::to_string(cov.ok() ? cov->spi : 0);
      } else if (!sa->Verify(cov->covered, cov->authenticator).ok()) {
        failure = "FA-HA authenticator does not verify (SPI " + std::to_string(sa->spi()) + ")";
      }
    }
    if (!failure.empty()) {
      ++counters_.fa_ha_auth_failures;
      Drop(FaDrop::kFaHaAuthFailed);
      MIPSEC_LOG(log_, kWarning) << "security exception: reply from " << d.remote << " for "
                                 << v->key.ToString() << ": " << failure;
      DenyPending(now, *v, Code(ReplyCode::kFaHaFailedAuthentication), FaEvent::Cause::kDenied);
      return;
    }
  }
  // RFC 2794 3.
  if (!v->key.nai.empty() && nai.empty()) {
    DenyPending(now, *v, Code(ReplyCode::kFaMissingNai), FaEvent::Cause::kDenied);
    return;
  }
  if (rep.accepted() && rep.home_agent.IsAny()) {
    DenyPending(now, *v, Code(ReplyCode::kFaMissingHomeAgent), FaEvent::Cause::kDenied);
    return;
  }
  if (rep.accepted() && rep.home_address.IsAny()) {
    DenyPending(now, *v, Code(ReplyCode::kFaMissingHomeAddress), FaEvent::Cause::kDenied);
    return;
  }
  // RFC 3115: a CVSE after the MN-HA extension is for the FA.
  const std::optional<std::size_t> mnha = ext.Find(kExtMnHaAuth);
  for (std::size_t i = mnha ? *mnha + 1 : 0; i < ext.size(); ++i) {
    if (ext[i].type == kExtCvse) {
      DenyPending(now, *v, Code(ReplyCode::kFaCvseFromHaUnsupported), FaEvent::Cause::kDenied);
      return;
    }
  }
  const PendingRegistration p = *v->pending;
  // RFC 3519 3.2: did the HA assent to the UDP tunnel the FA asked for?
  bool udp = false;
  std::uint16_t keepalive = 0;
  if (p.udp_tunnel_requested && rep.accepted()) {
    if (const Extension* e = ext.First(kExtUdpTunnelReply)) {
      Result<UdpTunnelReply> utr = DecodeUdpTunnelReply(*e);
      if (utr.ok() && utr->assents()) {
        udp = true;
        keepalive = utr->keepalive_interval != 0 ? utr->keepalive_interval
                                                 : options_.udp_keepalive_interval;
      }
    }
  }

  // 3.7.3.2: relay unchanged through MN-HA, drop the rest (FA-HA and
  // anything for the FA), append MN-FA when shared.
  const std::size_t prefix_end = mnha ? ext[*mnha].end() : RegistrationReply::kFixedSize;
  MessageBuilder b = MessageBuilder::Continue(d.payload.first(prefix_end));
  if (p.mn_fa_spi) {
    if (Status s = AppendMnFa(b, p.request.home_address, v->key.nai, *p.mn_fa_spi); !s.ok()) {
      MIPSEC_LOG(log_, kError) << "MN-FA on reply: " << s.error().detail();
    }
  }
  SendToMn(p.ifindex, p.mn_destination, p.mn_source, rep.home_address, std::move(b).Take());
  ++counters_.replies_relayed;
  MIPSEC_LOG(log_, kInfo) << "relayed reply " << static_cast<int>(rep.code) << " for "
                          << v->key.ToString() << " lifetime " << rep.lifetime;

  if (!rep.accepted()) {
    // 3.7.2, 3.7.3.2: a denial removes the pending request only.
    v->pending.reset();
    SettleAfterPending(*v, FaEvent::Cause::kDenied);
    return;
  }
  if (rep.lifetime == 0) {
    // 3.7.3.2: deregistered.
    RemoveActive(*v);
    v->pending.reset();
    EmitEvent(FaEvent::Kind::kVisitorRemoved, FaEvent::Cause::kDeregistered, *v);
    visitors_.Erase(v->key);
    return;
  }
  // 3.4, 3.7.3.2: never longer than requested nor than the FA's maximum;
  // timed from now, when the reply is forwarded.
  const std::uint16_t granted = std::min(
      {rep.lifetime, p.request.lifetime, options_.max_registration_lifetime});
  ActiveRegistration a;
  a.home_agent = rep.home_agent;
  a.care_of_address = p.request.care_of_address;
  a.ifindex = p.ifindex;
  a.mn_source = p.mn_source;
  a.colocated = p.request.decapsulation_by_mn;
  a.reverse_tunnel = p.request.reverse_tunnel;
  a.encapsulating_delivery = p.encapsulating_delivery;
  a.udp_tunnel = udp;
  a.keepalive_interval = keepalive;
  a.granted_lifetime = granted;
  a.mn_fa_spi = p.mn_fa_spi;
  a.expires = LifetimeEnd(now, granted);
  RemoveActive(*v);
  v->pending.reset();
  const VisitorKey to{rep.home_address, v->key.nai};
  if (to != v->key) {
    // RFC 2794: the home address assigned to an NAI request.
    if (Visitor* old = visitors_.Find(to)) RemoveActive(*old);
    v = &visitors_.Rekey(v->key, to);
  }
  TunnelUp(a, now);
  v->active = a;
  visitors_.Update(*v);
  EmitEvent(FaEvent::Kind::kVisitorActive, FaEvent::Cause::kAccepted, *v);
}

void ForeignAgent::DenyPending(Timestamp now, Visitor& v, std::uint8_t code,
                               FaEvent::Cause cause) {
  (void)now;
  const PendingRegistration p = *v.pending;
  RegistrationReply rep;
  rep.code = code;
  rep.lifetime = p.request.lifetime;
  rep.home_address = p.request.home_address;
  rep.home_agent = p.request.home_agent;
  rep.identification = p.request.identification;
  MessageBuilder b = MessageBuilder::Reply(rep);
  if (p.mn_fa_spi) {
    if (Status s = AppendMnFa(b, p.request.home_address, v.key.nai, *p.mn_fa_spi); !s.ok()) {
      MIPSEC_LOG(log_, kError) << "MN-FA on denial: " << s.error().detail();
    }
  }
  SendToMn(p.ifindex, p.mn_destination, p.mn_source, p.request.home_address,
           std::move(b).Take());
  ++counters_.denials;
  ++counters_.denials_by_code[code];
  MIPSEC_LOG(log_, kInfo) << "denied pending request for " << v.key.ToString() << ": "
                          << static_cast<int>(code) << " " << ReplyCodeName(code);
  v.pending.reset();
  SettleAfterPending(v, cause);
}

void ForeignAgent::SettleAfterPending(Visitor& v, FaEvent::Cause cause) {
  if (v.active) {
    visitors_.Update(v);
    return;
  }
  EmitEvent(FaEvent::Kind::kVisitorRemoved, cause, v);
  visitors_.Erase(v.key);
}

void ForeignAgent::RemoveActive(Visitor& v) {
  if (!v.active) return;
  TunnelDown(*v.active);
  v.active.reset();
}

// ---- ICMP: solicitations (RFC 5944 2.3) and errors (3.7.3) ----

void ForeignAgent::OnIcmp(Timestamp now, int ifindex, ByteSpan packet) {
  EnsureStarted(now);
  Result<ip::Ipv4Packet> pkt = ip::ParseIpv4(packet);
  if (!pkt.ok() || pkt->header.protocol != ip::kProtoIcmp || pkt->header.IsFragment()) {
    Drop(FaDrop::kPacketMalformed);
    return;
  }
  Result<ip::IcmpMessage> icmp = ip::ParseIcmp(pkt->payload);
  if (!icmp.ok()) {
    Drop(FaDrop::kPacketMalformed);
    return;
  }
  if (icmp->type == ip::kIcmpRouterSolicitation) {
    HandleSolicitation(now, ifindex, pkt->header.src, pkt->payload);
  } else if (icmp->IsError()) {
    HandleIcmpError(now, *icmp);
  }
  // Other ICMP messages are not the FA's business.
}

void ForeignAgent::HandleSolicitation(Timestamp now, int ifindex, Ipv4Address source,
                                      ByteSpan icmp_message) {
  Link* link = FindLink(ifindex);
  // RFC 1256 4.2 checks (code, length, checksum); RFC 5944 2.3: the source
  // need not be a neighbour.
  if (link == nullptr || !ParseAgentSolicitation(icmp_message).ok()) {
    Drop(FaDrop::kBadSolicitation);
    return;
  }
  ++counters_.solicitations;
  if (source.IsUnicast()) {
    // RFC 5944 2.1: unicast to the soliciting MN's (home) address, on-link.
    SendAdvertisement(*link, source, true);
  } else {
    link->schedule.OnSolicitation(now, rng_);
  }
}

void ForeignAgent::HandleIcmpError(Timestamp now, const ip::IcmpMessage& icmp) {
  Result<ip::Ipv4Packet> quote = ip::ParseIcmpQuote(icmp);
  if (!quote.ok() || quote->header.protocol != ip::kProtoUdp || quote->payload.size() < 8 ||
      wire::LoadU16(quote->payload, 2) != kMipPort) {
    Drop(FaDrop::kUnmatchedIcmpError);
    return;
  }
  const Ipv4Address ha = quote->header.dst;
  const Ipv4Address relay_source = quote->header.src;
  // Routers often quote more than 8 bytes: then the Home Address (MIP
  // offset 4) and Identification (16..24) narrow the match.
  const ByteSpan mip = quote->payload.subspan(8);
  std::optional<Ipv4Address> home;
  std::optional<std::uint64_t> id;
  if (mip.size() >= 8 && mip[0] == kMsgRegistrationRequest) {
    home = Ipv4Address::FromHostOrder(wire::LoadU32(mip, 4));
    if (mip.size() >= 24) {
      id = static_cast<std::uint64_t>(wire::LoadU32(mip, 16)) << 32 | wire::LoadU32(mip, 20);
    }
  }
  std::vector<VisitorKey> hit;
  visitors_.ForEach([&](const Visitor& v) {
    if (!v.pending || v.pending->request.home_agent != ha ||
        v.pending->relay_source != relay_source) {
      return;
    }
    if (home && v.pending->request.home_address != *home) return;
    if (id && v.pending->request.identification != *id) return;
    hit.push_back(v.key);
  });
  if (hit.empty()) {
    Drop(FaDrop::kUnmatchedIcmpError);
    return;
  }
  const std::uint8_t code = UnreachableCode(icmp);
  MIPSEC_LOG(log_, kInfo) << "ICMP error type " << static_cast<int>(icmp.type) << " code "
                          << static_cast<int>(icmp.code) << " about home agent " << ha;
  for (const VisitorKey& k : hit) {
    if (Visitor* v = visitors_.Find(k)) DenyPending(now, *v, code, FaEvent::Cause::kHaUnreachable);
  }
}

// ---- Advertisements (RFC 5944 2.1, 2.3) ----

Result<Bytes> ForeignAgent::BuildAdvertisement(int ifindex) const {
  const Link* link = FindLink(ifindex);
  if (link == nullptr) {
    return Error(Errc::kNotFound, "no served interface " + std::to_string(ifindex));
  }
  return BuildAgentAdvertisement(AdvertisementFor(*link, link->schedule.next_sequence()));
}

AgentAdvertisement ForeignAgent::AdvertisementFor(const Link& link, std::uint16_t seq) const {
  AgentAdvertisement adv;
  adv.code = options_.routes_common_traffic ? kAdvCodeRoutesCommonTraffic
                                            : kAdvCodeNoCommonTraffic;
  adv.lifetime = options_.advertisement_lifetime;
  adv.routers = {{link.config.address, 0}};  // 2.3.1: its own address
  MobilityAgentExtension& m = adv.mobility;
  m.sequence = seq;
  m.registration_lifetime = options_.max_registration_lifetime;
  m.registration_required = options_.registration_required;
  m.busy = busy();
  m.foreign_agent = true;
  m.reverse_tunnel = options_.reverse_tunnelling;
  // RFC 3519 3.4: 'U' only from an FA behind a NAT.
  m.udp_tunnel = options_.behind_nat;
  m.care_of_addresses = link.config.care_of_addresses;
  std::size_t size = 8 + 8 * adv.routers.size() + 8 + 4 * m.care_of_addresses.size();
  if (link.config.prefix_length) {
    adv.prefix_lengths = std::vector<std::uint8_t>{
        static_cast<std::uint8_t>(*link.config.prefix_length)};
    size += 2 + adv.routers.size();
  }
  adv.padding = size % 2 == 1;  // 2.1.3
  return adv;
}

void ForeignAgent::SendAdvertisement(Link& link, Ipv4Address dst, bool unicast) {
  const AgentAdvertisement adv = AdvertisementFor(link, link.schedule.TakeSequence());
  Result<Bytes> pkt = BuildAgentAdvertisementPacket(link.config.address, dst, adv, next_ip_id_++);
  if (MIPSEC_BUG_IF(!pkt.ok(), "agent advertisement does not encode")) return;
  IpTransmit t;
  t.ifindex = link.config.ifindex;
  if (unicast) t.link_next_hop = dst;
  t.packet = std::move(*pkt);
  transmits_.push_back(std::move(t));
  ++counters_.advertisements;
}

// ---- Timers ----

void ForeignAgent::OnTimeout(Timestamp now) {
  EnsureStarted(now);
  for (Link& l : links_) {
    if (l.schedule.Due(now)) {
      SendAdvertisement(l, l.config.advertisement_address, false);
      l.schedule.OnMulticastSent(now, rng_);
    }
  }
  while (Visitor* v = visitors_.Expired(now)) {
    if (v->pending && v->pending->deadline <= now) {
      // 3.7.1: pending too long: 78; 3.7.2.2: its lifetime ran out.
      ++counters_.pending_timeouts;
      DenyPending(now, *v, Code(ReplyCode::kFaRegistrationTimeout),
                  FaEvent::Cause::kPendingTimeout);
      continue;
    }
    // The registration lifetime ran out (3.7: no message is sent).
    ++counters_.visitors_expired;
    MIPSEC_LOG(log_, kInfo) << "visitor " << v->key.ToString() << " expired";
    if (v->pending) {
      RemoveActive(*v);
      visitors_.Update(*v);
      continue;
    }
    EmitEvent(FaEvent::Kind::kVisitorRemoved, FaEvent::Cause::kExpired, *v);
    RemoveActive(*v);
    visitors_.Erase(v->key);
  }
  for (auto& [ends, t] : udp_tunnels_) {
    if (now >= t.last_sent + Duration::Seconds(t.keepalive_interval)) SendKeepalive(now, ends, t);
  }
}

Timestamp ForeignAgent::NextTimeout() const {
  if (!started_) return Timestamp::Zero();
  Timestamp t = visitors_.NextDeadline();
  for (const Link& l : links_) t = std::min(t, l.schedule.NextDue());
  for (const auto& [ends, u] : udp_tunnels_) {
    t = std::min(t, u.last_sent + Duration::Seconds(u.keepalive_interval));
  }
  return t;
}

std::optional<Transmit> ForeignAgent::PollTransmit() {
  if (transmits_.empty()) return std::nullopt;
  Transmit t = std::move(transmits_.front());
  transmits_.pop_front();
  return t;
}

std::optional<FaEvent> ForeignAgent::PollEvent() {
  if (events_.empty()) return std::nullopt;
  FaEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

std::optional<ActiveRegistration> ForeignAgent::ActiveVisitor(Ipv4Address home) const {
  std::optional<ActiveRegistration> out;
  visitors_.ForEach([&](const Visitor& v) {
    if (!out && v.key.home_address == home && v.active) out = v.active;
  });
  return out;
}

// ---- Data plane (RFC 5944 4.2.2, RFC 3024 5, RFC 3519 4) ----

FaResult ForeignAgent::OnTunnelPacket(Timestamp now, ByteSpan outer_packet) {
  EnsureStarted(now);
  Result<ip::IpipDecapsulated> dec = ip::IpipDecapsulate(outer_packet);
  if (!dec.ok()) return Drop(FaDrop::kPacketMalformed);
  if (!IsCareOfAddress(dec->outer.dst)) return Drop(FaDrop::kNotCareOfAddress);
  return DeliverToVisitor(dec->outer.src, false, dec->inner_packet);
}

FaResult ForeignAgent::DeliverToVisitor(Ipv4Address outer_source, bool via_udp, ByteSpan inner) {
  Result<ip::Ipv4Packet> pkt = ip::ParseIpv4(inner);
  if (!pkt.ok() || pkt->header.ttl == 0) return Drop(FaDrop::kPacketMalformed);
  const Ipv4Address dst = pkt->header.dst;
  const ActiveRegistration* match = nullptr;
  bool any = false;
  for (Visitor* v : visitors_.FindByHome(dst)) {
    if (!v->active || v->active->colocated) continue;
    any = true;
    // The tunnel must come from the HA the visitor registered with; that
    // also tells apart visitors sharing a private home address.
    if (v->active->home_agent == outer_source) {
      match = &*v->active;
      break;
    }
  }
  // 4.2.2: not a visitor: silently discarded, no ICMP.
  if (match == nullptr) return Drop(any ? FaDrop::kWrongTunnel : FaDrop::kNoVisitor);
  // RFC 3519 4.7: a UDP-tunnelled binding only takes UDP-tunnelled data.
  if (match->udp_tunnel != via_udp) return Drop(FaDrop::kWrongTunnel);
  IpTransmit t;
  t.ifindex = match->ifindex;
  t.link_next_hop = dst;  // on-link, no ARP for the home address (4.2.2)
  t.packet.assign(pkt->datagram.begin(), pkt->datagram.end());
  transmits_.push_back(std::move(t));
  ++counters_.delivered;
  return {};
}

const ActiveRegistration* ForeignAgent::ActiveFromLink(Ipv4Address home, int ifindex) {
  for (Visitor* v : visitors_.FindByHome(home)) {
    if (v->active && !v->active->colocated && v->active->ifindex == ifindex) return &*v->active;
  }
  return nullptr;
}

FaResult ForeignAgent::OnVisitorPacket(Timestamp now, int ifindex, ByteSpan packet) {
  EnsureStarted(now);
  Result<ip::Ipv4Packet> pkt = ip::ParseIpv4(packet);  // 4.2.2: checksum verified
  if (!pkt.ok()) return Drop(FaDrop::kPacketMalformed);
  const ip::Ipv4Header& h = pkt->header;
  if (h.protocol == ip::kProtoIpip && IsOwnAddress(h.dst)) {
    // RFC 3024 5.2: encapsulating delivery, after checking it is the MN's.
    const ActiveRegistration* a = ActiveFromLink(h.src, ifindex);
    if (a == nullptr || !a->reverse_tunnel || !a->encapsulating_delivery) {
      return Drop(FaDrop::kNotFromVisitor);
    }
    Result<ip::IpipDecapsulated> dec = ip::IpipDecapsulate(packet);
    if (!dec.ok()) return Drop(FaDrop::kPacketMalformed);
    if (dec->inner.src != h.src) return Drop(FaDrop::kNotFromVisitor);
    return ReverseTunnel(now, *a, ifindex, dec->inner_packet);
  }
  const ActiveRegistration* a = ActiveFromLink(h.src, ifindex);
  // No reverse tunnel: routed as usual (4.2.2: the FA MUST route visitors'
  // datagrams). RFC 3024 5.2.1: with the encapsulating style, plain
  // datagrams are routed too; 5.1: direct delivery tunnels unicast only.
  if (a == nullptr || !a->reverse_tunnel || a->encapsulating_delivery ||
      !h.dst.IsUnicast() || IsOwnAddress(h.dst)) {
    return FaResult{FaResult::Action::kRoute, std::nullopt};
  }
  return ReverseTunnel(now, *a, ifindex, pkt->datagram);
}

FaResult ForeignAgent::ReverseTunnel(Timestamp now, const ActiveRegistration& a, int ifindex,
                                     ByteSpan inner) {
  const Link* link = FindLink(ifindex);
  const Ipv4Address icmp_source = link != nullptr ? link->config.address : a.care_of_address;
  auto icmp_to_visitor = [&](Bytes datagram) {
    IpTransmit t;
    t.ifindex = a.ifindex;
    t.link_next_hop = ip::ParseIpv4(inner, {.verify_checksum = false})->header.src;
    t.packet = std::move(datagram);
    transmits_.push_back(std::move(t));
  };
  auto time_exceeded = [&]() {
    Result<Bytes> msg = ip::BuildIcmpTimeExceeded(ip::kIcmpTtlExceeded, inner);
    if (msg.ok()) {
      Result<ip::Ipv4Packet> in = ip::ParseIpv4(inner, {.verify_checksum = false});
      Result<Bytes> dg = ip::BuildIcmpPacket(icmp_source, in->header.src, *msg);
      if (dg.ok()) icmp_to_visitor(std::move(*dg));
    }
    return Drop(FaDrop::kTtlExpired);
  };
  if (a.udp_tunnel) {
    // RFC 3519 4.2: IP, UDP, Tunnel Data header, then the datagram, whose
    // TTL is decremented as this is forwarding.
    Bytes copy(inner.begin(), inner.end());
    Result<std::uint8_t> ttl = ip::DecrementTtl(copy);
    if (!ttl.ok()) return Drop(FaDrop::kPacketMalformed);
    if (*ttl == 0) return time_exceeded();
    UdpTransmit t;
    t.local = {a.care_of_address, kMipPort};
    t.remote = {a.home_agent, kMipPort};
    t.payload = BuildTunnelData(kEncapIpInIp, copy);
    transmits_.push_back(std::move(t));
    if (auto it = udp_tunnels_.find({a.care_of_address, a.home_agent}); it != udp_tunnels_.end()) {
      it->second.last_sent = now;  // 4.9: any packet to the HA keeps the NAT state
    }
    ++counters_.reverse_tunnelled_udp;
    return {};
  }
  // RFC 3024 5.1.2 / 5.2.2: from the care-of address to the HA, IP in IP.
  Result<ip::IpipMtuCheck> mtu = ip::IpipCheckMtu(inner, options_.tunnel_mtu, icmp_source);
  if (!mtu.ok()) return Drop(FaDrop::kPacketMalformed);
  if (mtu->verdict == ip::IpipMtuVerdict::kTooBig) {
    if (mtu->icmp) icmp_to_visitor(std::move(*mtu->icmp));
    return Drop(FaDrop::kTooBig);
  }
  ip::IpipEncapsulateOptions o;
  o.identification = next_ip_id_++;
  o.forwarding = true;
  Result<Bytes> outer = ip::IpipEncapsulate(inner, a.care_of_address, a.home_agent, o);
  if (!outer.ok()) {
    switch (outer.error().code()) {
      case Errc::kTimeout: return time_exceeded();
      case Errc::kState: return Drop(FaDrop::kTunnelLoop);
      default: return Drop(FaDrop::kPacketMalformed);
    }
  }
  IpTransmit t;
  t.packet = std::move(*outer);
  transmits_.push_back(std::move(t));
  ++counters_.reverse_tunnelled_ipip;
  return {};
}

void ForeignAgent::HandleTunnelData(Timestamp now, const UdpReceived& d) {
  (void)now;
  Result<TunnelData> td = ParseTunnelData(d.payload);
  if (!td.ok()) {
    Drop(FaDrop::kPacketMalformed);
    return;
  }
  // RFC 3519 4.3: outer addresses and ports must be the tunnel's.
  auto it = udp_tunnels_.find({d.local.address, d.remote.address});
  if (it == udp_tunnels_.end() || d.remote.port != kMipPort) {
    Drop(FaDrop::kWrongTunnel);
    return;
  }
  // 3.3: Next Header must match the tunnelling mode (IP in IP here).
  if (td->next_header != kEncapIpInIp) {
    Drop(FaDrop::kWrongTunnel);
    return;
  }
  Result<ip::Ipv4Packet> inner = ip::ParseIpv4(td->payload);
  if (!inner.ok()) {
    Drop(FaDrop::kPacketMalformed);
    return;
  }
  // 4.9: the HA's answer to our keepalive.
  if (inner->header.protocol == ip::kProtoIcmp && inner->header.dst == d.local.address) {
    Result<ip::IcmpMessage> icmp = ip::ParseIcmp(inner->payload);
    if (icmp.ok() && icmp->type == ip::kIcmpEchoReply &&
        icmp->echo_identifier() == kKeepaliveEchoId) {
      ++counters_.keepalive_replies;
      return;
    }
  }
  (void)DeliverToVisitor(d.remote.address, true, td->payload);
}

void ForeignAgent::TunnelUp(const ActiveRegistration& a, Timestamp now) {
  if (!a.udp_tunnel) return;
  UdpTunnel& t = udp_tunnels_[{a.care_of_address, a.home_agent}];
  if (t.users++ == 0) {
    t.last_sent = now;
    t.keepalive_interval = a.keepalive_interval;
  } else {
    t.keepalive_interval = std::min(t.keepalive_interval, a.keepalive_interval);
  }
}

void ForeignAgent::TunnelDown(const ActiveRegistration& a) {
  if (!a.udp_tunnel) return;
  auto it = udp_tunnels_.find({a.care_of_address, a.home_agent});
  if (it != udp_tunnels_.end() && --it->second.users == 0) udp_tunnels_.erase(it);
}

void ForeignAgent::SendKeepalive(Timestamp now, std::pair<Ipv4Address, Ipv4Address> ends,
                                 UdpTunnel& t) {
  // RFC 3519 4.9: a UDP-encapsulated ICMP echo request to the HA.
  Result<Bytes> echo = ip::BuildIcmpPacket(
      ends.first, ends.second, ip::BuildIcmpEchoRequest(kKeepaliveEchoId, t.echo_sequence++, {}),
      ip::kDefaultTtl, next_ip_id_++);
  if (MIPSEC_BUG_IF(!echo.ok(), "keepalive does not encode")) return;
  UdpTransmit u;
  u.local = {ends.first, kMipPort};
  u.remote = {ends.second, kMipPort};
  u.payload = BuildTunnelData(kEncapIpInIp, *echo);
  transmits_.push_back(std::move(u));
  t.last_sent = now;
  ++counters_.keepalives_sent;
}

}  // namespace mipsec::mip4
