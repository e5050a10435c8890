// HomeAgent: the sans-I/O Mobile IPv4 home agent core (RFC 5944 3.8 and
// 4.2.3, RFC 3024 reverse tunnelling, RFC 3519 NAT traversal, RFC 2794 NAI,
// RFC 3115 CVSE, RFC 5265 4.3 trusted networks).
//
// Driving it (mip4/io.h; `now` never decreases):
//   1. feed input:
//        OnUdp(now, d)            every datagram received on UDP port 434:
//                                 Registration Requests and RFC 3519 Tunnel
//                                 Data (reverse-tunnelled traffic and
//                                 keepalives from UDP-tunnelled bindings);
//        OnHomePacket(now, p)     a datagram the runtime intercepted because
//                                 its destination is a home address it was
//                                 told about by a BindingAdded event;
//        OnTunnelPacket(now, p)   an IP-in-IP datagram (protocol 4) addressed
//                                 to the home agent;
//        OnIcmp(now, ifindex, p)  an ICMP datagram (whole IPv4 packet)
//                                 addressed to the HA: Agent Solicitations
//                                 (type 10) on the home link are answered
//                                 when home-link advertisements are on;
//                                 Fragmentation Needed (type 3 code 4) about
//                                 one of its tunnels lowers that tunnel's
//                                 MTU (RFC 2003 5.1, see below);
//      each returns an HaResult saying whether the runtime must forward a
//      datagram (the decapsulated inner packet), forward the input itself
//      onto the home network (kNotBound: the MN is at home, 4.2.3), or do
//      nothing more (handled, or dropped and counted);
//   2. drain PollTransmit() until empty (replies, tunnelled datagrams, ICMP
//      errors and keepalive answers), then PollEvent() until empty (binding
//      changes: install or remove interception routes, proxy/gratuitous ARP,
//      RFC 5944 4.6);
//   3. arm one timer for NextTimeout(); when it fires call OnTimeout(now)
//      (binding expiry, RFC 5944 3.8.2.2 / 4.2.3; Agent Advertisements on
//      the home link, 2.3) and go to 2. With advertisements on, the first
//      NextTimeout() is Zero: the first OnTimeout starts them.
//
// Registration processing follows RFC 5944 3.8.2.1 in order: trusted source
// (RFC 5265 4.3), parse (1.8: an unrecognised non-skippable extension is a
// silent discard), security association of the MN, (a) authorization-
// enabling MN-HA extension and its authenticator, (d) FA-HA without an SA,
// (b) Identification (replay, 133), (c) FA-HA authentication (132), then
// the semantic checks and the binding update. Every silent discard is
// logged and counted by reason (HaDrop); a forged or replayed request
// changes no binding and no replay state (replay.h: Commit only after the
// MN-HA authenticator verified).
//
// Tunnel MTU (RFC 2003 4.1, 5, 5.1). Tunnelled datagrams carry the inner
// DF in the outer header (3.1), so a router inside the tunnel with a smaller
// MTU answers the HA with ICMP Fragmentation Needed. OnIcmp accepts one only
// when its quote is of a datagram this HA tunnelled to a current binding:
// outer source the HA's address, DF set, protocol 4 to the binding's care-of
// address (or UDP to an RFC 3519 binding's address and port, Tunnel Data
// IP-in-IP), and the inner header quoted with a destination that is the
// bound home address. A quote without the inner header (RFC 792 only
// requires 8 bytes past the outer header; RFC 1812 4.3.2.3 routers quote up
// to 576 bytes) cannot be tied to a binding and is ignored. The reported
// MTU must be at least 68 and below the quoted datagram's length; a
// pre-RFC 1191 router's 0 is replaced by the next lower plateau of RFC 1191
// 7 below that length. The tunnel's MTU becomes the lower of the known one
// and the reported one (never raised by a report, RFC 1191 3) for
// tunnel_mtu_age, kept per tunnel destination (so a new care-of address
// starts from tunnel_mtu). The HA relays the error to the original sender
// at once (4.1 "MUST relay", MTU = tunnel MTU - the encapsulation) when the
// quoted inner datagram has DF; and from then on an inner datagram with DF
// that does not fit is dropped and answered with Fragmentation Needed
// (IpipCheckMtu, 5.1), while one without DF is still tunnelled without
// outer DF (fragmented on the way, 3.1). Anything else in an ICMP error is
// not acted on.
//
// What is not done: minimal and GRE
// encapsulation (requests for them get 139, or 142 for UDP tunnels);
// forwarding broadcast datagrams ('B' is ignored, as 3.8.2 requires of an
// HA without broadcast support); Registration Replies to a foreign agent
// whose care-of address was deregistered by another (3.8.2.2 MAY).
//
// Ownership: the SaDatabase and RandomSource are the caller's and must
// outlive the HomeAgent; the HA keeps each MN's replay state in the
// database (MobileNodeSecurity::replay), so it survives deregistration.
// Not thread-safe: one HomeAgent per core.
#ifndef MIPSEC_MIP4_HA_HOME_AGENT_H_
#define MIPSEC_MIP4_HA_HOME_AGENT_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/ip/icmp.h"
#include "common/log.h"
#include "common/random.h"
#include "common/result.h"
#include "common/time.h"
#include "mip4/agent/advertisement_schedule.h"
#include "mip4/codec/registration_request.h"
#include "mip4/codec/udp_tunnel_reply.h"
#include "mip4/ha/binding_cache.h"
#include "mip4/io.h"
#include "mip4/security/ntp_time.h"
#include "mip4/security/sa_database.h"

namespace mipsec::mip4 {

struct HomeAgentOptions {
  // The home agent's unicast address: the Home Agent field it accepts and
  // puts in replies, and the outer source of its tunnels (RFC 5944 4.2.3).
  Ipv4Address address;
  // The home network (RFC 5944 3.8.1); `address` must be inside it. Home
  // addresses outside it are refused with 129.
  Ipv4Prefix home_network;
  // Longest lifetime granted, seconds (RFC 5944 3.8.2.2); 0xffff allows
  // "infinity". Shorter cap for RFC 3519 UDP-tunnelled bindings (5.2); 0: the
  // same as max_lifetime.
  std::uint16_t max_lifetime = 1800;
  std::uint16_t udp_tunnel_max_lifetime = 0;

  // RFC 5944 3.8.1 (MAY) / RFC 2794: home addresses for mobile nodes
  // configured by NAI only. Inside home_network; its network and broadcast
  // addresses, the HA's address and every configured home address are never
  // handed out. An address stays assigned to its NAI for the life of the
  // HomeAgent (re-registrations get the same one). Without a pool such a
  // mobile node is refused with 129; an exhausted pool gives 130.
  std::optional<Ipv4Prefix> home_address_pool;

  // RFC 5265 4.3 (an i-HA): when true, a Registration Request whose source
  // is not inside one of `trusted_subnets` is dropped silently and logged,
  // and every reply carries the TNC extension. No subnet is trusted by
  // default, so such an HA answers nobody until configured. False gives a
  // plain RFC 5944 home agent: any source, never a TNC.
  bool rfc5265_trusted_networks = true;
  std::vector<Ipv4Prefix> trusted_subnets;

  // RFC 3024: 'T' requests are refused with 137 unless allowed; requests
  // without 'T' are refused with 138 when mandatory (requires allowed).
  bool reverse_tunnel_allowed = true;
  bool reverse_tunnel_mandatory = false;

  // RFC 3519: UDP tunnelling when a NAT is detected (source != care-of
  // address) or forced ('F'); 129 when disabled and needed, or when forcing
  // is not accepted. Keepalive Interval sent in the UDP Tunnel Reply
  // (seconds, 4.9: default 110; 0 tells the peer to use its own default).
  bool udp_tunnelling_enabled = true;
  bool udp_accept_forcing = true;
  std::uint16_t udp_keepalive_interval = 110;

  // RFC 5944 3.8.2.1 (c): FA-HA authentication is checked whenever the HA
  // shares an SA with the relaying FA (the request's source). With this set,
  // a registration relayed by an FA (D clear) the HA shares no SA with is
  // refused with 132 as well.
  bool fa_ha_auth_required = false;

  // RFC 5944 3.8.2.1 (a): after a failed MN-HA authenticator with no FA-HA
  // SA involved the HA MAY answer 131; false discards silently instead.
  bool reply_on_mn_auth_failure = true;

  // Care-of addresses per mobile node (RFC 5944 3.8.2.2 'S'). 1: no
  // simultaneous bindings (an 'S' request is accepted with code 1);
  // more: 'S' keeps up to this many, 135 beyond.
  std::size_t max_simultaneous_bindings = 1;
  // All bindings together; a new binding beyond it gets 130.
  std::size_t max_bindings = 4'000'000;
  // Presizes the binding cache.
  std::size_t expected_bindings = 0;

  // Path MTU towards care-of addresses (the largest outer datagram), for
  // RFC 2003 5.1 / IpipCheckMtu: the default and upper bound of every
  // tunnel's MTU. An RFC 3519 UDP tunnel carries 12 bytes less (UDP and
  // Tunnel Data headers).
  std::size_t tunnel_mtu = 1500;
  // RFC 2003 5 / 5.1 tunnel soft state: an ICMP Fragmentation Needed from
  // inside a tunnel lowers that tunnel's MTU (per tunnel destination) for
  // this long, after which it is raised to tunnel_mtu again (RFC 1191 6.3
  // recommends 10 minutes). At least 1 s.
  Duration tunnel_mtu_age = Duration::Seconds(600);

  // Time of day for timestamp replay protection (RFC 5944 5.7.1): `now`
  // mapped through this (see SetWallClockOffset).
  WallClockMapping wall_clock;

  // RFC 5944 2.3: "Any mobility agent that cannot be discovered by a
  // link-layer protocol MUST send Agent Advertisements." On the home link
  // (the interface `home_ifindex`) the HA advertises itself to 224.0.0.1
  // with TTL 1: H set, T when reverse tunnelling is allowed, its own address
  // as the only router address (2.3.1), no care-of address (F clear), the
  // home network's prefix length (2.1.2), sequence numbers per 2.3.2; and
  // answers Agent Solicitations there (unicast to a unicast source, else a
  // rate-limited multicast, RFC 1256 via AdvertisementSchedule), so that a
  // mobile node can tell it is at home (2.4.2). 0: no advertisements (a
  // virtual home network, whose mobile nodes are always away, 2.3).
  int home_ifindex = 0;
  AdvertisementTiming advertisement;
  // ICMP Lifetime of the advertisements, seconds; 0: the least allowed,
  // MinAdvertisementLifetime (3 * max_interval rounded up, RFC 5944 2.1).
  std::uint16_t advertisement_lifetime = 0;
};

// Why the HA dropped something without answering.
enum class HaDrop : std::uint8_t {
  // Registration Requests: silent discards.
  kUntrustedSource,          // RFC 5265 4.3
  kMalformedRequest,         // cannot be parsed (no authenticated reply possible)
  kUnrecognizedExtension,    // RFC 5944 1.8: unknown type 0-127
  kUnknownMessage,           // a type other than 1 or 4 on port 434
  kNoSecurityAssociation,    // RFC 5944 3.8.2.1 (a): unknown mobile node
  kNoAuthorizationExtension, // RFC 5944 3.8.2.1 (a): no MN-HA extension
  kMnAuthFailed,             // bad MN-HA authenticator and no 131 sent
  kFaHaWithoutSa,            // RFC 5944 3.8.2.1 (d)
  // Data plane.
  kPacketMalformed,          // not a valid IPv4 / IP-in-IP / Tunnel Data datagram
  kNotForHomeAgent,          // IP-in-IP whose outer destination is not the HA
  kReverseNotFromCareOf,     // RFC 3024 4.3.2 / RFC 3519 4.3: no matching binding
  kEncapsulationMismatch,    // RFC 3519 3.3 / 4.7: not the binding's tunnelling mode
  kTunnelLoop,               // RFC 5944 4.2.3 / RFC 2003 3.2
  kTtlExpired,               // ICMP Time Exceeded sent when allowed
  kTooBig,                   // DF set and over the tunnel MTU: ICMP sent when allowed
  kHalfBound,                // RFC 3519 4.6 'R': no keepalive seen yet, port unknown
  kBadSolicitation,          // OnIcmp: not a valid Agent Solicitation on the home link
  kBadTooBig,                // OnIcmp: Fragmentation Needed not about a current tunnel,
                             // or with an MTU that cannot be right (RFC 2003 5.1)
  kCount,
};
std::string_view HaDropName(HaDrop d);

struct HaCounters {
  std::uint64_t requests = 0;           // Registration Requests received
  std::uint64_t replies = 0;            // Registration Replies sent
  std::array<std::uint64_t, 256> replies_by_code{};
  std::array<std::uint64_t, static_cast<std::size_t>(HaDrop::kCount)> drops{};
  std::uint64_t mn_auth_failures = 0;   // security exceptions (a)
  std::uint64_t fa_auth_failures = 0;   // security exceptions (c)
  std::uint64_t replay_rejections = 0;  // 133 sent
  std::uint64_t bindings_expired = 0;
  std::uint64_t tunnelled_ipip = 0;     // copies sent to care-of addresses
  std::uint64_t tunnelled_udp = 0;
  std::uint64_t decapsulated_ipip = 0;  // reverse-tunnelled datagrams forwarded
  std::uint64_t decapsulated_udp = 0;
  std::uint64_t keepalives = 0;         // RFC 3519 4.9 echo requests answered
  std::uint64_t not_bound = 0;          // OnHomePacket with no binding
  std::uint64_t advertisements = 0;     // Agent Advertisements sent on the home link
  std::uint64_t solicitations = 0;      // Agent Solicitations answered
  // RFC 2003 5.1 tunnel MTU: ICMP Fragmentation Needed received (well-formed
  // ICMP), accepted (about one of our tunnels, MTU recorded; the rest are
  // drops kBadTooBig), and sent to original senders (relayed, or for an
  // inner datagram with DF over a tunnel's MTU).
  std::uint64_t icmp_too_big_received = 0;
  std::uint64_t icmp_too_big_accepted = 0;
  std::uint64_t icmp_too_big_sent = 0;

  std::uint64_t drop(HaDrop d) const { return drops[static_cast<std::size_t>(d)]; }
};

// What the runtime does with the input after an On... call.
struct HaResult {
  enum class Action : std::uint8_t {
    kDone,      // handled (any output is queued for PollTransmit)
    kForward,   // route `forward` (the decapsulated inner datagram, TTL
                // already decremented) like any forwarded datagram
    kNotBound,  // OnHomePacket: no binding; deliver on the home network
    kDropped,   // dropped; `drop` says why (counted)
  };
  Action action = Action::kDone;
  Bytes forward;
  std::optional<HaDrop> drop;
};

// One care-of address of a bound mobile node, as the runtime needs it.
struct HaTunnel {
  Ipv4Address care_of_address;  // as registered
  // Where tunnelled datagrams go: the care-of address for IP-in-IP; the
  // (NAT'd) source address and port of the request for UDP tunnels (port 0
  // while half-bound, RFC 3519 4.6).
  Ipv4Endpoint endpoint;
  TunnelEncapsulation encapsulation = TunnelEncapsulation::kIpInIp;
  bool reverse_tunnel = false;  // 'T' granted (RFC 3024)
  bool half_bound = false;
  std::uint16_t granted_lifetime = 0;
  Timestamp expires;  // Infinite for lifetime 0xffff
};

struct HaEvent {
  enum class Kind : std::uint8_t {
    kBindingAdded,    // the MN was at home and now has a binding: start
                      // intercepting its home address (gratuitous ARP, 4.6)
    kBindingUpdated,  // its set of care-of addresses/tunnels changed
    kBindingRemoved,  // no binding left: stop intercepting (and, when
                      // returned_home, gratuitous ARP for the MN's own
                      // link-layer address, 4.6)
  };
  // kRevoked: Reconfigure removed the mobile node from the configuration.
  enum class Cause : std::uint8_t { kRegistration, kDeregistration, kExpiry, kKeepalive, kRevoked };
  Kind kind = Kind::kBindingAdded;
  Cause cause = Cause::kRegistration;
  Ipv4Address home_address;
  std::vector<HaTunnel> tunnels;  // after the change; empty for kBindingRemoved
  // kBindingRemoved by the mobile node's deregistration from its home link
  // (3.8.3.1: Lifetime 0, care-of address = home address, IP source = the
  // home address): the runtime MUST then announce the home address with the
  // mobile node's own link-layer address (gratuitous ARP, 4.6).
  bool returned_home = false;
};
std::string_view HaEventKindName(HaEvent::Kind k);
std::string_view HaEventCauseName(HaEvent::Cause c);  // "registration", "expiry", ...

class HomeAgent {
 public:
  // kInvalidArgument naming the option when `options` is unusable.
  static Status ValidateOptions(const HomeAgentOptions& options);
  static Result<std::unique_ptr<HomeAgent>> Create(HomeAgentOptions options, SaDatabase& sas,
                                                   RandomSource& rng, Logger logger);

  HomeAgent(const HomeAgent&) = delete;
  HomeAgent& operator=(const HomeAgent&) = delete;

  // Adds an FA-HA security association with foreign agent `fa` to the
  // database, and makes it the SA this HA authenticates replies to `fa`
  // with when the request carried no usable FA-HA extension (the first one
  // added per FA). SaDatabase errors as is.
  Status AddForeignAgentSa(Ipv4Address fa, SecurityAssociation sa);

  // A configuration reload (SIGHUP in the daemon): from now on the HA uses
  // `options` and the mobile nodes and FA-HA SAs of `sas` (which must
  // outlive the HomeAgent or the next Reconfigure; the caller may destroy
  // the previous database once this returned Ok). Every binding stays, with
  // its lifetime, tunnels and counters, except:
  //   - a mobile node absent from `sas` (matched by home address, else by
  //     NAI) is revoked: its bindings are removed at once (one
  //     kBindingRemoved, cause kRevoked). RFC 5944 has no revocation
  //     message; the binding is dropped because the HA can no longer
  //     authenticate its renewal or deregistration, and a binding granted
  //     for up to max_lifetime (0xffff: forever) must not outlive the
  //     operator's decision to remove the node;
  //   - a mobile node present in both keeps its replay state (RFC 5944 5.7)
  //     and its pool address; its SAs are those of `sas` (a re-keyed node
  //     authenticates with the new key only from now on).
  // Options that cannot change on a running HA (address, home_network,
  // home_ifindex, advertising on/off) are refused with kInvalidArgument
  // naming the option; on any error nothing changes. The advertisement
  // timing applies from the next advertisement; the sequence continues.
  Status Reconfigure(Timestamp now, HomeAgentOptions options, SaDatabase& sas);

  // Inputs (see the file comment).
  HaResult OnUdp(Timestamp now, const UdpReceived& datagram);
  HaResult OnHomePacket(Timestamp now, ByteSpan packet);
  HaResult OnTunnelPacket(Timestamp now, ByteSpan outer_packet);
  void OnIcmp(Timestamp now, int ifindex, ByteSpan packet);
  void OnTimeout(Timestamp now);
  Timestamp NextTimeout() const;

  std::optional<Transmit> PollTransmit();
  std::optional<HaEvent> PollEvent();

  // The core's log level (a reload's log_level).
  void set_log_level(LogLevel level) { log_.set_min_level(level); }

  // Replaces the monotonic-to-time-of-day mapping (io.h).
  void SetWallClockOffset(const WallClockMapping& mapping) { options_.wall_clock = mapping; }

  // Queries.
  const HomeAgentOptions& options() const { return options_; }
  const HaCounters& counters() const { return counters_; }
  // The address assigned from home_address_pool to an NAI-only MN, if any.
  std::optional<Ipv4Address> AssignedHomeAddress(std::string_view nai) const;
  // The current bindings of `home` (empty when at home).
  std::vector<HaTunnel> Bindings(Ipv4Address home) const;
  // The MTU of the tunnel to `tunnel_destination` (a care-of address, or a
  // UDP tunnel's address) at `now`: what an ICMP Fragmentation Needed
  // taught, until it ages out, else tunnel_mtu. Outer IP datagram size.
  std::size_t TunnelMtu(Timestamp now, Ipv4Address tunnel_destination) const;
  // Every home address with a binding, ascending (a query for operators:
  // O(cache size)).
  std::vector<Ipv4Address> BoundHomeAddresses() const;
  std::size_t binding_count() const { return bindings_.size(); }
  std::size_t bound_mobile_node_count() const { return bindings_.mobile_node_count(); }
  // Bytes held by the binding cache (records, index, wheel).
  std::size_t BindingMemoryBytes() const { return bindings_.MemoryBytes(); }

 private:
  struct Request;  // one Registration Request being processed (home_agent.cc)

  HomeAgent(HomeAgentOptions options, SaDatabase& sas, RandomSource& rng, Logger logger);

  HaResult Drop(HaDrop reason);
  HaResult HandleRequest(Timestamp now, const UdpReceived& d);
  HaResult HandleTunnelData(Timestamp now, const UdpReceived& d);
  void ProcessAuthenticated(Timestamp now, Request& r);
  void Deregister(Timestamp now, Request& r);
  void Register(Timestamp now, Request& r);
  void SendReply(const Request& r, std::uint8_t code, std::uint16_t lifetime);
  bool IsTrusted(Ipv4Address source) const;
  SecurityAssociation* ReplySaForPeer(Ipv4Address peer, std::optional<std::uint32_t> spi);
  void EmitIfChanged(Ipv4Address home, bool had_binding, bool changed, HaEvent::Cause cause);
  HaTunnel ToTunnel(const BindingRecord& r) const;
  std::optional<Ipv4Address> AssignHomeAddress(const MobileNodeSecurity& mn, Ipv4Address asked,
                                               bool& exhausted);
  void QueueIcmpTimeExceeded(ByteSpan original);
  bool Advertising() const { return options_.home_ifindex != 0; }
  void SendAdvertisement(Ipv4Address destination, bool unicast);
  bool SendTunnelled(const BindingRecord& r, ByteSpan packet);
  void OnTooBig(Timestamp now, const ip::IcmpMessage& icmp);
  void RecordTunnelMtu(Timestamp now, std::uint32_t tunnel_address, std::size_t mtu);
  std::size_t TunnelMtu(Timestamp now, std::uint32_t tunnel_address) const;

  HomeAgentOptions options_;
  SaDatabase* sas_;  // never null
  RandomSource& rng_;
  Logger log_;
  BindingCache bindings_;
  // Dynamic home addresses (home_address_pool): by MN, and the taken set.
  std::unordered_map<const MobileNodeSecurity*, Ipv4Address> assigned_;
  std::unordered_set<Ipv4Address> assigned_addresses_;
  std::uint32_t pool_cursor_ = 0;
  std::deque<Transmit> transmits_;
  std::deque<HaEvent> events_;
  HaCounters counters_;
  std::uint16_t next_ip_id_ = 1;
  AdvertisementSchedule advertising_;
  // RFC 2003 5.1 soft state: learned tunnel MTUs by tunnel destination (host
  // order), and their expiry times in the order set (each insertion purges
  // what has aged out, so only live tunnels' entries stay).
  struct LearnedMtu {
    std::uint16_t mtu = 0;
    Timestamp expires;
  };
  std::unordered_map<std::uint32_t, LearnedMtu> tunnel_mtus_;
  std::deque<std::pair<Timestamp, std::uint32_t>> tunnel_mtu_expiry_;
};

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_HA_HOME_AGENT_H_
