#include "mip4/mn_reg/registration.h"

#include <algorithm>
#include <string>
#include <utility>

#include "common/ip/icmp.h"
#include "common/ip/ipv4.h"
#include "mip4/codec/auth_extension.h"
#include "mip4/codec/builder.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/extension.h"
#include "mip4/codec/nai_extension.h"
#include "mip4/codec/registration_extensions.h"
#include "mip4/codec/reply_code.h"
#include "mip4/codec/rules.h"
#include "mip4/codec/udp_tunnel_reply.h"
#include "mip4/codec/udp_tunnel_request.h"

namespace mipsec::mip4 {

namespace {

constexpr Duration kMinRetransmitInterval = Duration::Seconds(1);  // RFC 5944 3.6.3
constexpr Ipv4Address kAllMobilityAgents = Ipv4Address::FromOctets(224, 0, 0, 11);  // 2.2
constexpr Duration kMinKeepalive = Duration::Seconds(10);          // RFC 3519 4.10

Duration LifetimeDuration(std::uint16_t secs) {
  return secs == kInfiniteLifetime ? Duration::Infinite() : Duration::Seconds(secs);
}

}  // namespace

std::string_view AttemptKindName(AttemptKind k) {
  switch (k) {
    case AttemptKind::kRegister: return "register";
    case AttemptKind::kReregister: return "re-register";
    case AttemptKind::kDeregister: return "deregister";
  }
  return "?";
}

std::string_view MnDropName(MnDrop d) {
  switch (d) {
    case MnDrop::kMalformed: return "malformed";
    case MnDrop::kUnrecognized: return "unrecognized extension";
    case MnDrop::kNoAttempt: return "no request outstanding";
    case MnDrop::kWrongPath: return "wrong path";
    case MnDrop::kIdMismatch: return "identification mismatch";
    case MnDrop::kHomeMismatch: return "home address mismatch";
    case MnDrop::kRules: return "extension rules";
    case MnDrop::kAuthMissing: return "mn-ha authentication missing";
    case MnDrop::kAuthFailed: return "mn-ha authentication failed";
    case MnDrop::kReplay: return "replay";
    case MnDrop::kBadLifetime: return "bad lifetime";
    case MnDrop::kTunnelMismatch: return "tunnel mismatch";
    case MnDrop::kCount: break;
  }
  return "?";
}

std::uint64_t MnCounters::TotalDropped() const {
  std::uint64_t n = 0;
  for (std::uint64_t d : dropped) n += d;
  return n;
}

Status MobileNodeConfig::Validate() const {
  if (!home_address && nai.empty()) {
    return Error(Errc::kInvalidArgument, "home_address/nai: one of them is required");
  }
  if (home_address && !home_address->IsUnicast()) {
    return Error(Errc::kInvalidArgument, "home_address: must be a unicast address");
  }
  if (nai.size() > kMaxNaiSize) {
    return Error(Errc::kInvalidArgument, "nai: longer than 255 bytes (RFC 2794 2)");
  }
  if (!home_agent.IsUnicast()) {
    return Error(Errc::kInvalidArgument, "home_agent: must be a unicast address");
  }
  if (requested_lifetime == 0) {
    return Error(Errc::kInvalidArgument,
                 "requested_lifetime: must be > 0 (deregistration is a command)");
  }
  if (source_port == 0) return Error(Errc::kInvalidArgument, "source_port: must not be 0");
  if (max_retransmissions < 0) {
    return Error(Errc::kInvalidArgument, "max_retransmissions: must be >= 0");
  }
  if (initial_timeout < kMinRetransmitInterval) {
    return Error(Errc::kInvalidArgument,
                 "initial_timeout: must be >= 1s (RFC 5944 3.6.3 MUST NOT be less)");
  }
  if (max_timeout < initial_timeout) {
    return Error(Errc::kInvalidArgument, "max_timeout: must be >= initial_timeout");
  }
  if (reregister_margin < Duration::Zero()) {
    return Error(Errc::kInvalidArgument, "reregister_margin: must be >= 0");
  }
  if (max_resyncs < 0) return Error(Errc::kInvalidArgument, "max_resyncs: must be >= 0");
  if (default_keepalive < kMinKeepalive) {
    return Error(Errc::kInvalidArgument, "default_keepalive: must be >= 10s (RFC 3519 4.10)");
  }
  if (keepalive_reply_timeout <= Duration::Zero()) {
    return Error(Errc::kInvalidArgument, "keepalive_reply_timeout: must be positive");
  }
  if (keepalive_retries < 1) {
    return Error(Errc::kInvalidArgument, "keepalive_retries: must be >= 1");
  }
  if (Status s = discovery.Validate(); !s.ok()) return s.error().WithContext("discovery");
  return Ok{};
}

Result<ForeignAgentTarget> ForeignAgentTarget::From(const AgentInfo& agent) {
  if (!agent.is_foreign_agent()) {
    return Error(Errc::kInvalidArgument, "agent " + agent.address.ToString() +
                                             " does not advertise foreign agent service (F)");
  }
  std::optional<Ipv4Address> coa = agent.FirstCareOf();
  if (!coa) {
    return Error(Errc::kInvalidArgument,
                 "agent " + agent.address.ToString() + " advertises no care-of address");
  }
  ForeignAgentTarget t;
  t.agent_address = agent.address;
  t.care_of_address = *coa;
  t.max_lifetime = agent.mobility().registration_lifetime;
  t.reverse_tunnel_supported = agent.mobility().reverse_tunnel;
  return t;
}

Result<std::unique_ptr<MobileNodeRegistration>> MobileNodeRegistration::Create(
    const MobileNodeConfig& config, MnHaSecurity& security, RandomSource& random, Logger log) {
  MIPSEC_TRY(config.Validate());
  MIPSEC_TRY(ValidateSpi(security.sa().spi()));
  return std::unique_ptr<MobileNodeRegistration>(
      new MobileNodeRegistration(config, security, random, std::move(log)));
}

MobileNodeRegistration::MobileNodeRegistration(const MobileNodeConfig& config,
                                               MnHaSecurity& security, RandomSource& random,
                                               Logger log)
    : config_(config), security_(security), random_(random), log_(std::move(log)),
      discovery_(config.discovery, config.home_agent, random, log_.Child("discovery")),
      home_address_(config.home_address) {
  keepalive_id_ = static_cast<std::uint16_t>(random_.U32());
}

std::optional<AttemptKind> MobileNodeRegistration::pending_kind() const {
  if (!attempt_) return std::nullopt;
  return attempt_->kind;
}

const Bytes* MobileNodeRegistration::last_request() const {
  return attempt_ ? &attempt_->wire : nullptr;
}

Timestamp MobileNodeRegistration::NextTimeout() const {
  return std::min(timers_.NextDeadline(), discovery_.NextTimeout());
}

// ---------------------------------------------------------------- commands

Status MobileNodeRegistration::RegisterColocated(Timestamp now, Ipv4Address coa, int ifindex) {
  if (!coa.IsUnicast()) {
    return Error(Errc::kInvalidArgument, "care-of address " + coa.ToString() + " is not unicast");
  }
  Attempt a;
  a.kind = AttemptKind::kRegister;
  a.ifindex = ifindex;
  a.coa = coa;
  // RFC 5944 3.6.1.1: with a co-located CoA the source MUST be the CoA.
  a.source = coa;
  a.destination = config_.home_agent;
  a.lifetime = config_.requested_lifetime;
  a.udp_requested = config_.udp_tunnel != UdpTunnelPolicy::kNever;
  a.udp_forced = config_.udp_tunnel == UdpTunnelPolicy::kForce;
  return Start(now, std::move(a));
}

Status MobileNodeRegistration::RegisterViaFa(Timestamp now, const ForeignAgentTarget& fa,
                                             int ifindex) {
  if (!fa.agent_address.IsUnicast() || !fa.care_of_address.IsUnicast()) {
    return Error(Errc::kInvalidArgument, "foreign agent and care-of address must be unicast");
  }
  if (config_.reverse_tunnel && !fa.reverse_tunnel_supported) {
    // RFC 3024 3.1: the FA advertises T when it supports reverse tunnels;
    // it would deny with 74.
    return Error(Errc::kUnsupported, "foreign agent " + fa.agent_address.ToString() +
                                         " does not advertise reverse tunnelling (T)");
  }
  Attempt a;
  a.kind = AttemptKind::kRegister;
  a.ifindex = ifindex;
  a.coa = fa.care_of_address;
  // RFC 5944 3.6.1.1: the home address, or 0.0.0.0 without one; the
  // destination is the agent's address from its advertisement.
  a.source = home_address_.value_or(Ipv4Address::Any());
  a.destination = fa.agent_address;
  a.fa = fa;
  // 3.6.1.2: SHOULD NOT exceed the advertised Registration Lifetime.
  a.lifetime = config_.requested_lifetime;
  if (fa.max_lifetime != kInfiniteLifetime) {
    a.lifetime = static_cast<std::uint16_t>(
        std::min<unsigned>(a.lifetime == kInfiniteLifetime ? 0xfffe : a.lifetime,
                           fa.max_lifetime));
  }
  if (a.lifetime == 0) {
    return Error(Errc::kInvalidArgument, "foreign agent advertises a registration lifetime of 0");
  }
  // RFC 3519 4.4: no UDP Tunnel Request with a foreign agent care-of address.
  a.udp_requested = false;
  return Start(now, std::move(a));
}

Status MobileNodeRegistration::Deregister(Timestamp now, int ifindex,
                                          std::optional<Ipv4Address> coa) {
  if (!home_address_) {
    return Error(Errc::kState, "deregistration needs a known home address");
  }
  Attempt a;
  a.kind = AttemptKind::kDeregister;
  a.ifindex = ifindex;
  a.destination = config_.home_agent;
  a.lifetime = 0;
  if (coa) {
    if (!coa->IsUnicast()) return Error(Errc::kInvalidArgument, "care-of address not unicast");
    a.coa = *coa;
    a.source = *coa;
  } else {
    // RFC 5944 3.6.1.2: deregistering all care-of addresses (returning
    // home): Lifetime 0 and Care-of Address = home address; 3.6.1.1: sent
    // from the home address.
    a.coa = *home_address_;
    a.source = *home_address_;
  }
  return Start(now, std::move(a));
}

Status MobileNodeRegistration::DeregisterBinding(Timestamp now) {
  if (!binding_) return Error(Errc::kState, "no binding to deregister");
  if (!binding_->foreign_agent) return Deregister(now, binding_->ifindex, binding_->care_of_address);
  // RFC 5944 3.6.1.2: the care-of address of this binding, Lifetime 0;
  // 3.6.1.1: registering with a foreign agent, the request goes to the
  // agent's address from the home address (0.0.0.0 without one).
  const ForeignAgentTarget& fa = *binding_->foreign_agent;
  Attempt a;
  a.kind = AttemptKind::kDeregister;
  a.ifindex = binding_->ifindex;
  a.coa = binding_->care_of_address;
  a.source = home_address_.value_or(Ipv4Address::Any());
  a.destination = fa.agent_address;
  a.fa = fa;
  a.lifetime = 0;
  return Start(now, std::move(a));
}

Status MobileNodeRegistration::Reregister(Timestamp now) {
  if (!binding_) return Error(Errc::kState, "no binding to re-register");
  Attempt a;
  a.kind = AttemptKind::kReregister;
  a.ifindex = binding_->ifindex;
  a.coa = binding_->care_of_address;
  a.lifetime = config_.requested_lifetime;
  if (binding_->foreign_agent) {
    const ForeignAgentTarget& fa = *binding_->foreign_agent;
    a.fa = fa;
    a.source = home_address_.value_or(Ipv4Address::Any());
    a.destination = fa.agent_address;
    if (fa.max_lifetime != kInfiniteLifetime && a.lifetime > fa.max_lifetime) {
      a.lifetime = fa.max_lifetime;
    }
  } else {
    a.source = binding_->care_of_address;
    a.destination = config_.home_agent;
    a.udp_requested = config_.udp_tunnel != UdpTunnelPolicy::kNever;
    a.udp_forced = config_.udp_tunnel == UdpTunnelPolicy::kForce;
  }
  return Start(now, std::move(a));
}

void MobileNodeRegistration::Cancel() { Finish(); }

void MobileNodeRegistration::Stop(Timestamp /*now*/, int ifindex) {
  Finish();
  binding_.reset();
  keepalive_outstanding_.reset();
  keepalive_tries_ = 0;
  ArmBindingTimers();
  discovery_.SetReferenceAgent(std::nullopt);
  discovery_.ForgetInterface(ifindex);
}

Status MobileNodeRegistration::Start(Timestamp now, Attempt a) {
  std::optional<Attempt> previous = std::move(attempt_);
  a.rto = config_.initial_timeout;
  attempt_ = std::move(a);
  if (Status s = SendNew(now); !s.ok()) {
    attempt_ = std::move(previous);
    return s;
  }
  MIPSEC_LOG(log_, kInfo) << AttemptKindName(attempt_->kind) << ": care-of "
                          << attempt_->coa << " to " << attempt_->destination << " lifetime "
                          << attempt_->lifetime << (attempt_->fa ? " via FA" : " co-located");
  return Ok{};
}

Result<Bytes> MobileNodeRegistration::BuildRequest(const Attempt& a,
                                                   const RegistrationRequest& r) {
  MessageBuilder b = MessageBuilder::Request(r);
  // RFC 5944 3.6.1.3 (b): extensions for the HA, covered by MN-HA.
  if (!config_.nai.empty()) MIPSEC_TRY(b.AppendNai(config_.nai));
  if (a.udp_requested) {
    // RFC 3519 3.1 / 4.4: before the MN-HA extension; IP-in-UDP.
    UdpTunnelRequest utr;
    utr.force = a.udp_forced;
    utr.encapsulation = kEncapIpInIp;
    b.AppendUdpTunnelRequest(utr);
  }
  SecurityAssociation& sa = security_.sa();
  MIPSEC_TRY(b.AppendAuth(kExtMnHaAuth, sa.spi(), sa.authenticator_size(),
                          [&sa](ByteSpan covered) { return sa.Compute(covered); }));
  return std::move(b).Take();
}

Status MobileNodeRegistration::SendNew(Timestamp now) {
  Attempt& a = *attempt_;
  RegistrationRequest r;
  const bool co_located = !a.fa.has_value() && a.coa != home_address_.value_or(Ipv4Address());
  r.simultaneous_bindings = config_.simultaneous_bindings && a.kind != AttemptKind::kDeregister;
  // 3.6.1.2: D with a co-located CoA only; B only when we decapsulate.
  r.decapsulation_by_mn = co_located;
  r.broadcast = config_.broadcast && co_located && a.kind != AttemptKind::kDeregister;
  r.reverse_tunnel = config_.reverse_tunnel && a.kind != AttemptKind::kDeregister;
  r.lifetime = a.lifetime;
  r.home_address = home_address_.value_or(Ipv4Address::Any());
  r.home_agent = config_.home_agent;
  r.care_of_address = a.coa;
  // RFC 5944 5.7 via the shared replay state (a new value for every
  // timestamp-mode transmission, 3.6.3).
  r.identification = security_.replay().NextIdentification(security_.WallClock(now), random_);
  MIPSEC_ASSIGN_OR_RETURN(Bytes wire, BuildRequest(a, r));
  a.request = r;
  a.wire = std::move(wire);
  a.id_first_sent = now;
  SendCurrent(now, false);
  return Ok{};
}

void MobileNodeRegistration::SendCurrent(Timestamp now, bool retransmission) {
  Attempt& a = *attempt_;
  UdpTransmit t;
  t.local = {a.source, config_.source_port};
  t.remote = {a.destination, kMipPort};
  if (a.ifindex != 0) t.ifindex = a.ifindex;
  // RFC 5944 3.6.1.1: TTL 1 to the All Mobility Agents group; RFC 3024
  // 4.1.1 / 6: a request to a foreign agent MUST leave with TTL 255.
  if (a.destination == kAllMobilityAgents) {
    t.ttl = 1;
  } else if (a.fa.has_value()) {
    t.ttl = 255;
  }
  t.payload = a.wire;
  transmits_.push_back(std::move(t));
  ++a.transmissions;
  ++a.total_transmissions;
  ++counters_.requests_sent;
  if (retransmission) ++counters_.retransmissions;
  if (a.destination == config_.home_agent) NoteSentToHa(now);
  // 3.6.3: the wait SHOULD not exceed the requested lifetime, and MUST NOT
  // be under 1 s.
  Duration wait = a.rto;
  if (a.lifetime != 0 && a.lifetime != kInfiniteLifetime) {
    wait = std::min(wait, std::max(kMinRetransmitInterval, Duration::Seconds(a.lifetime)));
  }
  timers_.Set(Timer::kRetransmit, now + wait);
}

void MobileNodeRegistration::OnRetransmitTimer(Timestamp now) {
  if (!attempt_) return;
  Attempt& a = *attempt_;
  if (a.transmissions > config_.max_retransmissions) {
    MIPSEC_LOG(log_, kNotice) << AttemptKindName(a.kind) << ": no reply after "
                              << a.total_transmissions << " requests, giving up";
    events_.push_back(
        RegistrationTimeoutEvent{a.kind, a.ifindex, a.coa, a.total_transmissions});
    Finish();
    return;
  }
  // 3.6.3: each timeout at least twice the previous one, up to the maximum.
  a.rto = std::min(a.rto * 2, config_.max_timeout);
  if (security_.replay().method() == ReplayMethod::kTimestamp) {
    // 3.6.3: "a new registration Identification is chosen for each
    // retransmission".
    const int sent = a.transmissions;
    if (!SendNew(now).ok()) {
      Finish();
      return;
    }
    a.transmissions = sent + 1;
    ++counters_.retransmissions;
  } else {
    // 3.6.3: with nonces "the unanswered Request is retransmitted unchanged".
    SendCurrent(now, true);
  }
}

void MobileNodeRegistration::Finish() {
  attempt_.reset();
  timers_.Clear(Timer::kRetransmit);
}

// ------------------------------------------------------------------ inputs

Status MobileNodeRegistration::Drop(MnDrop why, Error e) {
  ++counters_.dropped[static_cast<std::size_t>(why)];
  if (why == MnDrop::kAuthFailed || why == MnDrop::kAuthMissing) {
    // RFC 5944 3.6.2.1: "SHOULD log the event as a security exception".
    MIPSEC_LOG(log_, kWarning) << "security exception: reply dropped: " << e.ToString();
  } else {
    MIPSEC_LOG(log_, kDebug) << "dropped (" << MnDropName(why) << "): " << e.ToString();
  }
  return e;
}

Status MobileNodeRegistration::OnUdp(Timestamp now, const UdpReceived& rx) {
  Result<std::uint8_t> type = PeekMessageType(rx.payload);
  if (!type.ok()) return Drop(MnDrop::kMalformed, type.error());
  if (*type == kMsgRegistrationReply) return HandleReply(now, rx);
  if (*type == kMsgTunnelData) return HandleTunnelData(now, rx);
  return Drop(MnDrop::kMalformed, Error(Errc::kUnsupported, "Mobile IP message type " +
                                                                std::to_string(*type) +
                                                                " not handled by a mobile node"));
}

Status MobileNodeRegistration::HandleReply(Timestamp now, const UdpReceived& rx) {
  Result<ParsedRegistrationReply> parsed = ParseRegistrationReply(rx.payload);
  if (!parsed.ok()) {
    // RFC 5944 1.8: an unknown extension 0-127 => silently discard.
    if (IsUnrecognizedExtension(parsed.error())) {
      return Drop(MnDrop::kUnrecognized, parsed.error());
    }
    return Drop(MnDrop::kMalformed, parsed.error().WithContext("registration reply"));
  }
  if (!attempt_) {
    return Drop(MnDrop::kNoAttempt, Error(Errc::kState, "no registration request outstanding"));
  }
  Attempt& a = *attempt_;
  const RegistrationReply& reply = parsed->reply;

  // The reply must come back on the path the request took.
  if (a.ifindex != 0 && rx.ifindex != a.ifindex) {
    return Drop(MnDrop::kWrongPath, Error(Errc::kState, "reply arrived on interface " +
                                                            std::to_string(rx.ifindex) +
                                                            ", request went out on " +
                                                            std::to_string(a.ifindex)));
  }
  if (rx.local.port != config_.source_port ||
      (!a.source.IsAny() && rx.local.address != a.source)) {
    return Drop(MnDrop::kWrongPath,
                Error(Errc::kState, "reply to " + rx.local.ToString() + ", request from " +
                                        Ipv4Endpoint{a.source, config_.source_port}.ToString()));
  }
  if (rx.remote.address != a.destination || rx.remote.port != kMipPort) {
    return Drop(MnDrop::kWrongPath, Error(Errc::kState, "reply from " + rx.remote.ToString() +
                                                            ", request went to " +
                                                            a.destination.ToString()));
  }
  // RFC 5944 3.6.2.1: low-order 32 bits against the most recent request.
  if (IdentificationLow(reply.identification) != IdentificationLow(a.request.identification)) {
    return Drop(MnDrop::kIdMismatch,
                Error(Errc::kReplay, "Identification low 32 bits do not match the most "
                                     "recent request (RFC 5944 3.6.2.1)"));
  }
  if (!a.request.home_address.IsAny() && reply.home_address != a.request.home_address) {
    return Drop(MnDrop::kHomeMismatch, Error(Errc::kMalformed,
                                             "reply Home Address " +
                                                 reply.home_address.ToString() + " is not ours"));
  }
  if (std::optional<Violation> v = Validate(*parsed)) {
    return Drop(MnDrop::kRules, v->ToError());
  }

  // RFC 5944 3.6.2.1 (b): an HA code or an acceptance needs exactly one
  // MN-HA extension that verifies. FA denials carry none we can check.
  const bool fa_code = IsForeignAgentCode(reply.code);
  bool authenticated = false;
  std::size_t covered_end = 0;  // extensions ending at or before this are covered
  const ExtensionList& exts = parsed->extensions;
  if (!fa_code) {
    if (exts.Count(kExtMnHaAuth) != 1) {
      return Drop(MnDrop::kAuthMissing,
                  Error(Errc::kAuthFailed, "reply with code " + std::to_string(reply.code) +
                                               " has " + std::to_string(exts.Count(kExtMnHaAuth)) +
                                               " MN-HA extensions, needs exactly 1"));
    }
    Result<AuthCoverage> cov = AuthenticationCoverageOfType(exts, kExtMnHaAuth);
    if (!cov.ok()) return Drop(MnDrop::kAuthMissing, cov.error());
    SecurityAssociation& sa = security_.sa();
    if (cov->spi != sa.spi()) {
      return Drop(MnDrop::kAuthFailed,
                  Error(Errc::kAuthFailed, "MN-HA SPI " + std::to_string(cov->spi) +
                                               " is not ours (" + std::to_string(sa.spi()) +
                                               ")"));
    }
    if (Status s = sa.Verify(cov->covered, cov->authenticator); !s.ok()) {
      return Drop(MnDrop::kAuthFailed, s.error().WithContext("MN-HA authenticator"));
    }
    authenticated = true;
    covered_end = exts[cov->extension_index].offset;
  }
  if (Status s = security_.replay().CheckReply(a.request.identification, reply.code,
                                               reply.identification);
      !s.ok()) {
    return Drop(MnDrop::kReplay, s.error());
  }
  const bool accepted = IsAcceptedCode(reply.code);
  if (accepted && a.kind != AttemptKind::kDeregister && reply.lifetime == 0) {
    return Drop(MnDrop::kBadLifetime,
                Error(Errc::kMalformed, "acceptance of a registration grants lifetime 0"));
  }
  if (accepted && !authenticated) {  // unreachable: accepted codes are not FA codes
    return Drop(MnDrop::kAuthMissing, Error(Errc::kAuthFailed, "unauthenticated acceptance"));
  }

  // The reply is valid. Learn from it (RFC 5944 3.6.2.3, 5.7) only if the
  // MN-HA authenticator proved it came from the HA.
  ++counters_.replies_accepted;
  if (authenticated) {
    security_.replay().OnAuthenticatedReply(a.request.identification, reply.code,
                                            reply.identification, security_.WallClock(now));
  }

  // RFC 5265 3.4 / 4.1: TNC counts only inside the MN-HA coverage of an
  // authenticated reply to the current request.
  bool tnc = false;
  bool udp_tunnel = false;
  bool udp_forced = false;
  std::optional<std::uint16_t> keepalive;
  for (const Extension& e : exts) {
    if (!e.recognized) continue;
    const bool covered = authenticated && e.end() <= covered_end;
    if (e.type == kExtTnc) {
      if (covered) {
        tnc = true;
      } else {
        ++counters_.tnc_ignored;
        MIPSEC_LOG(log_, kNotice) << "TNC extension ignored: not covered by a verified MN-HA "
                                     "authenticator (code "
                                  << reply.code << ")";
      }
    } else if (e.type == kExtUdpTunnelReply && covered && a.udp_requested) {
      // RFC 3519 4.4: without (an authenticated) UDP Tunnel Reply, no UDP
      // tunnelling.
      Result<UdpTunnelReply> utr = DecodeUdpTunnelReply(e);
      if (utr.ok() && utr->assents()) {
        udp_tunnel = true;
        udp_forced = utr->forced;
        keepalive = utr->keepalive_interval;
      }
    }
  }
  if (tnc) ++counters_.tnc_reported;

  if (accepted) {
    if (!a.request.home_address.IsAny()) {
      // already ours
    } else if (reply.home_address.IsUnicast()) {
      // RFC 5944 3.6 / RFC 2794: the home address assigned by the HA.
      home_address_ = reply.home_address;
    }
    if (a.kind == AttemptKind::kDeregister) {
      MIPSEC_LOG(log_, kInfo) << "deregistered care-of " << a.coa << (tnc ? " (TNC)" : "");
      events_.push_back(DeregisteredEvent{a.ifindex, a.coa, tnc});
      const bool all = home_address_ && a.coa == *home_address_;
      if (binding_ && (all || binding_->care_of_address == a.coa)) {
        binding_.reset();
        keepalive_outstanding_.reset();
        discovery_.SetReferenceAgent(std::nullopt);
        ArmBindingTimers();
      }
      Finish();
      return Ok{};
    }
    Accept(now, reply, tnc, udp_tunnel, keepalive, udp_forced);
    return Ok{};
  }

  // Denied.
  if (authenticated && reply.code == kCodeIdentificationMismatch &&
      a.resyncs < config_.max_resyncs) {
    // RFC 5944 3.6.2.3: resynchronised above; retry with a fresh request.
    ++a.resyncs;
    ++counters_.resyncs;
    a.rto = config_.initial_timeout;
    a.transmissions = 0;
    MIPSEC_LOG(log_, kInfo) << "133 from the home agent: resynchronised, retrying";
    if (!SendNew(now).ok()) Finish();
    return Ok{};
  }
  if (reply.code == static_cast<std::uint8_t>(ReplyCode::kFaLifetimeTooLong) &&
      config_.repair_lifetime_too_long && !a.lifetime_repaired && reply.lifetime > 0 &&
      reply.lifetime < a.lifetime) {
    // RFC 5944 3.6.2.3 code 69: retry once with at most the FA's maximum.
    a.lifetime_repaired = true;
    a.lifetime = reply.lifetime;
    a.rto = config_.initial_timeout;
    a.transmissions = 0;
    MIPSEC_LOG(log_, kInfo) << "69 from the foreign agent: retrying with lifetime "
                            << reply.lifetime;
    if (!SendNew(now).ok()) Finish();
    return Ok{};
  }
  DeniedEvent d;
  d.kind = a.kind;
  d.code = reply.code;
  d.by = fa_code ? DeniedBy::kForeignAgent : DeniedBy::kHomeAgent;
  d.authenticated = authenticated;
  d.tnc = tnc;
  d.ifindex = a.ifindex;
  d.care_of_address = a.coa;
  d.lifetime = reply.lifetime;
  d.home_agent = reply.home_agent;
  MIPSEC_LOG(log_, kNotice) << AttemptKindName(a.kind) << " denied by "
                            << (fa_code ? "foreign agent" : "home agent") << ": "
                            << static_cast<int>(reply.code) << " " << ReplyCodeName(reply.code);
  events_.push_back(d);
  Finish();
  return Ok{};
}

void MobileNodeRegistration::Accept(Timestamp /*now*/, const RegistrationReply& reply, bool tnc,
                                    bool udp_tunnel,
                                    const std::optional<std::uint16_t>& keepalive_secs,
                                    bool udp_forced) {
  Attempt& a = *attempt_;
  MnBinding b;
  b.ifindex = a.ifindex;
  b.care_of_address = a.coa;
  b.home_address = home_address_.value_or(reply.home_address);
  b.home_agent = config_.home_agent;
  b.foreign_agent = a.fa;
  // The HA may only shorten the lifetime (3.8.3.2); never trust more.
  b.granted_lifetime = reply.lifetime;
  if (a.lifetime != kInfiniteLifetime &&
      (reply.lifetime == kInfiniteLifetime || reply.lifetime > a.lifetime)) {
    b.granted_lifetime = a.lifetime;
  }
  // 3.6.2.2: timed from when the answered request was sent.
  b.registered_at = a.id_first_sent;
  b.expires_at = b.registered_at + LifetimeDuration(b.granted_lifetime);
  if (a.fa) {
    b.encapsulation = TunnelEncapsulation::kNone;
  } else {
    b.encapsulation = udp_tunnel ? TunnelEncapsulation::kUdp : TunnelEncapsulation::kIpInIp;
  }
  b.reverse_tunnel = a.request.reverse_tunnel;
  b.udp_tunnel_forced = udp_tunnel && udp_forced;
  if (udp_tunnel) {
    // RFC 3519 3.2: 0 means the default; 4.10: never below 10 s.
    Duration k = keepalive_secs && *keepalive_secs != 0 ? Duration::Seconds(*keepalive_secs)
                                                        : config_.default_keepalive;
    b.keepalive_interval = std::max(k, kMinKeepalive);
  }
  b.tnc = tnc;
  const bool renewal = a.kind == AttemptKind::kReregister ||
                       (binding_ && binding_->care_of_address == b.care_of_address &&
                        binding_->ifindex == b.ifindex &&
                        binding_->co_located() == b.co_located());
  RegisteredEvent ev;
  ev.binding = b;
  ev.code = reply.code;
  ev.renewal = renewal;
  ev.transmissions = a.total_transmissions;
  MIPSEC_LOG(log_, kInfo) << "registered care-of " << b.care_of_address << " lifetime "
                          << b.granted_lifetime << " encapsulation "
                          << TunnelEncapsulationName(b.encapsulation)
                          << (b.reverse_tunnel ? " reverse-tunnel" : "") << (tnc ? " TNC" : "");
  binding_ = std::move(b);
  events_.push_back(std::move(ev));
  if (binding_->foreign_agent) {
    discovery_.SetReferenceAgent(
        std::make_pair(binding_->ifindex, binding_->foreign_agent->agent_address));
  } else {
    discovery_.SetReferenceAgent(std::nullopt);
  }
  keepalive_outstanding_.reset();
  keepalive_tries_ = 0;
  Finish();
  ArmBindingTimers();
}

void MobileNodeRegistration::ArmBindingTimers() {
  if (!binding_) {
    timers_.Clear(Timer::kReregister);
    timers_.Clear(Timer::kExpiry);
    timers_.Clear(Timer::kKeepalive);
    return;
  }
  if (binding_->expires_at.IsInfinite()) {
    timers_.Clear(Timer::kReregister);
    timers_.Clear(Timer::kExpiry);
  } else {
    const Duration life = Duration::Seconds(binding_->granted_lifetime);
    const Duration margin = std::min(config_.reregister_margin, life / 2);
    timers_.Set(Timer::kReregister, binding_->expires_at - margin);
    timers_.Set(Timer::kExpiry, binding_->expires_at);
  }
  if (binding_->encapsulation == TunnelEncapsulation::kUdp) {
    // RFC 3519 4.9: first keepalive at the earliest K after the request.
    timers_.Set(Timer::kKeepalive, last_sent_to_ha_ + binding_->keepalive_interval);
  } else {
    timers_.Clear(Timer::kKeepalive);
  }
}

void MobileNodeRegistration::OnTimeout(Timestamp now) {
  discovery_.OnTimeout(now);
  PumpDiscovery(now);
  while (std::optional<Timer> t = timers_.PopExpired(now)) {
    switch (*t) {
      case Timer::kRetransmit:
        OnRetransmitTimer(now);
        break;
      case Timer::kReregister:
        // Leave a registration already under way (a move) alone.
        if (binding_ && !attempt_) (void)Reregister(now);
        break;
      case Timer::kExpiry:
        if (binding_) {
          MIPSEC_LOG(log_, kNotice) << "binding for care-of " << binding_->care_of_address
                                    << " expired";
          events_.push_back(BindingExpiredEvent{*binding_});
          binding_.reset();
          keepalive_outstanding_.reset();
          discovery_.SetReferenceAgent(std::nullopt);
          ArmBindingTimers();
        }
        break;
      case Timer::kKeepalive:
        OnKeepaliveTimer(now);
        break;
      case Timer::kCount:
        break;
    }
  }
}

void MobileNodeRegistration::PumpDiscovery(Timestamp now) {
  while (std::optional<AgentDiscoveryEvent> e = discovery_.PollEvent()) {
    if (const auto* rb = std::get_if<AgentRebootedEvent>(&*e)) {
      // RFC 5944 2.4.4: the FA we are registered through rebooted and has
      // lost its visitor list: register again.
      if (binding_ && binding_->foreign_agent && binding_->ifindex == rb->ifindex &&
          binding_->foreign_agent->agent_address == rb->address && !attempt_) {
        (void)Reregister(now);
      }
    }
    std::visit([this](auto&& ev) { events_.push_back(MnEvent(std::move(ev))); }, std::move(*e));
  }
}

Status MobileNodeRegistration::OnIpPacket(Timestamp now, int ifindex, ByteSpan packet) {
  Result<ip::Ipv4Packet> p = ip::ParseIpv4(packet);
  if (!p.ok()) return Drop(MnDrop::kMalformed, p.error().WithContext("ipv4"));
  if (p->header.protocol == ip::kProtoIpip) return HandleIpip(now, ifindex, packet);
  if (p->header.protocol == ip::kProtoIcmp && !p->payload.empty() &&
      p->payload[0] == ip::kIcmpRouterAdvertisement) {
    Status s = discovery_.OnAdvertisementPacket(now, ifindex, packet);
    PumpDiscovery(now);
    return s;
  }
  return Error(Errc::kUnsupported, "not IP-in-IP or an agent advertisement");
}

std::optional<Transmit> MobileNodeRegistration::PollTransmit() {
  if (!transmits_.empty()) {
    Transmit t = std::move(transmits_.front());
    transmits_.pop_front();
    return t;
  }
  if (std::optional<IpTransmit> t = discovery_.PollTransmit()) return Transmit(std::move(*t));
  return std::nullopt;
}

std::optional<Bytes> MobileNodeRegistration::PollDelivery() {
  if (deliveries_.empty()) return std::nullopt;
  Bytes b = std::move(deliveries_.front());
  deliveries_.pop_front();
  return b;
}

std::optional<MnEvent> MobileNodeRegistration::PollEvent() {
  if (events_.empty()) return std::nullopt;
  MnEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

}  // namespace mipsec::mip4
