// MobileNodeRegistration: the mobile node's Mobile IPv4 registration engine
// (RFC 5944 3.6, 2.4; RFC 3024 reverse tunnelling; RFC 3519 UDP tunnelling;
// RFC 2794 NAI; RFC 5265 3.4 TNC), sans-I/O. The RFC 5266 controller (src/mn)
// drives it; it decides nothing about trust itself, it only reports facts
// that were proven by an authenticated reply.
//
// ---- Instances, paths and the shared security state ----
// One MobileNodeRegistration runs one registration attempt at a time on one
// path (an interface, or the VPN tunnel as a pseudo-interface): RFC 5266 3.4
// and RFC 5265 3.2.1 want an independent attempt per interface, so the
// controller creates one instance per interface/path. All instances for one
// home agent share one MnHaSecurity (the MN-HA security association and the
// replay state, RFC 5944 5.7): Identifications must keep increasing across
// all of them (timestamps) and the HA's latest nonce is one value (nonces).
// If two instances' requests cross at the HA, the loser gets 133 and
// resynchronises automatically (bounded by max_resyncs). Everything is
// single-threaded; the MnHaSecurity must outlive its instances.
//
// ---- Call order (mip4/io.h) ----
//   1. a command (RegisterColocated / RegisterViaFa / Deregister / Reregister
//      / Cancel / Stop / StartSolicitation / SendPacket) or an input
//      (OnUdp for UDP port `source_port` on this path, OnIpPacket for IP-in-IP
//      and ICMP, OnTimeout);
//   2. PollTransmit() until empty, PollDelivery() until empty (decapsulated
//      datagrams for the local stack), PollEvent() until empty;
//   3. arm one timer for NextTimeout().
// `now` never decreases. Commands that fail return an Error and change
// nothing.
//
// ---- What a reply must pass before it changes anything (RFC 5944 3.6.2.1) --
//   1. it parses (RFC 5944 1.8: unknown non-skippable extension => discard);
//   2. an attempt is outstanding and the reply came back on its path: the
//      ifindex (when the path names one), our local address and port, and
//      from the agent the request went to (the HA, or the FA);
//   3. the low 32 bits of the Identification equal those of the most recent
//      request sent (3.6.2.1 MUST), and the Home Address matches ours;
//   4. the extension rules (mip4/codec/rules.h) hold;
//   5. for a code from the HA or an acceptance: exactly one MN-HA extension,
//      with our SPI, whose authenticator verifies (3.6.2.1 b); for an FA
//      denial (64-127, 193-200) no MN-HA is required — such a reply is
//      unauthenticated;
//   6. the replay method's rule (MnReplayState::CheckReply: in timestamp mode
//      an acceptance carries the whole Identification).
// A reply failing any check is dropped: OnUdp returns the Error, the reason
// is counted (MnCounters::dropped), failures of 5 are logged as security
// exceptions, and no state changes (the replay state learns only from
// authenticated replies).
//
// ---- TNC (RFC 5265 3.4, RFC 5266 3.4; MISSION R11/R22/R24) ----
// `tnc` in RegisteredEvent / DeniedEvent / DeregisteredEvent is true only
// when ALL of these hold: the reply passed every check above including the
// MN-HA authenticator (so never for an FA denial, which cannot carry a valid
// MN-HA authenticator, and never for a forged or unauthenticated reply); it
// answers the most recent request of the current attempt; and the TNC
// extension lies inside the MN-HA authenticator's coverage. Whether the
// reply came "directly" is a property of the path: the event carries the
// path (ifindex) and whether the registration went through an FA, and the
// controller only treats an instance on a physical interface registering
// directly with the HA as proof of being inside.
//
// ---- Timers ----
//   retransmission: first after `initial_timeout`, each next timeout doubled,
//     capped by `max_timeout` and by the requested lifetime (3.6.3); after
//     `max_retransmissions` retransmissions and one more timeout the attempt
//     gives up (RegistrationTimeoutEvent). Timestamp mode: every
//     retransmission carries a new Identification (3.6.3); nonce mode: it is
//     sent unchanged.
//   re-registration: the granted lifetime counts from when the answered
//     request was sent (3.6.2.2); the engine re-registers `reregister_margin`
//     before that (at most half the lifetime before it). If the binding
//     expires anyway, BindingExpiredEvent.
//   keepalive (RFC 3519 4.9): with UDP tunnelling, a UDP-encapsulated ICMP
//     Echo Request to the HA whenever nothing was sent to the HA for the
//     keepalive interval K (from the UDP Tunnel Reply; 0 => 110 s; never
//     below 10 s, 4.10); unanswered after `keepalive_retries` tries, spaced
//     `keepalive_reply_timeout`, the NAT mapping is presumed lost
//     (KeepaliveLostEvent) and the engine re-registers (4.10).
//   agent discovery: see agent_discovery.h.
//
// ---- Data plane (co-located care-of address, RFC 5944 4.2.1, RFC 3024,
//      RFC 3519 4.3) ----
//   OnIpPacket(IP-in-IP): admitted only from the registered HA to the
//     registered co-located CoA while IP-in-IP is in force, inner
//     destination our home address (or broadcast/multicast with B); the
//     inner datagram goes to PollDelivery().
//   OnUdp(Tunnel Data, type 4): admitted only with UDP tunnelling in force,
//     from exactly the HA's address and port 434 to our CoA and source port
//     (3519 4.3), Next Header 4 (3.3 MUST drop otherwise); keepalive echo
//     replies are consumed, the rest goes to PollDelivery().
//   SendPacket(inner): reverse tunnelling (T granted) from the home address:
//     IP-in-IP CoA->HA (RFC 3024 5.4 co-located) or Tunnel Data over UDP to
//     HA:434 from our source port (RFC 3519 4.4 MUST use the registration's
//     port). With an FA care-of address: Direct Delivery style (RFC 3024
//     5.1), the datagram is sent as is with the FA as on-link next hop.
//
// Not implemented (reported as errors where a caller could ask for them):
// MN-FA authentication, the Encapsulating Delivery Style, minimal and GRE
// encapsulation, co-located registration through an FA (RFC 3519 4.11),
// dynamic home agent discovery (136 is reported, not retried).
#ifndef MIPSEC_MIP4_MN_REG_REGISTRATION_H_
#define MIPSEC_MIP4_MN_REG_REGISTRATION_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/log.h"
#include "common/random.h"
#include "common/result.h"
#include "common/time.h"
#include "common/timer_table.h"
#include "mip4/codec/registration_reply.h"
#include "mip4/codec/registration_request.h"
#include "mip4/io.h"
#include "mip4/mn_reg/agent_discovery.h"
#include "mip4/security/ntp_time.h"
#include "mip4/security/replay.h"
#include "mip4/security/security_association.h"

namespace mipsec::mip4 {

// The MN-HA security association and replay state for one home agent,
// shared by every MobileNodeRegistration registering with that HA (see the
// file comment). Wall-clock time for timestamps comes from `clock`.
class MnHaSecurity {
 public:
  MnHaSecurity(SecurityAssociation sa, WallClockMapping clock)
      : sa_(std::move(sa)), replay_(sa_.replay_method()), clock_(clock) {}
  MnHaSecurity(const MnHaSecurity&) = delete;
  MnHaSecurity& operator=(const MnHaSecurity&) = delete;

  SecurityAssociation& sa() { return sa_; }
  MnReplayState& replay() { return replay_; }
  const MnReplayState& replay() const { return replay_; }
  NtpTime WallClock(Timestamp now) const { return clock_.At(now); }
  // The runtime re-samples its wall clock (io.h).
  void SetWallClock(WallClockMapping clock) { clock_ = clock; }

 private:
  SecurityAssociation sa_;
  MnReplayState replay_;
  WallClockMapping clock_;
};

enum class UdpTunnelPolicy : std::uint8_t {
  kNever,    // no UDP Tunnel Request extension
  kRequest,  // ask; the HA tunnels over UDP only if it sees a NAT (RFC 3519 3.1)
  kForce,    // ask with F: UDP tunnelling whatever the HA detects (3.1.1)
};

struct MobileNodeConfig {
  // Identity: a home address, an NAI (RFC 2794), or both. With only an NAI
  // the Home Address field is 0.0.0.0 and the address is learned from the
  // first accepted reply (RFC 5944 3.6).
  std::optional<Ipv4Address> home_address;
  std::string nai;
  Ipv4Address home_agent;

  // Requested lifetime in seconds (RFC 5944 3.3; 0xffff = infinity). Must
  // be > 0: deregistration is its own command.
  std::uint16_t requested_lifetime = 1800;
  bool reverse_tunnel = false;         // T (RFC 3024)
  bool simultaneous_bindings = false;  // S
  bool broadcast = false;              // B (co-located only)
  UdpTunnelPolicy udp_tunnel = UdpTunnelPolicy::kRequest;
  // Our UDP port for registrations and RFC 3519 tunnel data (same port,
  // RFC 3519 4.4 / 4.9).
  std::uint16_t source_port = kMipPort;

  // Retransmission (RFC 5944 3.6.3; RFC 5266 3.4: count and timeout are
  // configurable). initial_timeout >= 1 s (3.6.3: "MUST NOT be less than 1
  // second").
  int max_retransmissions = 3;
  Duration initial_timeout = Duration::Seconds(1);
  Duration max_timeout = Duration::Seconds(30);
  // Re-register this long before the binding expires (capped at half the
  // granted lifetime).
  Duration reregister_margin = Duration::Seconds(15);
  // Automatic retries after an authenticated 133 (RFC 5944 3.6.2.3), per
  // attempt; then the 133 is reported as a denial.
  int max_resyncs = 2;
  // One automatic retry with the FA's maximum after code 69 (3.6.2.3).
  bool repair_lifetime_too_long = true;

  // RFC 3519 4.9 / 4.10.
  Duration default_keepalive = Duration::Seconds(110);
  Duration keepalive_reply_timeout = Duration::Seconds(5);
  int keepalive_retries = 3;

  AgentDiscoveryConfig discovery;

  // kInvalidArgument naming the field.
  Status Validate() const;
};

enum class AttemptKind : std::uint8_t { kRegister, kReregister, kDeregister };
std::string_view AttemptKindName(AttemptKind k);


// Where an FA registration goes, from an agent advertisement
// (ForeignAgentTarget::From) or configured.
struct ForeignAgentTarget {
  Ipv4Address agent_address;    // IP source of its advertisement (3.6.1.1)
  Ipv4Address care_of_address;  // one of its advertised care-of addresses
  // Registration Lifetime of its advertisement (3.6.1.2: the request
  // SHOULD NOT exceed it); 0xffff: no limit.
  std::uint16_t max_lifetime = 0xffff;
  bool reverse_tunnel_supported = false;  // advertisement T flag

  // The first care-of address of an FA advertisement; kInvalidArgument if
  // it is not an FA or advertises none.
  static Result<ForeignAgentTarget> From(const AgentInfo& agent);
};

// The binding the HA granted, as the MN sees it.
struct MnBinding {
  int ifindex = 0;
  Ipv4Address care_of_address;
  Ipv4Address home_address;
  Ipv4Address home_agent;
  std::optional<ForeignAgentTarget> foreign_agent;  // set: FA care-of address
  std::uint16_t granted_lifetime = 0;               // seconds, 0xffff infinite
  Timestamp registered_at;  // when the answered request was sent
  Timestamp expires_at;     // Infinite for an infinite lifetime
  TunnelEncapsulation encapsulation = TunnelEncapsulation::kNone;
  bool reverse_tunnel = false;
  bool udp_tunnel_forced = false;
  Duration keepalive_interval;  // UDP tunnelling only
  bool tnc = false;             // see the file comment

  bool co_located() const { return !foreign_agent.has_value(); }
};

// --- Events ---
struct RegisteredEvent {
  MnBinding binding;
  std::uint8_t code = 0;  // 0 or 1 (no simultaneous bindings)
  bool renewal = false;   // a re-registration of the same binding
  int transmissions = 0;  // requests sent in this attempt
};
enum class DeniedBy : std::uint8_t { kHomeAgent, kForeignAgent };
struct DeniedEvent {
  AttemptKind kind = AttemptKind::kRegister;
  std::uint8_t code = 0;
  DeniedBy by = DeniedBy::kHomeAgent;
  // MN-HA verified (always for HA codes; never for FA codes).
  bool authenticated = false;
  bool tnc = false;  // see the file comment
  int ifindex = 0;
  Ipv4Address care_of_address;
  // The reply's Lifetime (69: the FA's maximum) and Home Agent field (136:
  // the HA's unicast address).
  std::uint16_t lifetime = 0;
  Ipv4Address home_agent;
};
struct RegistrationTimeoutEvent {
  AttemptKind kind = AttemptKind::kRegister;
  int ifindex = 0;
  Ipv4Address care_of_address;
  int transmissions = 0;
};
struct DeregisteredEvent {
  int ifindex = 0;
  Ipv4Address care_of_address;  // the home address when deregistering at home
  bool tnc = false;
};
struct BindingExpiredEvent {
  MnBinding binding;
};
struct KeepaliveLostEvent {  // RFC 3519 4.10: NAT mapping presumed lost
  MnBinding binding;
};
// Agent discovery events (agent_discovery.h) are forwarded as they are.
using MnEvent =
    std::variant<RegisteredEvent, DeniedEvent, RegistrationTimeoutEvent, DeregisteredEvent,
                 BindingExpiredEvent, KeepaliveLostEvent, AgentAdvertisedEvent, AgentLostEvent,
                 AgentRebootedEvent>;

enum class MnDrop : std::uint8_t {
  kMalformed,        // does not parse, or unknown message type
  kUnrecognized,     // RFC 5944 1.8 silent discard
  kNoAttempt,        // no request outstanding (late or duplicate reply)
  kWrongPath,        // other interface, local address/port, or sender
  kIdMismatch,       // low 32 bits differ from the most recent request
  kHomeMismatch,     // Home Address is not ours
  kRules,            // extension rules violated
  kAuthMissing,      // no MN-HA where one is required
  kAuthFailed,       // MN-HA SPI unknown or authenticator wrong
  kReplay,           // MnReplayState::CheckReply
  kBadLifetime,      // an acceptance granting 0 to a registration
  kTunnelMismatch,   // tunnelled data not from/to the registered tunnel
  kCount,
};
std::string_view MnDropName(MnDrop d);

struct MnCounters {
  std::uint64_t requests_sent = 0;
  std::uint64_t retransmissions = 0;
  std::uint64_t replies_accepted = 0;  // passed every check
  std::uint64_t resyncs = 0;           // automatic retries after 133
  std::uint64_t tnc_reported = 0;
  // A TNC extension in a reply that could not count (FA denial, outside
  // the MN-HA coverage).
  std::uint64_t tnc_ignored = 0;
  std::uint64_t keepalives_sent = 0;
  std::uint64_t keepalive_replies = 0;
  std::uint64_t tunnelled_in = 0;   // delivered from a tunnel
  std::uint64_t tunnelled_out = 0;  // reverse tunnelled
  std::array<std::uint64_t, static_cast<std::size_t>(MnDrop::kCount)> dropped{};
  std::uint64_t Dropped(MnDrop d) const { return dropped[static_cast<std::size_t>(d)]; }
  std::uint64_t TotalDropped() const;
};

class MobileNodeRegistration {
 public:
  // kInvalidArgument when the config does not validate or the security
  // association's SPI is reserved. `security` and `random` must outlive the
  // engine.
  static Result<std::unique_ptr<MobileNodeRegistration>> Create(const MobileNodeConfig& config,
                                                                MnHaSecurity& security,
                                                                RandomSource& random, Logger log);
  MobileNodeRegistration(const MobileNodeRegistration&) = delete;
  MobileNodeRegistration& operator=(const MobileNodeRegistration&) = delete;

  // --- Commands ---
  // Registers the co-located care-of address `coa` (D set, RFC 5944 3.6.1.2)
  // directly with the HA, sent from coa:source_port on `ifindex` (0: any).
  // Replaces any outstanding attempt; the current binding stays until the
  // reply. kInvalidArgument for a non-unicast coa.
  Status RegisterColocated(Timestamp now, Ipv4Address coa, int ifindex);
  // Registers through a foreign agent (D clear, no UDP Tunnel Request, RFC
  // 3519 4.4), sent from the home address (0.0.0.0 without one, 3.6.1.1) to
  // the agent. Lifetime capped at the advertisement's (3.6.1.2).
  // kUnsupported when T is configured but the agent does not advertise it.
  Status RegisterViaFa(Timestamp now, const ForeignAgentTarget& fa, int ifindex);
  // Deregistration. Without `coa`: at home, all care-of addresses (RFC 5944
  // 3.6.1.2: Lifetime 0, Care-of Address = home address), sent from the home
  // address to the HA. With `coa`: deletes that binding (Lifetime 0), sent
  // from coa. kState without a known home address.
  Status Deregister(Timestamp now, int ifindex, std::optional<Ipv4Address> coa = std::nullopt);
  // Deletes the current binding the way it was registered (RFC 5944
  // 3.6.1.2: Lifetime 0, Care-of Address = the binding's): a co-located one
  // directly to the HA from the care-of address, an FA one through that FA
  // from the home address (3.6.1.1), on the binding's interface. The
  // binding stays until the reply (DeregisteredEvent). kState without a
  // binding.
  Status DeregisterBinding(Timestamp now);
  // Re-registers the current binding now (e.g. the RFC 5265 T_MONITOR
  // cycle). kState without a binding.
  Status Reregister(Timestamp now);
  // Abandons the outstanding attempt (no more retransmissions, replies to it
  // are then dropped). The binding is kept.
  void Cancel();
  // Link down: Cancel(), forget the binding (no deregistration is sent),
  // stop keepalives; agents heard on `ifindex` are forgotten.
  void Stop(Timestamp now, int ifindex);
  // Agent solicitation (agent_discovery.h).
  void StartSolicitation(Timestamp now, int ifindex, Ipv4Address source, bool new_link) {
    discovery_.StartSolicitation(now, ifindex, source, new_link);
  }
  void StopSolicitation() { discovery_.StopSolicitation(); }
  // Reverse tunnelling / sending a datagram of the home address (see the
  // file comment). kState without a binding that allows it; kInvalidArgument
  // when `inner` is not an IPv4 datagram from the home address.
  Status SendPacket(Timestamp now, ByteSpan inner);

  // --- Inputs ---
  // A datagram for our registration port: Registration Replies (type 3) and
  // RFC 3519 Tunnel Data (type 4). On Error it was dropped and counted.
  Status OnUdp(Timestamp now, const UdpReceived& rx);
  // A whole IPv4 datagram received on `ifindex`: IP-in-IP from the HA
  // (protocol 4) or an Agent Advertisement (ICMP type 9). Others: kUnsupported.
  Status OnIpPacket(Timestamp now, int ifindex, ByteSpan packet);
  void OnTimeout(Timestamp now);

  // --- Outputs ---
  std::optional<Transmit> PollTransmit();
  // A decapsulated datagram for the local stack (its destination is the
  // home address or, with B, a broadcast/multicast address).
  std::optional<Bytes> PollDelivery();
  std::optional<MnEvent> PollEvent();
  Timestamp NextTimeout() const;

  // --- Introspection ---
  bool pending() const { return attempt_.has_value(); }
  std::optional<AttemptKind> pending_kind() const;
  const std::optional<MnBinding>& binding() const { return binding_; }
  // The configured or learned home address.
  std::optional<Ipv4Address> home_address() const { return home_address_; }
  const MnCounters& counters() const { return counters_; }
  void set_log_level(LogLevel level) {  // a reload
    log_.set_min_level(level);
    discovery_.set_log_level(level);
  }
  const MobileNodeConfig& config() const { return config_; }
  AgentDiscovery& discovery() { return discovery_; }
  const AgentDiscovery& discovery() const { return discovery_; }
  // The most recent request's bytes (tests, pcaps).
  const Bytes* last_request() const;

 private:
  enum class Timer { kRetransmit, kReregister, kExpiry, kKeepalive, kCount };

  struct Attempt {
    AttemptKind kind = AttemptKind::kRegister;
    int ifindex = 0;
    Ipv4Address coa;
    Ipv4Address source;       // IP source of the request
    Ipv4Address destination;  // HA or FA
    std::optional<ForeignAgentTarget> fa;
    std::uint16_t lifetime = 0;
    bool udp_requested = false;
    bool udp_forced = false;
    RegistrationRequest request;  // the most recent one sent
    Bytes wire;
    Timestamp id_first_sent;  // first transmission with request.identification
    int transmissions = 0;    // of the current Identification series
    int total_transmissions = 0;
    Duration rto;
    int resyncs = 0;
    bool lifetime_repaired = false;
  };

  MobileNodeRegistration(const MobileNodeConfig& config, MnHaSecurity& security,
                         RandomSource& random, Logger log);

  Status Start(Timestamp now, Attempt a);
  // Builds (new Identification) and sends the attempt's request.
  Status SendNew(Timestamp now);
  void SendCurrent(Timestamp now, bool retransmission);
  Result<Bytes> BuildRequest(const Attempt& a, const RegistrationRequest& r);
  void OnRetransmitTimer(Timestamp now);
  void Finish();

  Status Drop(MnDrop why, Error e);
  Status HandleReply(Timestamp now, const UdpReceived& rx);
  Status HandleTunnelData(Timestamp now, const UdpReceived& rx);
  Status HandleIpip(Timestamp now, int ifindex, ByteSpan packet);
  // Admission of a decapsulated inner datagram; keepalive replies consumed.
  Status DeliverInner(ByteSpan inner);
  void Accept(Timestamp now, const RegistrationReply& reply, bool tnc, bool udp_tunnel,
              const std::optional<std::uint16_t>& keepalive_secs, bool udp_forced);
  void ArmBindingTimers();
  void SendKeepalive(Timestamp now);
  void OnKeepaliveTimer(Timestamp now);
  void NoteSentToHa(Timestamp now);
  // Moves discovery events out and reacts to them (2.4.4 reboot).
  void PumpDiscovery(Timestamp now);

  MobileNodeConfig config_;
  MnHaSecurity& security_;
  RandomSource& random_;
  Logger log_;
  AgentDiscovery discovery_;
  std::optional<Ipv4Address> home_address_;
  std::optional<Attempt> attempt_;
  std::optional<MnBinding> binding_;
  TimerTable<Timer> timers_;
  // RFC 3519 keepalives.
  Timestamp last_sent_to_ha_;
  std::optional<std::uint16_t> keepalive_outstanding_;  // echo sequence
  std::uint16_t keepalive_id_ = 0;
  std::uint16_t keepalive_seq_ = 0;
  int keepalive_tries_ = 0;
  std::uint16_t ip_id_ = 0;
  std::deque<Transmit> transmits_;
  std::deque<Bytes> deliveries_;
  std::deque<MnEvent> events_;
  MnCounters counters_;
};

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_MN_REG_REGISTRATION_H_
