// ForeignAgent: the sans-I/O Mobile IPv4 foreign agent core (RFC 5944 2.3,
// 3.7 and 4.2.2; RFC 3024 reverse tunnelling at the FA; RFC 3519 UDP
// tunnelling for an FA behind a NAT; RFC 2794 NAI; RFC 3115 CVSE).
//
// Driving it (mip4/io.h; `now` never decreases):
//   1. feed input:
//        OnUdp(now, d)            every datagram received on UDP port 434:
//                                 Registration Requests from visitors on a
//                                 served link (to the FA's address, a
//                                 care-of address, 224.0.0.11 or a
//                                 broadcast address), Registration Replies
//                                 from home agents, and RFC 3519 Tunnel Data
//                                 from home agents (FA behind a NAT). Set
//                                 d.ttl when the socket can tell it
//                                 (IP_RECVTTL): RFC 3024 4.2.1's 'mobile
//                                 node too distant' (76) check needs it and
//                                 is skipped (and counted) without;
//        OnIcmp(now, ifindex, p)  an ICMP datagram (whole IPv4 packet) for
//                                 the FA: Agent Solicitations (type 10) on a
//                                 served link, and ICMP errors quoting a
//                                 request the FA relayed (RFC 5944 3.7.3:
//                                 codes 80, 81, 82, 88 to the visitor);
//        OnTunnelPacket(now, p)   an IP-in-IP datagram (protocol 4) received
//                                 from the network side, addressed to a
//                                 care-of address;
//        OnVisitorPacket(now, ifindex, p)
//                                 any other datagram received on a served
//                                 link that the FA would route (not for the
//                                 FA itself), and IP-in-IP datagrams from a
//                                 visitor to the FA (RFC 3024 5.2
//                                 encapsulating delivery style);
//      the On...Packet calls return an FaResult saying whether the runtime
//      must route the input itself (kRoute), or nothing more is to be done;
//   2. drain PollTransmit() until empty (advertisements, relayed requests
//      and replies, denials, tunnelled datagrams, on-link deliveries and
//      keepalives), then PollEvent() until empty (visitor list changes: add
//      a host route for a visitor's home address on its link when it turns
//      pending or active, remove it on kVisitorRemoved);
//   3. arm one timer for NextTimeout(); when it fires call OnTimeout(now)
//      and go to 2. Before the first call NextTimeout() is Zero: the first
//      OnTimeout() (or any input) starts the advertisement schedules.
//
// Registration Requests (RFC 5944 3.7.2), in this order: on a served link;
// parse (1.8: an unrecognised non-skippable extension is a silent discard);
// reserved bits and the extension rules (70); MN-FA authentication when the
// FA shares an SA with the mobile node (3.7.2.1: discarded, logged as a
// security exception, answered 67); Home Agent field is one of the FA's own
// addresses (194); lifetime (69, with the FA's maximum in the reply);
// care-of address not offered on that link when 'D' is clear (77);
// minimal/GRE encapsulation (72); an unsupported CVSE meant for the FA
// (100); reverse tunnelling (RFC 3024 4.2.1: 74 not offered, 79 delivery
// style, 76 TTL != 255, 75 'T' mandatory); resources (66: visitors, pending
// requests); FA-HA required but no SA with that HA (65). A valid request is
// relayed unchanged up to and including the MN-HA extension; what follows
// is consumed; the FA appends a UDP Tunnel Request when behind a NAT
// (RFC 3519 4.5, not for 'D') and FA-HA when it shares an SA with the HA and
// the request is not a deregistration (3.5.4). It goes from the care-of
// address, UDP port 434, to the Home Agent field, port 434.
//
// Registration Replies (3.7.3): parse (71 to the visitor when the pending
// request is known but the reply is malformed or breaks the rules); match a
// pending request by home address (NAI to disambiguate, RFC 2794 for a zero
// home address) and the low 32 bits of the Identification, else silent
// discard; FA-HA authentication when the FA shares an SA with the HA and the
// reply has a nonzero lifetime (68 to the visitor on failure, logged as a
// security exception); RFC 2794 3 (97, 98, 99); an unsupported CVSE for the
// FA (101). The reply is relayed unchanged up to the MN-HA extension, with
// MN-FA appended when the FA shares an SA with the visitor; the visitor list
// is updated (accepted: active for min(reply, request, FA maximum) lifetime;
// accepted with lifetime 0: removed; denied: pending part removed, an active
// registration left as it was).
//
// Denials go from the IP destination of the request (the FA's interface
// address when that was multicast or broadcast), port 434, to the Home
// Address (255.255.255.255 when zero) and the request's source port, out of
// the link it came from, at most one per second per mobile node (3.7.2).
//
// Data plane (4.2.2): IP-in-IP to a care-of address whose inner destination
// is an active visitor registered through that home agent is decapsulated
// and delivered on-link (IpTransmit.link_next_hop = home address, no ARP
// for it); anything else is dropped silently and counted (no ICMP, 4.2.2).
// Visitor traffic with 'T' granted is reverse tunnelled from the care-of
// address to the HA (RFC 3024 5.1 direct delivery, or 5.2 encapsulating
// delivery from the visitor), over IP-in-IP or RFC 3519 UDP when the HA
// assented to it; otherwise the runtime routes it (kRoute).
//
// Not done: minimal and GRE encapsulation (72); the FA serving as a home
// agent itself (its own address as Home Agent gets 194); regional
// registration (I), revocation (X, RFC 3543); mobile routers; broadcast
// forwarding to visitors ('B'); link-layer addresses (the runtime's
// neighbour handling learns them from the visitor's frames).
//
// Ownership: the SaDatabase and RandomSource are the caller's and must
// outlive the ForeignAgent. FA-HA SAs are looked up in the database by the
// HA's address (SaDatabase::PeerSa); MN-FA SAs as mobile nodes (by home
// address, then NAI). Not thread-safe: one ForeignAgent per core.
#ifndef MIPSEC_MIP4_FA_FOREIGN_AGENT_H_
#define MIPSEC_MIP4_FA_FOREIGN_AGENT_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/log.h"
#include "common/random.h"
#include "common/result.h"
#include "common/time.h"
#include "common/ip/icmp.h"
#include "mip4/codec/agent_advertisement.h"
#include "mip4/codec/builder.h"
#include "mip4/codec/registration_reply.h"
#include "mip4/codec/registration_request.h"
#include "mip4/agent/advertisement_schedule.h"
#include "mip4/fa/visitor_list.h"
#include "mip4/io.h"
#include "mip4/security/sa_database.h"

namespace mipsec::mip4 {

// One link the FA serves (RFC 5944 3.7.1: each FA has a care-of address).
struct FaInterface {
  int ifindex = 0;
  // The FA's own address on the link: the source of its advertisements and
  // the Router Address they list (2.3.1).
  Ipv4Address address;
  // The care-of addresses advertised on this link (1..62, 2.1.1); the FA
  // receives tunnels on them. Often just one of the FA's network-side
  // addresses.
  std::vector<Ipv4Address> care_of_addresses;
  // When set, advertisements carry a Prefix-Lengths extension (2.1.2) with
  // it for `address`.
  std::optional<int> prefix_length;
  // RFC 1256 AdvertisementAddress: 224.0.0.1 or 255.255.255.255 (2.1).
  Ipv4Address advertisement_address = Ipv4Address::AllSystems();

  bool operator==(const FaInterface&) const = default;
};

struct ForeignAgentOptions {
  std::vector<FaInterface> interfaces;

  // Agent Advertisements (2.1, 2.3; RFC 1256).
  AdvertisementTiming advertisement;
  // The ICMP Lifetime; 0: 3 * max_interval (RFC 1256 default). Must be at
  // least 3 * max_interval (RFC 5944 2.1) and at most 9000 s (RFC 1256).
  std::uint16_t advertisement_lifetime = 0;
  // ICMP code 0 (routes common traffic) or 16 (only visitors, 2.1).
  bool routes_common_traffic = true;
  // 'R' (2.1.1): registration required even with a co-located address.
  bool registration_required = false;

  // The longest registration lifetime accepted, seconds (the advertised
  // Registration Lifetime; 69 beyond it, 3.7.2.3). 0xffff: infinity.
  std::uint16_t max_registration_lifetime = 1800;

  // RFC 3024: 'T' in advertisements and reverse tunnelling offered;
  // mandatory makes requests without 'T' get 75. The Encapsulating Delivery
  // Style (5.2) is supported unless disabled (then requests carrying its
  // extension get 79).
  bool reverse_tunnelling = true;
  bool reverse_tunnel_mandatory = false;
  bool encapsulating_delivery = true;

  // RFC 3519 3.4, 4.5: the FA is behind a NAT. Only then is 'U' advertised,
  // and the FA appends a UDP Tunnel Request (with F when forced) to the
  // requests it relays for its care-of address. Keepalives (4.9) every
  // keepalive interval the HA gave (0 there: this default).
  bool behind_nat = false;
  bool force_udp_tunnelling = false;
  std::uint16_t udp_keepalive_interval = 110;

  // 3.7.1: visitors (distinct mobile nodes) and pending requests at most
  // (66 beyond; 'B' is advertised while the visitor list is full).
  std::size_t max_visitors = 100'000;
  std::size_t max_pending = 10'000;
  // 3.7.1: a pending request is deleted (and 78 sent) after this.
  Duration pending_timeout = Duration::Seconds(7);

  // When true, a request whose HA the FA shares no FA-HA SA with is denied
  // (65); otherwise it is relayed without FA-HA (3.7.1: FA-HA is added when
  // an SA exists).
  bool require_fa_ha_sa = false;
  // When true, a mobile node the FA shares no MN-FA SA with is denied (67).
  bool require_mn_fa_sa = false;

  // Path MTU towards home agents, for reverse tunnels (RFC 2003 5.1).
  std::size_t tunnel_mtu = 1500;
  // 3.7.2: at most one denial per second to one mobile node.
  Duration denial_interval = Duration::Seconds(1);
};

// Why the FA dropped something without answering.
enum class FaDrop : std::uint8_t {
  // Control plane.
  kNotServedInterface,      // a request on a link the FA does not serve
  kMalformedRequest,        // not even a fixed part to answer
  kUnrecognizedExtension,   // RFC 5944 1.8
  kUnknownMessage,          // another message type on port 434
  kMnFaAuthFailed,          // 3.7.2.1 security exception (67 sent if allowed)
  kDenialRateLimited,       // 3.7.2: more than one denial per second
  kUnmatchedReply,          // 3.7.3.1: no pending request, or Identification
  kFaHaAuthFailed,          // 3.7.3.1 security exception (68 sent)
  kMalformedReply,          // 71 sent when the visitor is known
  kBadSolicitation,         // RFC 1256 4.2 checks, or not on a served link
  kUnmatchedIcmpError,      // an ICMP error about nothing the FA relayed
  // Data plane.
  kPacketMalformed,         // not valid IPv4 / IP-in-IP / Tunnel Data
  kNotCareOfAddress,        // IP-in-IP not to one of the FA's care-of addresses
  kNoVisitor,               // 4.2.2: inner destination not an active visitor
  kWrongTunnel,             // not from the visitor's HA, or not its tunnel mode
  kNotFromVisitor,          // encapsulated delivery from a non-visitor
  kTtlExpired,              // reverse tunnelling: ICMP Time Exceeded sent
  kTooBig,                  // reverse tunnelling: DF and over the tunnel MTU
  kTunnelLoop,              // RFC 2003 3.2
  kCount,
};
std::string_view FaDropName(FaDrop d);

struct FaCounters {
  std::uint64_t requests = 0;          // Registration Requests received
  std::uint64_t requests_relayed = 0;
  std::uint64_t replies = 0;           // Registration Replies from home agents
  std::uint64_t replies_relayed = 0;
  std::uint64_t denials = 0;           // replies the FA originated
  std::array<std::uint64_t, 256> denials_by_code{};
  std::array<std::uint64_t, static_cast<std::size_t>(FaDrop::kCount)> drops{};
  std::uint64_t mn_fa_auth_failures = 0;  // security exceptions (3.7.2.1)
  std::uint64_t fa_ha_auth_failures = 0;  // security exceptions (3.7.3.1)
  std::uint64_t ttl_check_skipped = 0;    // 'T' request without a known TTL
  std::uint64_t advertisements = 0;
  std::uint64_t solicitations = 0;
  std::uint64_t pending_timeouts = 0;
  std::uint64_t visitors_expired = 0;
  std::uint64_t delivered = 0;            // decapsulated and sent on-link
  std::uint64_t reverse_tunnelled_ipip = 0;
  std::uint64_t reverse_tunnelled_udp = 0;
  std::uint64_t keepalives_sent = 0;      // RFC 3519 4.9
  std::uint64_t keepalive_replies = 0;

  std::uint64_t drop(FaDrop d) const { return drops[static_cast<std::size_t>(d)]; }
  std::uint64_t denied(std::uint8_t code) const { return denials_by_code[code]; }
};

struct FaResult {
  enum class Action : std::uint8_t {
    kDone,     // handled; any output is queued for PollTransmit
    kRoute,    // not reverse tunnelled: route the input as any router would
    kDropped,  // dropped and counted; `drop` says why
  };
  Action action = Action::kDone;
  std::optional<FaDrop> drop;
};

struct FaEvent {
  enum class Kind : std::uint8_t {
    kVisitorPending,  // a new mobile node's request was relayed: route its
                      // home address to `ifindex` (for the reply)
    kVisitorActive,   // registered (or re-registered): keep that route
    kVisitorRemoved,  // gone: remove the route
  };
  enum class Cause : std::uint8_t {
    kRelayed, kAccepted, kDenied, kDeregistered, kExpired, kPendingTimeout, kHaUnreachable,
  };
  Kind kind = Kind::kVisitorPending;
  Cause cause = Cause::kRelayed;
  Ipv4Address home_address;  // 0.0.0.0 for a pending NAI-only request
  std::string nai;
  int ifindex = 0;
  Ipv4Address home_agent;
  Ipv4Address care_of_address;
  bool colocated = false;
  bool reverse_tunnel = false;
  bool udp_tunnel = false;
  std::uint16_t lifetime = 0;  // granted (kVisitorActive)
};
std::string_view FaEventKindName(FaEvent::Kind k);

class ForeignAgent {
 public:
  // kInvalidArgument naming the option when `options` is unusable.
  static Status ValidateOptions(const ForeignAgentOptions& options);
  static Result<std::unique_ptr<ForeignAgent>> Create(ForeignAgentOptions options,
                                                      SaDatabase& sas, RandomSource& rng,
                                                      Logger logger);

  ForeignAgent(const ForeignAgent&) = delete;
  ForeignAgent& operator=(const ForeignAgent&) = delete;

  // Adds an FA-HA security association with home agent `ha` to the database
  // and makes it the SA this FA authenticates requests relayed to `ha` with
  // (the first one added per HA). SaDatabase errors as is.
  Status AddHomeAgentSa(Ipv4Address ha, SecurityAssociation sa);

  // A configuration reload (SIGHUP in the daemon): from now on the FA uses
  // `options` and the MN-FA and FA-HA SAs of `sas` (which must outlive the
  // ForeignAgent or the next Reconfigure; the caller may destroy the
  // previous database once this returned Ok). Every visitor, pending
  // registration and UDP tunnel stays; limits apply to new registrations
  // (a lower max_visitors evicts nobody); the advertisement timing applies
  // from the next advertisement, the sequence continues. The interfaces
  // cannot change on a running FA (kInvalidArgument); on any error nothing
  // changes.
  Status Reconfigure(Timestamp now, ForeignAgentOptions options, SaDatabase& sas);
  // The core's log level (a reload's log_level).
  void set_log_level(LogLevel level) { log_.set_min_level(level); }

  // Inputs (see the file comment).
  void OnUdp(Timestamp now, const UdpReceived& datagram);
  void OnIcmp(Timestamp now, int ifindex, ByteSpan packet);
  FaResult OnTunnelPacket(Timestamp now, ByteSpan outer_packet);
  FaResult OnVisitorPacket(Timestamp now, int ifindex, ByteSpan packet);
  void OnTimeout(Timestamp now);
  Timestamp NextTimeout() const;

  std::optional<Transmit> PollTransmit();
  std::optional<FaEvent> PollEvent();

  // Queries.
  const ForeignAgentOptions& options() const { return options_; }
  const FaCounters& counters() const { return counters_; }
  const VisitorList& visitors() const { return visitors_; }
  // The active registration of the visitor with `home` (first NAI), or
  // nullopt.
  std::optional<ActiveRegistration> ActiveVisitor(Ipv4Address home) const;
  bool busy() const { return visitors_.size() >= options_.max_visitors; }
  // The advertisement this FA sends on `ifindex` now (sequence number not
  // taken); kNotFound for a link it does not serve.
  Result<Bytes> BuildAdvertisement(int ifindex) const;

 private:
  struct Request;  // one Registration Request being processed
  struct Link {
    FaInterface config;
    AdvertisementSchedule schedule;
  };
  struct UdpTunnel {  // RFC 3519 FA<->HA tunnel, one per (care-of, HA) pair
    Timestamp last_sent;
    std::uint16_t keepalive_interval = 0;
    std::uint16_t echo_sequence = 0;
    std::size_t users = 0;
  };

  ForeignAgent(ForeignAgentOptions options, SaDatabase& sas, RandomSource& rng, Logger logger);

  void EnsureStarted(Timestamp now);
  Link* FindLink(int ifindex);
  const Link* FindLink(int ifindex) const;
  bool IsOwnAddress(Ipv4Address a) const;
  bool IsCareOfAddress(Ipv4Address a) const;
  void SendAdvertisement(Link& link, Ipv4Address dst, bool unicast);
  FaResult Drop(FaDrop reason);

  void HandleRequest(Timestamp now, const UdpReceived& d, std::optional<std::uint8_t> ttl);
  std::optional<std::uint8_t> CheckRequest(Timestamp now, Request& r,
                                           std::optional<std::uint8_t> ttl);
  void Relay(Timestamp now, Request& r);
  void Deny(Timestamp now, const Request& r, std::uint8_t code);
  void HandleReply(Timestamp now, const UdpReceived& d);
  void HandleTunnelData(Timestamp now, const UdpReceived& d);
  void HandleIcmpError(Timestamp now, const ip::IcmpMessage& icmp);
  void HandleSolicitation(Timestamp now, int ifindex, Ipv4Address source, ByteSpan icmp_message);

  // Sends a reply the FA originates for `v`'s pending request and removes
  // the pending part.
  void DenyPending(Timestamp now, Visitor& v, std::uint8_t code, FaEvent::Cause cause);
  void SendToMn(int ifindex, Ipv4Address mn_destination, Ipv4Endpoint mn_source,
                Ipv4Address home_address, Bytes payload);
  Status AppendMnFa(MessageBuilder& b, Ipv4Address home, const std::string& nai,
                    std::uint32_t spi);
  // The pending request a reply answers (3.7.3.1), or nullptr.
  Visitor* FindPending(const RegistrationReply& reply, const std::string& nai);
  AgentAdvertisement AdvertisementFor(const Link& link, std::uint16_t sequence) const;
  // After the pending part of `v` was removed: erase the entry when nothing
  // is left (event), else re-index it.
  void SettleAfterPending(Visitor& v, FaEvent::Cause cause);
  void RemoveActive(Visitor& v);
  void EmitEvent(FaEvent::Kind kind, FaEvent::Cause cause, const Visitor& v);

  FaResult DeliverToVisitor(Ipv4Address outer_source, bool via_udp, ByteSpan inner);
  FaResult ReverseTunnel(Timestamp now, const ActiveRegistration& a, int ifindex,
                         ByteSpan inner);
  const ActiveRegistration* ActiveFromLink(Ipv4Address home, int ifindex);
  void TunnelUp(const ActiveRegistration& a, Timestamp now);
  void TunnelDown(const ActiveRegistration& a);
  void SendKeepalive(Timestamp now, std::pair<Ipv4Address, Ipv4Address> ends, UdpTunnel& t);

  ForeignAgentOptions options_;
  SaDatabase* sas_;  // never null
  RandomSource& rng_;
  Logger log_;
  std::vector<Link> links_;
  bool started_ = false;
  VisitorList visitors_;
  // (care-of address, HA) -> RFC 3519 tunnel state.
  std::map<std::pair<Ipv4Address, Ipv4Address>, UdpTunnel> udp_tunnels_;
  // 3.7.2 denial rate limit, by the mobile node's source endpoint.
  std::unordered_map<Ipv4Endpoint, Timestamp> last_denial_;
  std::deque<Transmit> transmits_;
  std::deque<FaEvent> events_;
  FaCounters counters_;
  std::uint16_t next_ip_id_ = 1;
};

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_FA_FOREIGN_AGENT_H_
