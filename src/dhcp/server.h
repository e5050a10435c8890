// An RFC 2131 DHCP server for one subnet (section 4.3) as a sans-I/O core.
//
// It keeps bindings, decides what to answer and to where; the driver (sim
// DhcpServerApp) receives on UDP 67, models processing time, and sends.
//
// Bindings are keyed by the client identifier (option 61) when the client
// sends one, else by htype + chaddr (4.2). A binding is
//   kOffered  an address reserved by a DHCPOFFER for `offer_timeout`;
//   kBound    a lease until `expires`;
//   kFree     expired, released or an offer that timed out: the address is
//             not allocated, but remembered for that client (4.3.4), so the
//             same client gets the same address back while nobody needed it.
//
// Address choice for a DHCPDISCOVER (4.3.1, in order): the client's current
// or remembered address; the requested address (option 50) if it is in the
// pool and nobody holds or remembers it; the next never-used address of the
// pool (ascending); the remembered address of another client that has been
// free longest (that client's memory is dropped). Nothing left: no offer,
// counted as kPoolExhausted.
//
// DHCPREQUEST (4.3.2), told apart by Table 4:
//   SELECTING    (server id present) ours: ACK if the requested address is
//                the one offered to (or held by) this client, or is free;
//                else NAK. Another server's id: the client chose it; our
//                offer to it is freed, nothing is sent.
//   INIT-REBOOT  (requested IP, no server id): NAK if the address is not on
//                this subnet or is not the one this client holds; ACK if it
//                is; no record of the client: silent (4.3.2 MUST).
//   RENEWING     (ciaddr, unicast to us) / REBINDING (ciaddr, broadcast):
//                ACK extending the lease if ciaddr is this client's; NAK if
//                it is off-subnet or someone else's; no record: NAK when
//                unicast to us (we are the server it names), silent when
//                broadcast (another server may own it).
// DHCPDECLINE marks the address unusable for `decline_hold` and drops the
// binding (4.3.3). DHCPRELEASE frees it, remembered for the client (4.3.4).
// DHCPINFORM gets an ACK with parameters, no lease, no yiaddr (4.3.5).
//
// Replies (4.1): giaddr set -> to the relay, port 67 (a NAK with the
// BROADCAST bit); NAK -> broadcast; ciaddr set -> unicast to ciaddr;
// BROADCAST flag -> broadcast; else unicast to yiaddr at chaddr
// (kHardwareUnicast: a driver without a link layer may broadcast instead, as
// 4.1 allows). Replies copy xid, flags, giaddr, htype/hlen/chaddr; OFFER and
// ACK carry the lease (51), T1 (58, 0.5) and T2 (59, 0.875), and every
// configured parameter: mask (1), routers (3), DNS (6), domain (15).
//
// Bad input — unparsable, not a BOOTREQUEST, a reply type, a REQUEST whose
// fields contradict Table 4, a relay from another subnet — is dropped with
// an Error, counted by reason, and changes nothing. Iteration is over
// ordered maps only, so output is deterministic.
#ifndef MIPSEC_DHCP_SERVER_H_
#define MIPSEC_DHCP_SERVER_H_

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/log.h"
#include "common/result.h"
#include "common/time.h"
#include "dhcp/message.h"

namespace mipsec::dhcp {

struct ServerConfig {
  // The server identifier (option 54) and source of replies: the server's
  // address on this subnet (4.1 SHOULD).
  Ipv4Address server_address;
  Ipv4Prefix subnet;
  // The pool, inclusive; inside `subnet`, without its network and broadcast
  // addresses. The server's own address is skipped if it falls inside.
  Ipv4Address pool_first;
  Ipv4Address pool_last;
  std::vector<Ipv4Address> routers;      // option 3, on the subnet
  std::vector<Ipv4Address> dns_servers;  // option 6
  std::string domain_name;               // option 15
  // Granted when the client asks for none; Duration::Infinite(): infinite.
  Duration lease_time = Duration::Seconds(3600);
  // A requested lease (option 51) is granted clamped to [min, max]; max
  // defaults to lease_time.
  Duration min_lease_time = Duration::Seconds(10);
  std::optional<Duration> max_lease_time;
  Duration offer_timeout = Duration::Seconds(30);
  Duration decline_hold = Duration::Seconds(600);

  // kInvalidArgument naming the field.
  Status Validate() const;
};

enum class ReplyDelivery {
  kBroadcast,        // 255.255.255.255:68 on the subnet
  kUnicast,          // IP unicast to destination (ciaddr:68)
  kRelay,            // to the relay agent, giaddr:67
  kHardwareUnicast,  // to yiaddr:68 at chaddr (no ARP needed by the client)
};
std::string_view ReplyDeliveryName(ReplyDelivery d);

struct ServerTransmit {
  Ipv4Endpoint destination;
  Ipv4Address source;  // config.server_address, from port 67
  ReplyDelivery delivery;
  Bytes hardware_address;  // for kHardwareUnicast: chaddr's first hlen bytes
  MessageType type;
  Bytes bytes;
};

enum class BindingState { kOffered, kBound, kFree };
std::string_view BindingStateName(BindingState s);

struct Binding {
  Bytes client_key;  // see Server::ClientKey
  Ipv4Address address;
  BindingState state = BindingState::kOffered;
  Timestamp expires;     // offer or lease end (Infinite: infinite lease); kFree: unused
  Timestamp free_since;  // kFree only
  std::uint8_t htype = 0;
  std::uint8_t hlen = 0;
  std::array<std::uint8_t, 16> chaddr{};
};

struct ServerEvent {
  enum class Kind { kOffered, kAcked, kNaked, kReleased, kDeclined, kExpired };
  Kind kind;
  Ipv4Address address;  // for kNaked: the address refused (may be 0.0.0.0)
  Bytes client_key;
  Timestamp expires;    // kAcked: lease end
};
std::string_view ServerEventKindName(ServerEvent::Kind k);

enum class ServerDrop {
  kMalformed,       // did not parse
  kNotBootRequest,  // op is BOOTREPLY
  kUnexpectedType,  // OFFER/ACK/NAK or an unknown type sent to a server
  kOtherServer,     // REQUEST/DECLINE/RELEASE naming another server
  kBadRequest,      // fields contradict RFC 2131 Table 4 / 5
  kUnknownClient,   // INIT-REBOOT / REBINDING from a client we have no record of
  kWrongRelay,      // giaddr outside our subnet
  kPoolExhausted,   // DISCOVER with no address left
  kCount,
};
std::string_view ServerDropName(ServerDrop d);

struct ServerCounters {
  std::uint64_t received = 0;
  std::uint64_t offers = 0;
  std::uint64_t acks = 0;
  std::uint64_t naks = 0;
  std::uint64_t releases = 0;
  std::uint64_t declines = 0;
  std::uint64_t informs = 0;
  std::uint64_t expiries = 0;  // leases that ran out
  std::array<std::uint64_t, static_cast<std::size_t>(ServerDrop::kCount)> dropped{};
  std::uint64_t Dropped(ServerDrop d) const { return dropped[static_cast<std::size_t>(d)]; }
};

class Server {
 public:
  static Result<std::unique_ptr<Server>> Create(const ServerConfig& config, Logger log);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // --- Inputs ---
  // A datagram received on UDP port 67 (path.local tells a broadcast from a
  // unicast REQUEST). On Error it was dropped (counted) and nothing changed.
  Status OnDatagram(Timestamp now, const Path& path, ByteSpan bytes);
  void OnTimeout(Timestamp now);

  // --- Outputs ---
  std::optional<ServerTransmit> PollTransmit();
  std::optional<ServerEvent> PollEvent();
  Timestamp NextTimeout() const;

  // --- Introspection ---
  const ServerConfig& config() const { return config_; }
  const ServerCounters& counters() const { return counters_; }
  const Binding* FindBinding(ByteSpan client_key) const;
  const Binding* BindingFor(Ipv4Address address) const;
  // Every binding, by address.
  std::vector<Binding> Bindings() const;
  std::size_t ActiveLeases() const;  // kBound bindings
  bool IsDeclined(Ipv4Address a) const { return declined_.contains(a); }
  // 0x00 + option 61 when present, else 0x01 + htype + chaddr[0..hlen).
  static Bytes ClientKey(const Message& m);

 private:
  Server(const ServerConfig& config, Logger log);

  Status Drop(ServerDrop reason, std::string detail);
  Status HandleDiscover(Timestamp now, const Message& m);
  Status HandleRequest(Timestamp now, const Path& path, const Message& m);
  Status HandleDecline(Timestamp now, const Message& m);
  Status HandleRelease(Timestamp now, const Message& m);
  Status HandleInform(Timestamp now, const Message& m);

  bool InPool(Ipv4Address a) const;
  // In the pool, not declined, and held or remembered by nobody but `key`.
  bool Usable(Ipv4Address a, const Bytes& key) const;
  std::optional<Ipv4Address> Allocate(const Bytes& key, const Message& m);
  // Points the client's binding (created if needed) at `address`.
  Binding& Assign(Timestamp now, const Bytes& key, const Message& m, Ipv4Address address);
  void Commit(Timestamp now, Binding& b, Duration lease);
  void Free(Timestamp now, Binding& b);
  void EraseBinding(const Bytes& key);
  Duration ChooseLease(const Message& m) const;

  void SetDeadline(Ipv4Address a, Timestamp t);
  void ClearDeadline(Ipv4Address a);
  void MarkFree(Ipv4Address a, Timestamp since);
  void UnmarkFree(Ipv4Address a);
  void OnDeadline(Timestamp now, Ipv4Address a);

  Message Reply(const Message& request, MessageType type) const;
  void AddLeaseOptions(Message& reply, Duration lease) const;
  void AddParameters(Message& reply) const;
  void Send(const Message& request, Message reply);
  void Ack(Timestamp now, const Message& request, Binding& b, Duration lease);
  void Nak(const Message& request, const Bytes& key, Ipv4Address address, std::string why);
  void Emit(ServerEvent::Kind kind, const Binding& b);

  ServerConfig config_;
  Duration max_lease_;
  Logger log_;
  std::map<Bytes, Binding> bindings_;
  std::map<Ipv4Address, Bytes> owner_;           // address -> binding key
  std::map<Ipv4Address, Timestamp> declined_;    // address -> hold end
  std::set<std::pair<Timestamp, Ipv4Address>> deadlines_;
  std::map<Ipv4Address, Timestamp> deadline_of_;
  std::set<std::pair<Timestamp, Ipv4Address>> free_;  // reclaimable, oldest first
  std::map<Ipv4Address, Timestamp> free_at_;
  std::uint32_t next_fresh_;  // the next never-used pool address (host order)
  bool fresh_exhausted_ = false;
  std::deque<ServerTransmit> transmits_;
  std::deque<ServerEvent> events_;
  ServerCounters counters_;
};

}  // namespace mipsec::dhcp

#endif  // MIPSEC_DHCP_SERVER_H_
