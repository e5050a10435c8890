// Registration processing of the home agent (RFC 5944 3.8; RFC 3024 4.3;
// RFC 3519 4.6; RFC 2794; RFC 3115; RFC 5265 4.3). The data plane is in
// home_agent_data.cc.
#include "mip4/ha/home_agent.h"

#include <algorithm>
#include <utility>

#include "common/bug.h"
#include "common/ip/icmp.h"
#include "common/ip/ipv4.h"
#include "mip4/codec/agent_advertisement.h"
#include "mip4/codec/agent_solicitation.h"
#include "mip4/codec/auth_extension.h"
#include "mip4/codec/builder.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/cvse.h"
#include "mip4/codec/nai_extension.h"
#include "mip4/codec/reply_code.h"
#include "mip4/codec/rules.h"
#include "mip4/codec/udp_tunnel_request.h"

namespace mipsec::mip4 {

namespace {

constexpr std::uint8_t Code(ReplyCode c) { return static_cast<std::uint8_t>(c); }

// The fields of a binding that matter to the runtime (routes, tunnels).
bool SameTunnel(const BindingRecord& a, const BindingRecord& b) {
  constexpr std::uint8_t kMask = static_cast<std::uint8_t>(~BindingRecord::kInWheel);
  return a.care_of_address == b.care_of_address && a.tunnel_address == b.tunnel_address &&
         a.tunnel_port == b.tunnel_port && (a.flags & kMask) == (b.flags & kMask);
}

}  // namespace

std::string_view HaDropName(HaDrop d) {
  switch (d) {
    case HaDrop::kUntrustedSource: return "untrusted source";
    case HaDrop::kMalformedRequest: return "malformed request";
    case HaDrop::kUnrecognizedExtension: return "unrecognized non-skippable extension";
    case HaDrop::kUnknownMessage: return "unknown message type";
    case HaDrop::kNoSecurityAssociation: return "no security association";
    case HaDrop::kNoAuthorizationExtension: return "no authorization-enabling extension";
    case HaDrop::kMnAuthFailed: return "MN-HA authentication failed";
    case HaDrop::kFaHaWithoutSa: return "FA-HA extension without FA-HA SA";
    case HaDrop::kPacketMalformed: return "malformed packet";
    case HaDrop::kNotForHomeAgent: return "tunnel not addressed to the home agent";
    case HaDrop::kReverseNotFromCareOf: return "reverse tunnel not from a registered care-of address";
    case HaDrop::kEncapsulationMismatch: return "encapsulation not negotiated";
    case HaDrop::kTunnelLoop: return "tunnel loop";
    case HaDrop::kTtlExpired: return "TTL expired";
    case HaDrop::kTooBig: return "too big for the tunnel";
    case HaDrop::kHalfBound: return "UDP tunnel half-bound";
    case HaDrop::kBadSolicitation: return "bad agent solicitation";
    case HaDrop::kBadTooBig: return "ICMP too big not about a current tunnel";
    case HaDrop::kCount: break;
  }
  return "?";
}

std::string_view HaEventCauseName(HaEvent::Cause c) {
  switch (c) {
    case HaEvent::Cause::kRegistration: return "registration";
    case HaEvent::Cause::kDeregistration: return "deregistration";
    case HaEvent::Cause::kExpiry: return "expiry";
    case HaEvent::Cause::kKeepalive: return "keepalive";
    case HaEvent::Cause::kRevoked: return "revoked";
  }
  return "?";
}

std::string_view HaEventKindName(HaEvent::Kind k) {
  switch (k) {
    case HaEvent::Kind::kBindingAdded: return "binding added";
    case HaEvent::Kind::kBindingUpdated: return "binding updated";
    case HaEvent::Kind::kBindingRemoved: return "binding removed";
  }
  return "?";
}

// One Registration Request in flight through the checks.
struct HomeAgent::Request {
  const UdpReceived* d = nullptr;
  const ParsedRegistrationRequest* p = nullptr;
  MobileNodeSecurity* mn = nullptr;
  SecurityAssociation* sa = nullptr;   // authenticates the reply (MN-HA)
  Ipv4Address home;                    // the reply's Home Address
  std::uint64_t reply_id = 0;          // the reply's Identification
  std::optional<std::string> nai;      // echoed in the reply (RFC 2794 3)
  bool from_peer = false;              // the source shares an FA-HA SA with us
  std::optional<std::uint32_t> fa_spi;  // SPI of the verified FA-HA extension
  std::optional<UdpTunnelReply> tunnel_reply;
  bool tunnel_reply_for_fa = false;    // the FA asked (RFC 3519 4.5): after MN-HA
  bool dereg_all = false;
};

Status HomeAgent::ValidateOptions(const HomeAgentOptions& o) {
  auto bad = [](std::string what) { return Error(Errc::kInvalidArgument, std::move(what)); };
  if (!o.address.IsUnicast()) return bad("address: " + o.address.ToString() + " is not unicast");
  if (!o.home_network.Contains(o.address)) {
    return bad("home_network: " + o.home_network.ToString() + " does not contain the address " +
               o.address.ToString());
  }
  if (o.max_lifetime == 0) return bad("max_lifetime: must be at least 1 second");
  if (o.reverse_tunnel_mandatory && !o.reverse_tunnel_allowed) {
    return bad("reverse_tunnel_mandatory: requires reverse_tunnel_allowed");
  }
  if (o.max_simultaneous_bindings < 1 || o.max_simultaneous_bindings > 255) {
    return bad("max_simultaneous_bindings: must be 1..255");
  }
  if (o.max_bindings < 1 || o.max_bindings >= BindingCache::kNil) {
    return bad("max_bindings: must be 1..4294967294");
  }
  if (o.tunnel_mtu < 576 || o.tunnel_mtu > 65535) return bad("tunnel_mtu: must be 576..65535");
  if (o.tunnel_mtu_age < Duration::Seconds(1)) return bad("tunnel_mtu_age: must be at least 1s");
  if (o.home_address_pool && !o.home_network.Contains(*o.home_address_pool)) {
    return bad("home_address_pool: " + o.home_address_pool->ToString() + " is not inside " +
               o.home_network.ToString());
  }
  if (o.home_ifindex < 0) return bad("home_ifindex: must not be negative");
  if (o.home_ifindex != 0) {
    MIPSEC_TRY(ValidateAdvertisementTiming(o.advertisement));
    if (o.advertisement_lifetime != 0) {
      MIPSEC_TRY(ValidateAdvertisementLifetime(o.advertisement, o.advertisement_lifetime));
    }
  }
  return Ok{};
}

Result<std::unique_ptr<HomeAgent>> HomeAgent::Create(HomeAgentOptions options, SaDatabase& sas,
                                                     RandomSource& rng, Logger logger) {
  MIPSEC_TRY(ValidateOptions(options));
  return std::unique_ptr<HomeAgent>(new HomeAgent(std::move(options), sas, rng, std::move(logger)));
}

HomeAgent::HomeAgent(HomeAgentOptions options, SaDatabase& sas, RandomSource& rng, Logger logger)
    : options_(std::move(options)),
      sas_(&sas),
      rng_(rng),
      log_(std::move(logger)),
      bindings_(options_.expected_bindings),
      advertising_(options_.advertisement) {
  if (options_.advertisement_lifetime == 0) {
    options_.advertisement_lifetime = MinAdvertisementLifetime(options_.advertisement);
  }
}

Status HomeAgent::AddForeignAgentSa(Ipv4Address fa, SecurityAssociation sa) {
  // The first SA added per FA is the reply SA (SaDatabase::FirstPeerSpi).
  return sas_->AddPeerSa(fa, std::move(sa));
}

Status HomeAgent::Reconfigure(Timestamp now, HomeAgentOptions options, SaDatabase& sas) {
  MIPSEC_TRY(ValidateOptions(options));
  auto fixed = [](const char* what) {
    return Error(Errc::kInvalidArgument,
                 std::string(what) + ": cannot change on a running home agent");
  };
  if (options.address != options_.address) return fixed("address");
  if (options.home_network != options_.home_network) return fixed("home_network");
  if (options.home_ifindex != options_.home_ifindex) return fixed("home_ifindex");
  if (options.home_address_pool != options_.home_address_pool) return fixed("home_address_pool");
  if (options.advertisement_lifetime == 0) {
    options.advertisement_lifetime = MinAdvertisementLifetime(options.advertisement);
  }
  // Nothing fails from here on.
  SaDatabase& old = *sas_;
  std::unordered_map<const MobileNodeSecurity*, Ipv4Address> assigned;
  for (const MobileNodeSecurity& o : old.mobile_nodes()) {
    MobileNodeSecurity* n = sas.FindSameMobileNode(o);
    if (n != nullptr) {
      n->replay = o.replay;  // RFC 5944 5.7: no replay window reopened
      if (auto it = assigned_.find(&o); it != assigned_.end()) assigned.emplace(n, it->second);
      continue;
    }
    // Revoked: no SA any more for its renewal or deregistration.
    std::optional<Ipv4Address> home = o.home_address;
    if (auto it = assigned_.find(&o); it != assigned_.end()) {
      home = it->second;
      assigned_addresses_.erase(it->second);
    }
    if (!home) continue;
    const bool had = bindings_.Head(*home) != BindingCache::kNil;
    if (!had) continue;
    bindings_.RemoveAll(*home);
    MIPSEC_LOG(log_, kInfo) << "mobile node " << *home
                            << " removed from the configuration: binding revoked";
    EmitIfChanged(*home, true, true, HaEvent::Cause::kRevoked);
  }
  assigned_ = std::move(assigned);
  sas_ = &sas;
  if (!(options.advertisement == options_.advertisement)) {
    advertising_.SetTiming(options.advertisement, now);
  }
  options_ = std::move(options);
  return Ok{};
}

HaResult HomeAgent::Drop(HaDrop reason) {
  ++counters_.drops[static_cast<std::size_t>(reason)];
  HaResult r;
  r.action = HaResult::Action::kDropped;
  r.drop = reason;
  return r;
}

bool HomeAgent::IsTrusted(Ipv4Address source) const {
  return std::any_of(options_.trusted_subnets.begin(), options_.trusted_subnets.end(),
                     [source](const Ipv4Prefix& p) { return p.Contains(source); });
}

HaResult HomeAgent::OnUdp(Timestamp now, const UdpReceived& d) {
  if (d.payload.empty()) return Drop(HaDrop::kUnknownMessage);
  switch (d.payload[0]) {
    case kMsgRegistrationRequest: return HandleRequest(now, d);
    case kMsgTunnelData: return HandleTunnelData(now, d);
    default:
      MIPSEC_LOG(log_, kDebug) << "message type " << d.payload[0] << " from " << d.remote
                               << " ignored";
      return Drop(HaDrop::kUnknownMessage);
  }
}

SecurityAssociation* HomeAgent::ReplySaForPeer(Ipv4Address peer,
                                               std::optional<std::uint32_t> spi) {
  if (spi) {
    if (SecurityAssociation* sa = sas_->PeerSa(peer, *spi)) return sa;
  }
  const std::optional<std::uint32_t> first = sas_->FirstPeerSpi(peer);
  return first ? sas_->PeerSa(peer, *first) : nullptr;
}

// RFC 5944 3.8.2.1 (c): exactly one FA-HA extension, valid under the SA the
// request's source shares with us.
static bool VerifyFaHa(SaDatabase& sas, const ExtensionList& ext, Ipv4Address source,
                       std::optional<std::uint32_t>& spi_out) {
  if (ext.Count(kExtFaHaAuth) != 1) return false;
  Result<AuthCoverage> c = AuthenticationCoverageOfType(ext, kExtFaHaAuth);
  if (!c.ok()) return false;
  SecurityAssociation* sa = sas.PeerSa(source, c->spi);
  if (sa == nullptr || !sa->Verify(c->covered, c->authenticator).ok()) return false;
  spi_out = c->spi;
  return true;
}

HaResult HomeAgent::HandleRequest(Timestamp now, const UdpReceived& d) {
  ++counters_.requests;
  const Ipv4Endpoint& src = d.remote;
  // RFC 5265 4.3: drop silently (and log) anything from outside the
  // trusted subnets.
  if (options_.rfc5265_trusted_networks && !IsTrusted(src.address)) {
    MIPSEC_LOG(log_, kNotice) << "registration request from untrusted source " << src
                              << " dropped (RFC 5265 4.3)";
    return Drop(HaDrop::kUntrustedSource);
  }
  Result<ParsedRegistrationRequest> parsed = ParseRegistrationRequest(d.payload);
  if (!parsed.ok()) {
    // RFC 5944 1.8 for an unknown type 0-127; anything else cannot be
    // authenticated, and every reply needs an MN-HA authenticator (3.8.3.3).
    const bool unrecognized = IsUnrecognizedExtension(parsed.error());
    MIPSEC_LOG(log_, kInfo) << "registration request from " << src
                            << " discarded: " << parsed.error().ToString();
    return Drop(unrecognized ? HaDrop::kUnrecognizedExtension : HaDrop::kMalformedRequest);
  }
  const RegistrationRequest& q = parsed->request;
  const ExtensionList& ext = parsed->extensions;

  Request r;
  r.d = &d;
  r.p = &*parsed;
  r.home = q.home_address;
  r.reply_id = q.identification;
  if (const Extension* e = ext.First(kExtNai); e != nullptr && e->recognized) {
    if (Result<std::string> n = DecodeNai(*e); n.ok()) r.nai = std::move(n).value();
  }

  // The mobile node: by home address, else by NAI (RFC 2794 2).
  MobileNodeSecurity* mn = nullptr;
  if (!q.home_address.IsAny()) mn = sas_->FindMobileNode(q.home_address);
  if (mn == nullptr && r.nai) mn = sas_->FindMobileNodeByNai(*r.nai);
  if (mn == nullptr) {
    // RFC 5944 3.8.2.1 (a): no security association with this MN.
    MIPSEC_LOG(log_, kNotice) << "registration request from " << src << " for home address "
                              << q.home_address << (r.nai ? " NAI " + *r.nai : std::string())
                              << ": no security association, discarded";
    return Drop(HaDrop::kNoSecurityAssociation);
  }
  r.mn = mn;

  // (a) The authorization-enabling extension must be present...
  Result<AuthCoverage> mnha = AuthenticationCoverageOfType(ext, kExtMnHaAuth);
  if (!mnha.ok()) {
    MIPSEC_LOG(log_, kNotice) << "registration request from " << src << " for " << q.home_address
                              << " without MN-HA authentication, discarded";
    return Drop(HaDrop::kNoAuthorizationExtension);
  }
  r.from_peer = sas_->HasPeer(src.address);
  const bool has_faha = ext.Count(kExtFaHaAuth) > 0;
  // ...and its authenticator valid.
  SecurityAssociation* sa = sas_->MobileNodeSa(*mn, mnha->spi);
  if (sa == nullptr || !sa->Verify(mnha->covered, mnha->authenticator).ok()) {
    ++counters_.mn_auth_failures;
    MIPSEC_LOG(log_, kWarning) << "security exception: MN-HA authentication failed for "
                               << q.home_address << " (SPI " << mnha->spi
                               << (sa == nullptr ? ", unknown" : "") << ") from " << src;
    // (d) comes first: an FA-HA extension from an FA we share no SA with
    // makes the whole request a discard.
    if (!r.from_peer && has_faha) return Drop(HaDrop::kFaHaWithoutSa);
    // With a valid FA-HA extension the HA MUST answer 131; with no FA-HA SA
    // it MAY. An FA we share an SA with that did not authenticate the
    // request gets nothing.
    const bool reply = r.from_peer ? VerifyFaHa(*sas_, ext, src.address, r.fa_spi)
                                   : options_.reply_on_mn_auth_failure;
    if (!reply) return Drop(HaDrop::kMnAuthFailed);
    // "SHOULD choose a security association that is likely to exist in the
    // mobile node": the SPI it used if we know it, else its first SA.
    r.sa = sa != nullptr ? sa : sas_->MobileNodeSa(*mn, mn->sas.front().spi());
    if (MIPSEC_BUG_IF(r.sa == nullptr, "mobile node without SA")) {
      return Drop(HaDrop::kMnAuthFailed);
    }
    SendReply(r, Code(ReplyCode::kHaMnFailedAuthentication), 0);
    return {};
  }
  r.sa = sa;
  if (mn->home_address) r.home = *mn->home_address;

  // (d) FA-HA extension from a source without an FA-HA SA: discard.
  if (!r.from_peer && has_faha) {
    MIPSEC_LOG(log_, kWarning) << "security exception: FA-HA extension from " << src
                               << ", which shares no security association; discarded";
    return Drop(HaDrop::kFaHaWithoutSa);
  }

  // (b) Identification (RFC 5944 5.7). The request is authentic, so the
  // replay state may move (nonce mode issues a new nonce in every reply).
  const ReplayCheck rc = mn->replay.Check(*sa, q.identification, options_.wall_clock.At(now), rng_);
  mn->replay.Commit(rc);
  r.reply_id = rc.reply_identification;
  if (!rc.fresh()) {
    ++counters_.replay_rejections;
    MIPSEC_LOG(log_, kWarning) << "security exception: Identification of " << r.home << " from "
                               << src << " rejected (" << ReplayVerdictName(rc.verdict) << ")";
    SendReply(r, Code(ReplyCode::kHaIdentificationMismatch), 0);
    return {};
  }
  ProcessAuthenticated(now, r);
  return {};
}

void HomeAgent::ProcessAuthenticated(Timestamp now, Request& r) {
  const RegistrationRequest& q = r.p->request;
  const ExtensionList& ext = r.p->extensions;
  const UdpReceived& d = *r.d;
  const bool dereg = q.lifetime == 0 || q.care_of_address == r.home;

  // (c) FA-HA authentication of registrations (RFC 5944 3.8.1 lets the HA
  // skip it for Lifetime 0; 3.5.4 forbids it on deregistrations).
  if (!dereg) {
    if (r.from_peer) {
      if (!VerifyFaHa(*sas_, ext, d.remote.address, r.fa_spi)) {
        ++counters_.fa_auth_failures;
        MIPSEC_LOG(log_, kWarning) << "security exception: FA-HA authentication from " << d.remote
                                   << " missing, repeated or invalid";
        SendReply(r, Code(ReplyCode::kHaFaFailedAuthentication), 0);
        return;
      }
    } else if (options_.fa_ha_auth_required && !q.decapsulation_by_mn) {
      MIPSEC_LOG(log_, kNotice) << "registration for " << r.home << " relayed by " << d.remote
                                << ", which shares no FA-HA security association";
      SendReply(r, Code(ReplyCode::kHaFaFailedAuthentication), 0);
      return;
    }
  }

  // Extension placement, counts and flag rules (rules.h).
  if (std::optional<Violation> v = Validate(*r.p)) {
    MIPSEC_LOG(log_, kInfo) << "poorly formed request for " << r.home << " from " << d.remote
                            << ": " << v->ToError().ToString();
    SendReply(r, Code(ReplyCode::kHaPoorlyFormedRequest), 0);
    return;
  }

  // RFC 5944 3.8.2.1 last paragraphs and 3.8.3.2: the Home Agent field must
  // be our unicast address and the request must not have come to a
  // broadcast address; the reply then names our address.
  const Ipv4Address to = d.local.address;
  if (q.home_agent != options_.address || to.IsLimitedBroadcast() || to.IsMulticast() ||
      (to == options_.home_network.Broadcast() && options_.home_network.length() < 31)) {
    MIPSEC_LOG(log_, kInfo) << "request for " << r.home << " names home agent " << q.home_agent
                            << " (sent to " << to << "): 136";
    SendReply(r, Code(ReplyCode::kHaUnknownHomeAgentAddress), 0);
    return;
  }

  // RFC 3115: we understand no vendor's critical extension.
  for (std::size_t i = 0; i < ext.size(); ++i) {
    if (ext[i].type == kExtCvse) {
      const ReplyCode code = HaCvseRejectCode(ext, i);
      MIPSEC_LOG(log_, kInfo) << "unsupported CVSE in request for " << r.home << ": "
                              << static_cast<int>(code);
      SendReply(r, Code(code), 0);
      return;
    }
  }

  // RFC 5944 3.8.3.2 / RFC 2794: the home address must be the MN's: its
  // configured one, or for an MN known only by NAI one from the pool.
  if (!r.mn->home_address) {
    bool exhausted = false;
    std::optional<Ipv4Address> a = AssignHomeAddress(*r.mn, q.home_address, exhausted);
    if (!a) {
      MIPSEC_LOG(log_, kInfo) << "no home address for " << (r.nai ? *r.nai : std::string("?"))
                              << (exhausted ? ": pool exhausted, 130" : ": 129");
      SendReply(r, Code(exhausted ? ReplyCode::kHaInsufficientResources
                                  : ReplyCode::kHaAdministrativelyProhibited), 0);
      return;
    }
    r.home = *a;
  }
  if ((!q.home_address.IsAny() && q.home_address != r.home) ||
      !options_.home_network.Contains(r.home)) {
    MIPSEC_LOG(log_, kInfo) << "home address " << q.home_address << " cannot be served for "
                            << (r.nai ? *r.nai : r.home.ToString()) << ": 129";
    SendReply(r, Code(ReplyCode::kHaAdministrativelyProhibited), 0);
    return;
  }

  r.dereg_all = q.care_of_address == r.home;
  if (q.lifetime == 0 || r.dereg_all) {
    Deregister(now, r);
  } else {
    Register(now, r);
  }
}

// RFC 5944 3.8.2.2: Lifetime 0 (or the home address as care-of address)
// deletes all bindings when the care-of address is the home address, else
// only the one with that care-of address.
void HomeAgent::Deregister(Timestamp /*now*/, Request& r) {
  const RegistrationRequest& q = r.p->request;
  const bool had = bindings_.Head(r.home) != BindingCache::kNil;
  std::size_t removed = 0;
  if (r.dereg_all) {
    removed = bindings_.RemoveAll(r.home);
  } else {
    for (std::uint32_t i = bindings_.Head(r.home); i != BindingCache::kNil;
         i = bindings_[i].next_in_mn) {
      if (bindings_[i].care_of_address == q.care_of_address.ToHostOrder()) {
        bindings_.Remove(i);
        removed = 1;
        break;
      }
    }
  }
  MIPSEC_LOG(log_, kInfo) << "deregistered " << r.home
                          << (r.dereg_all ? " (all care-of addresses)"
                                          : " care-of " + q.care_of_address.ToString())
                          << ", " << removed << " binding(s) removed";
  SendReply(r, Code(ReplyCode::kAccepted), 0);
  EmitIfChanged(r.home, had, removed > 0, HaEvent::Cause::kDeregistration);
  // RFC 5944 3.8.3.1 / 4.6: all care-of addresses deregistered from the
  // home address itself is the mobile node back on its home link.
  if (r.dereg_all && r.d->remote.address == r.home && !events_.empty() &&
      events_.back().home_address == r.home &&
      events_.back().kind == HaEvent::Kind::kBindingRemoved) {
    events_.back().returned_home = true;
  }
}

void HomeAgent::Register(Timestamp now, Request& r) {
  const RegistrationRequest& q = r.p->request;
  const ExtensionList& ext = r.p->extensions;
  const Ipv4Endpoint& src = r.d->remote;

  if (!q.care_of_address.IsUnicast() || q.care_of_address.IsLimitedBroadcast()) {
    MIPSEC_LOG(log_, kInfo) << "care-of address " << q.care_of_address << " is not unicast: 134";
    SendReply(r, Code(ReplyCode::kHaPoorlyFormedRequest), 0);
    return;
  }

  // RFC 3519 4.6: NAT detection and the UDP tunnel decision.
  bool udp = false;
  bool half_bound = false;
  bool forced = false;
  if (std::optional<std::size_t> ui = ext.Find(kExtUdpTunnelRequest); ui && ext[*ui].recognized) {
    const std::size_t mnha_at = *ext.Find(kExtMnHaAuth);
    const bool from_fa = *ui > mnha_at;  // 4.5: an FA places it after MN-HA
    if (from_fa && q.decapsulation_by_mn) {
      // 4.6.1: the FA's request for an FA care-of address with 'D' set.
      SendReply(r, Code(ReplyCode::kHaPoorlyFormedRequest), 0);
      return;
    }
    const UdpTunnelRequest t = *DecodeUdpTunnelRequest(ext[*ui]);
    const bool nat = src.address != q.care_of_address;
    if (t.registration_through_fa || nat || t.force) {
      if (!options_.udp_tunnelling_enabled) {
        // 4.6.1: "NAT detected by home agent, but traversal not allowed".
        MIPSEC_LOG(log_, kInfo) << "UDP tunnelling needed for " << r.home << " but disabled: 129";
        SendReply(r, Code(ReplyCode::kHaAdministrativelyProhibited), 0);
        return;
      }
      if (t.force && !nat && !t.registration_through_fa && !options_.udp_accept_forcing) {
        // 3.1.1, 4.6.1: forcing refused.
        SendReply(r, Code(ReplyCode::kHaAdministrativelyProhibited), 0);
        return;
      }
      // 4.1: a non-zero Encapsulation is that one or 142; zero follows M/G.
      const bool encap_ok = t.encapsulation == kEncapIpInIp ||
                            (t.encapsulation == 0 && !q.minimal_encapsulation && !q.gre);
      if (!encap_ok) {
        SendReply(r, Code(ReplyCode::kHaUdpEncapsulationUnavailable), 0);
        return;
      }
      udp = true;
      forced = t.force;
      half_bound = t.registration_through_fa;
      r.tunnel_reply = UdpTunnelReply{kUdpTunnelWillTunnel, t.force, 0,
                                      options_.udp_keepalive_interval};
    } else {
      // 4.6: no NAT and no 'F': decline (consistently, as 4.6 asks).
      r.tunnel_reply = UdpTunnelReply{kUdpTunnelDeclined, false, 0, 0};
    }
    r.tunnel_reply_for_fa = from_fa;
  }

  // RFC 3024 4.3.1: the forward encapsulation first (139: we tunnel
  // IP-in-IP only, RFC 5944 4.1), then 'T' mandatory (138), then the
  // reverse tunnel itself (137).
  if (!udp && (q.minimal_encapsulation || q.gre)) {
    SendReply(r, Code(ReplyCode::kHaEncapsulationUnavailable), 0);
    return;
  }
  if (options_.reverse_tunnel_mandatory && !q.reverse_tunnel) {
    SendReply(r, Code(ReplyCode::kHaReverseTunnelMandatory), 0);
    return;
  }
  if (q.reverse_tunnel && !options_.reverse_tunnel_allowed) {
    SendReply(r, Code(ReplyCode::kHaReverseTunnelUnavailable), 0);
    return;
  }

  // RFC 5944 3.8.3.2: the granted lifetime never exceeds the request nor our
  // maximum (RFC 3519 5.2: optionally shorter for UDP tunnels).
  std::uint16_t granted = std::min(q.lifetime, options_.max_lifetime);
  if (udp && options_.udp_tunnel_max_lifetime != 0) {
    granted = std::min(granted, options_.udp_tunnel_max_lifetime);
  }
  const Timestamp expires = granted == kInfiniteLifetime
                                ? Timestamp::Infinite()
                                : now + Duration::Seconds(granted);

  BindingRecord f;
  f.home_address = r.home.ToHostOrder();
  f.care_of_address = q.care_of_address.ToHostOrder();
  // RFC 3519 4.6: with UDP tunnelling the source of the request is the
  // effective care-of address (and port), except with 'R' (half-bound until
  // the first keepalive gives the port).
  f.tunnel_address = udp ? src.address.ToHostOrder() : f.care_of_address;
  f.tunnel_port = udp && !half_bound ? src.port : 0;
  f.granted_lifetime = granted;
  f.flags = static_cast<std::uint8_t>(
      (q.reverse_tunnel ? BindingRecord::kReverseTunnel : 0) |
      (udp ? BindingRecord::kUdpTunnel : 0) | (forced ? BindingRecord::kUdpForced : 0) |
      (half_bound ? BindingRecord::kHalfBound : 0) |
      (q.decapsulation_by_mn ? BindingRecord::kDecapsulationByMn : 0));
  f.expires_ns = expires.nanos();
  f.identification = q.identification;

  const std::uint32_t head = bindings_.Head(r.home);
  const bool had = head != BindingCache::kNil;
  std::uint32_t same = BindingCache::kNil;
  std::size_t count = 0;
  for (std::uint32_t i = head; i != BindingCache::kNil; i = bindings_[i].next_in_mn) {
    ++count;
    if (bindings_[i].care_of_address == f.care_of_address) same = i;
  }
  const bool simultaneous = q.simultaneous_bindings && options_.max_simultaneous_bindings > 1;
  // RFC 5944 3.8.2.2 / 3.8.3.2: code 1 when 'S' cannot be honoured.
  const std::uint8_t code = q.simultaneous_bindings && options_.max_simultaneous_bindings <= 1
                                ? Code(ReplyCode::kAcceptedNoSimultaneousBindings)
                                : Code(ReplyCode::kAccepted);

  auto update = [this](std::uint32_t i, const BindingRecord& n) {
    BindingRecord& b = bindings_[i];
    const bool changed = !SameTunnel(b, n);
    b.care_of_address = n.care_of_address;
    b.tunnel_address = n.tunnel_address;
    b.tunnel_port = n.tunnel_port;
    b.granted_lifetime = n.granted_lifetime;
    b.flags = static_cast<std::uint8_t>((b.flags & BindingRecord::kInWheel) |
                                        (n.flags & ~BindingRecord::kInWheel));
    b.identification = n.identification;
    bindings_.SetExpiry(i, n.expires());
    return changed;
  };

  bool changed = false;
  if (simultaneous) {
    if (same == BindingCache::kNil) {
      if (count >= options_.max_simultaneous_bindings) {
        SendReply(r, Code(ReplyCode::kHaTooManyBindings), 0);
        return;
      }
      if (bindings_.size() >= options_.max_bindings) {
        SendReply(r, Code(ReplyCode::kHaInsufficientResources), 0);
        return;
      }
      bindings_.Add(f);
      changed = true;
    } else {
      changed = update(same, f);
    }
  } else {
    // Without 'S' (or without support for it) the new binding replaces all.
    const std::uint32_t keep = same != BindingCache::kNil ? same : head;
    if (keep == BindingCache::kNil) {
      if (bindings_.size() >= options_.max_bindings) {
        SendReply(r, Code(ReplyCode::kHaInsufficientResources), 0);
        return;
      }
      bindings_.Add(f);
      changed = true;
    } else {
      changed = update(keep, f);
      for (std::uint32_t i = bindings_.Head(r.home); i != BindingCache::kNil;) {
        const std::uint32_t next = bindings_[i].next_in_mn;
        if (i != keep) {
          bindings_.Remove(i);
          changed = true;
        }
        i = next;
      }
    }
  }
  MIPSEC_LOG(log_, kDebug) << "registered " << r.home << " care-of " << q.care_of_address
                           << (udp ? " via UDP tunnel to " + src.ToString() : std::string())
                           << " lifetime " << granted;
  SendReply(r, code, granted);
  EmitIfChanged(r.home, had, changed, HaEvent::Cause::kRegistration);
}

void HomeAgent::SendReply(const Request& r, std::uint8_t code, std::uint16_t lifetime) {
  const UdpReceived& d = *r.d;
  const bool accepted = IsAcceptedCode(code);
  RegistrationReply rep;
  rep.code = code;
  rep.lifetime = accepted ? lifetime : 0;
  rep.home_address = r.home;
  rep.home_agent = options_.address;  // 3.8.3.2: always our unicast address
  rep.identification = r.reply_id;

  // RFC 5944 3.8.3.3 order: (b) extensions for the MN, (c) MN-HA, (d) for
  // the FA, (e) FA-HA.
  MessageBuilder b = MessageBuilder::Reply(rep);
  if (r.nai) {
    // RFC 2794 3: a request's NAI is echoed. It came from a parsed
    // extension, so it fits.
    if (MIPSEC_BUG_IF(!b.AppendNai(*r.nai).ok(), "NAI no longer fits")) return;
  }
  // RFC 3519 4.6: the UDP Tunnel Reply answers an accepted request.
  if (accepted && r.tunnel_reply && !r.tunnel_reply_for_fa) b.AppendUdpTunnelReply(*r.tunnel_reply);
  // RFC 5265 4.3: every reply to a trusted source (the only sources we
  // answer in this mode) carries TNC, covered by the MN-HA authenticator.
  if (options_.rfc5265_trusted_networks) b.AppendTnc();
  SecurityAssociation* sa = r.sa;
  Status st = b.AppendAuth(kExtMnHaAuth, sa->spi(), sa->authenticator_size(),
                           [sa](ByteSpan covered) { return sa->Compute(covered); });
  if (!st.ok()) {
    MIPSEC_LOG(log_, kError) << "cannot authenticate reply to " << d.remote << ": "
                             << st.error().ToString();
    return;
  }
  if (accepted && r.tunnel_reply && r.tunnel_reply_for_fa) b.AppendUdpTunnelReply(*r.tunnel_reply);
  // RFC 5944 3.8.1: a reply to an FA we share an SA with carries FA-HA.
  if (r.from_peer) {
    if (SecurityAssociation* fsa = ReplySaForPeer(d.remote.address, r.fa_spi)) {
      st = b.AppendAuth(kExtFaHaAuth, fsa->spi(), fsa->authenticator_size(),
                        [fsa](ByteSpan covered) { return fsa->Compute(covered); });
      if (!st.ok()) {
        MIPSEC_LOG(log_, kError) << "cannot add FA-HA to reply to " << d.remote << ": "
                                 << st.error().ToString();
        return;
      }
    } else {
      MIPSEC_LOG(log_, kWarning) << "reply to FA " << d.remote
                                 << " without FA-HA: no reply SPI known (AddForeignAgentSa)";
    }
  }

  // RFC 5944 3.8.3.1: back to the request's source, from its destination
  // (our unicast address when that was a broadcast or multicast).
  UdpTransmit t;
  const Ipv4Address to = d.local.address;
  const bool group = to.IsAny() || to.IsLimitedBroadcast() || to.IsMulticast() ||
                     to == options_.home_network.Broadcast();
  t.local = Ipv4Endpoint{group ? options_.address : to, d.local.port};
  t.remote = d.remote;
  // An MN deregistering from home gets the reply on the home link,
  // bypassing any binding still in place (3.8.3.1).
  if (d.remote.address == r.home) t.ifindex = d.ifindex;
  t.payload = std::move(b).Take();
  ++counters_.replies;
  ++counters_.replies_by_code[code];
  transmits_.push_back(std::move(t));
}

// RFC 5944 3.8.1: "MAY ... dynamically associate a home address". Sticky
// per MN; the asked-for address is honoured when it is free (an MN that
// kept its address across an HA restart).
std::optional<Ipv4Address> HomeAgent::AssignHomeAddress(const MobileNodeSecurity& mn,
                                                        Ipv4Address asked, bool& exhausted) {
  if (auto it = assigned_.find(&mn); it != assigned_.end()) return it->second;
  if (!options_.home_address_pool) return std::nullopt;
  const Ipv4Prefix& pool = *options_.home_address_pool;
  auto usable = [&](Ipv4Address a) {
    return pool.Contains(a) && a != pool.address() && a != pool.Broadcast() &&
           a != options_.address && a != options_.home_network.Broadcast() &&
           a != options_.home_network.address() && !assigned_addresses_.contains(a) &&
           sas_->FindMobileNode(a) == nullptr;
  };
  std::optional<Ipv4Address> pick;
  if (!asked.IsAny() && usable(asked)) {
    pick = asked;
  } else {
    const std::uint64_t size = std::uint64_t{1} << (32 - pool.length());
    for (std::uint64_t n = 0; n < size && !pick; ++n) {
      const Ipv4Address a = Ipv4Address::FromHostOrder(
          pool.address().ToHostOrder() + static_cast<std::uint32_t>((pool_cursor_ + n) % size));
      if (usable(a)) {
        pick = a;
        pool_cursor_ = static_cast<std::uint32_t>((pool_cursor_ + n + 1) % size);
      }
    }
  }
  if (!pick) {
    exhausted = true;
    return std::nullopt;
  }
  assigned_.emplace(&mn, *pick);
  assigned_addresses_.insert(*pick);
  MIPSEC_LOG(log_, kInfo) << "home address " << *pick << " assigned to " << mn.nai;
  return pick;
}

std::optional<Ipv4Address> HomeAgent::AssignedHomeAddress(std::string_view nai) const {
  const MobileNodeSecurity* mn = sas_->FindMobileNodeByNai(nai);
  if (mn == nullptr) return std::nullopt;
  auto it = assigned_.find(mn);
  return it == assigned_.end() ? std::nullopt : std::optional<Ipv4Address>(it->second);
}

HaTunnel HomeAgent::ToTunnel(const BindingRecord& b) const {
  HaTunnel t;
  t.care_of_address = b.care_of();
  t.endpoint = Ipv4Endpoint{b.tunnel_destination(), b.tunnel_port};
  t.encapsulation = b.encapsulation();
  t.reverse_tunnel = (b.flags & BindingRecord::kReverseTunnel) != 0;
  t.half_bound = (b.flags & BindingRecord::kHalfBound) != 0;
  t.granted_lifetime = b.granted_lifetime;
  t.expires = b.expires();
  return t;
}

std::vector<HaTunnel> HomeAgent::Bindings(Ipv4Address home) const {
  std::vector<HaTunnel> out;
  for (std::uint32_t i = bindings_.Head(home); i != BindingCache::kNil;
       i = bindings_[i].next_in_mn) {
    out.push_back(ToTunnel(bindings_[i]));
  }
  return out;
}

std::vector<Ipv4Address> HomeAgent::BoundHomeAddresses() const {
  std::vector<Ipv4Address> out;
  out.reserve(bindings_.mobile_node_count());
  bindings_.ForEachHome([&](Ipv4Address home) { out.push_back(home); });
  std::sort(out.begin(), out.end());
  return out;
}

void HomeAgent::EmitIfChanged(Ipv4Address home, bool had_binding, bool changed,
                              HaEvent::Cause cause) {
  const bool has = bindings_.Head(home) != BindingCache::kNil;
  HaEvent e;
  if (!had_binding && has) {
    e.kind = HaEvent::Kind::kBindingAdded;
  } else if (had_binding && !has) {
    e.kind = HaEvent::Kind::kBindingRemoved;
  } else if (has && changed) {
    e.kind = HaEvent::Kind::kBindingUpdated;
  } else {
    return;  // a refresh: nothing for the runtime to change
  }
  e.cause = cause;
  e.home_address = home;
  e.tunnels = Bindings(home);
  events_.push_back(std::move(e));
}

// ---- Agent Advertisements on the home link (RFC 5944 2.3) ----

void HomeAgent::SendAdvertisement(Ipv4Address destination, bool unicast) {
  AgentAdvertisement adv;
  adv.lifetime = options_.advertisement_lifetime;
  adv.routers = {{options_.address, 0}};  // 2.3.1: its own address
  MobilityAgentExtension& m = adv.mobility;
  m.sequence = advertising_.TakeSequence();
  m.registration_lifetime = options_.max_lifetime;
  m.home_agent = true;
  m.reverse_tunnel = options_.reverse_tunnel_allowed;  // RFC 3024 3.3
  adv.prefix_lengths =
      std::vector<std::uint8_t>{static_cast<std::uint8_t>(options_.home_network.length())};
  // 2.1.3: pad to an even ICMP length (router advertisement with one
  // router, extension 16 without care-of addresses, extension 19).
  const std::size_t icmp_length = 8 + 8 * adv.routers.size() + 8 + (2 + adv.routers.size());
  adv.padding = icmp_length % 2 == 1;
  Result<Bytes> pkt =
      BuildAgentAdvertisementPacket(options_.address, destination, adv, next_ip_id_++);
  if (MIPSEC_BUG_IF(!pkt.ok(), "home agent advertisement does not encode")) return;
  IpTransmit t;
  t.ifindex = options_.home_ifindex;
  if (unicast) t.link_next_hop = destination;
  t.packet = std::move(*pkt);
  transmits_.push_back(std::move(t));
  ++counters_.advertisements;
}

void HomeAgent::OnIcmp(Timestamp now, int ifindex, ByteSpan packet) {
  if (Advertising() && !advertising_.started()) advertising_.Start(now);
  Result<ip::Ipv4Packet> pkt = ip::ParseIpv4(packet);
  if (!pkt.ok() || pkt->header.protocol != ip::kProtoIcmp || pkt->header.IsFragment()) {
    Drop(HaDrop::kPacketMalformed);
    return;
  }
  Result<ip::IcmpMessage> icmp = ip::ParseIcmp(pkt->payload);
  if (!icmp.ok()) {
    Drop(HaDrop::kPacketMalformed);
    return;
  }
  // RFC 2003 5.1: Datagram Too Big from inside a tunnel (home_agent_data.cc).
  if (icmp->type == ip::kIcmpDestinationUnreachable &&
      icmp->code == ip::kIcmpFragmentationNeeded) {
    if (pkt->header.dst == options_.address) OnTooBig(now, *icmp);
    return;
  }
  // Everything else but solicitations is not the HA's business.
  if (!Advertising() || icmp->type != ip::kIcmpRouterSolicitation) return;
  // RFC 1256 4.2 checks (code, length, checksum), on the home link only.
  if (ifindex != options_.home_ifindex || !ParseAgentSolicitation(pkt->payload).ok()) {
    Drop(HaDrop::kBadSolicitation);
    return;
  }
  ++counters_.solicitations;
  const Ipv4Address source = pkt->header.src;
  if (source.IsUnicast()) {
    SendAdvertisement(source, true);  // RFC 5944 2.1: unicast to the solicitor
  } else {
    advertising_.OnSolicitation(now, rng_);
  }
}

Timestamp HomeAgent::NextTimeout() const {
  Timestamp t = bindings_.NextExpiry();
  if (Advertising()) {
    if (!advertising_.started()) return Timestamp::Zero();
    t = std::min(t, advertising_.NextDue());
  }
  return t;
}

void HomeAgent::OnTimeout(Timestamp now) {
  if (Advertising()) {
    if (!advertising_.started()) advertising_.Start(now);
    if (advertising_.Due(now)) {
      SendAdvertisement(Ipv4Address::AllSystems(), false);
      advertising_.OnMulticastSent(now, rng_);
    }
  }
  // RFC 5944 3.8.2.2 / 4.2.3: an expired binding is deleted, silently; the
  // MN's other bindings stay.
  std::vector<Ipv4Address> touched;
  bindings_.ExpireUpTo(now, [&](std::uint32_t i) {
    const Ipv4Address home = bindings_[i].home();
    MIPSEC_LOG(log_, kDebug) << "binding of " << home << " care-of " << bindings_[i].care_of()
                             << " expired";
    bindings_.Remove(i);
    ++counters_.bindings_expired;
    touched.push_back(home);
  });
  std::unordered_set<Ipv4Address> seen;
  for (Ipv4Address home : touched) {
    if (seen.insert(home).second) EmitIfChanged(home, true, true, HaEvent::Cause::kExpiry);
  }
}

std::optional<Transmit> HomeAgent::PollTransmit() {
  std::optional<Transmit> t;
  if (transmits_.empty()) return t;
  t.emplace(std::move(transmits_.front()));
  transmits_.pop_front();
  return t;
}

std::optional<HaEvent> HomeAgent::PollEvent() {
  if (events_.empty()) return std::nullopt;
  HaEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

}  // namespace mipsec::mip4
