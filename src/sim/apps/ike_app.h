// IkeApp: the IKE SA layer (ikev2::IkeSaManager) and the userspace ESP data
// plane (esp::Sa) on a simulated Node: the simulator's twin of the Linux
// IkeRuntime + EspDataPath (platform/linux/ikev2), for MOBIKE choreography
// tests (issue 6).
//
// Ports: UDP 500 and the NAT-T port (4500) on every address. On 4500 a
// datagram starting with the 4-byte non-ESP marker is IKE, the single byte
// 0xFF is a NAT keepalive (RFC 3948 2.2, 2.3), anything else is ESP-in-UDP
// (RFC 3948 2.1). Raw ESP (protocol 50) is accepted too, for CHILD SAs that
// are not UDP-encapsulated.
//
// Driving the core (docs/ARCHITECTURE.md, the sans-I/O contract): every
// input (datagram, timer, link event, command) is followed by draining
// PollTransmit() and PollEvent() and re-arming one SimTimer on
// NextTimeout(). Link events that arrive while the output is being handled
// (the virtual IP being configured) are applied after it, never from inside;
// so are UpdateAddresses() and Disconnect() called from there (by an owner's
// link observer that the TIA woke up).
//
// Owner: with `follow_links` false (the RFC 5266 mobile-node controller)
// link events never reach IKE; the owner calls UpdateAddresses() and
// Disconnect() itself and reacts to the app's events through SetObserver(),
// in the same simulated instant. The observer is called after the drain
// that recorded the event (rule 4: never from inside the core's output
// handling), in record order, so it may call back into the app.
//
// Data path: the app owns an unattached interface (`tun0`, what the Linux
// runtime's TUN device is). A PacketFilter takes every datagram routed into
// it (kOutput on a client, kForward on a gateway), finds the CHILD SA whose
// traffic selectors cover it, seals it and sends it from the SA's outer
// address. Opened inbound ESP is written back into tun0: Node::InjectLocal
// on a client (the inner destination is the TIA), Node::InjectReceive on a
// gateway (the node forwards it to the internal network).
//
// Roles:
//   client  the original initiator. On VirtualIpAssigned the TIA goes on
//           tun0 as a /32 and `tunnel_prefixes` are routed into tun0. Every
//           link event of the node calls IkeSa::UpdateLocalAddresses(now,
//           addresses, preferred) at once (RFC 4555 3.5: no delay):
//           `addresses` = the addresses of the running interfaces listed in
//           `ike_ifindexes`, `preferred` = Node::SourceAddressFor(gateway)
//           (unless `follow_links` is false: then UpdateAddresses() does it).
//           When its IKE SA goes down (not by a rekey) the TIA and the
//           routes into tun0 go, as the Linux VpnClient drops them.
//   gateway a responder with a TIA pool (the PeerConfig's AddressProvider);
//           `tunnel_prefixes` (the pool) are routed into tun0. Its own
//           address changes are reported to every IKE SA the same way.
//
// CHILD SA rekeys follow RFC 7296 2.8 as the Linux runtime does: the side
// that initiated the rekey sends on the new SA at once; the responder keeps
// the old outbound SA until it is deleted.
#ifndef MIPSEC_SIM_APPS_IKE_APP_H_
#define MIPSEC_SIM_APPS_IKE_APP_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/random.h"
#include "common/result.h"
#include "common/time.h"
#include "esp/sa.h"
#include "ikev2/sa/config.h"
#include "ikev2/sa/ike_sa_manager.h"
#include "sim/node.h"
#include "sim/simulator.h"

namespace mipsec::sim {

enum class IkeAppRole : std::uint8_t { kClient, kGateway };

struct IkeAppConfig {
  IkeAppRole role = IkeAppRole::kClient;
  // Client: the IKE SA's config (initiator, CP request) and the gateway.
  // Gateway: the responder config (with its AddressProvider).
  ikev2::PeerConfig peer;
  Ipv4Address gateway{};  // client only
  // Interfaces whose addresses IKE may use (the moving one on a client, the
  // public one(s) on a gateway).
  std::vector<int> ike_ifindexes;
  // Addresses on those interfaces IKE must never use or announce (a mobile
  // node's home address: it is not an outer address, RFC 5266 3).
  std::vector<Ipv4Address> exclude_addresses;
  // Routed into tun0: a client's remote prefixes (the internal network), a
  // gateway's TIA pool.
  std::vector<Ipv4Prefix> tunnel_prefixes;
  // Client: true: every link event of an IKE interface updates the IKE SA's
  // addresses (see above). false: only UpdateAddresses() does (the owner
  // decides when to move, RFC 5266 3.4); Connect() still records the
  // interfaces' addresses once for IKE_AUTH (RFC 4555 3.4).
  bool follow_links = true;
  // The component tag of the app's and the IKE SAs' log lines.
  std::string log_name = "ike";
  // Names the app's random stream (Simulator::DeriveSeed); empty: "ike/"
  // plus the node's name. A restarted gateway needs its own (new SPIs and
  // nonces, as a rebooted box would draw).
  std::string random_label;
  LogLevel ike_log_level = LogLevel::kInfo;
};

// What happened, in order, for assertions (every entry is also logged).
struct IkeAppEvent {
  enum class Kind : std::uint8_t {
    kIkeUp,
    kIkeDown,
    kIkeRekeyed,
    kVirtualIp,
    kChildUp,
    kChildDown,
    kChildFailed,
    kPathChanged,
    kPathConfirmed,     // the gateway answered our UPDATE_SA_ADDRESSES (RFC 4555 3.5)
    kAddressesUpdated,  // UpdateLocalAddresses was called
  };
  Kind kind = Kind::kIkeUp;
  Timestamp at{};
  std::uint64_t sa_id = 0;
  std::uint32_t spi_in = 0;
  Ipv4Endpoint local{};
  Ipv4Endpoint remote{};
  bool udp_encap = false;
  std::string detail{};
};
std::string_view IkeAppEventKindName(IkeAppEvent::Kind k);

struct IkeAppCounters {
  std::uint64_t ike_in = 0;
  std::uint64_t ike_out = 0;
  std::uint64_t keepalives_in = 0;
  std::uint64_t keepalives_out = 0;
  std::uint64_t esp_in = 0;         // opened and delivered
  std::uint64_t esp_out = 0;        // sealed and sent
  std::uint64_t esp_dropped = 0;    // inbound ESP that did not open
  std::uint64_t no_policy = 0;      // routed into tun0, no CHILD SA covers it
  std::uint64_t seal_errors = 0;
  std::uint64_t send_errors = 0;    // incl. a source address the node no longer has
  std::uint64_t install_errors = 0;
  std::uint64_t address_updates = 0;  // UpdateLocalAddresses calls
};

// One installed CHILD SA as the data plane holds it.
struct IkeAppChild {
  std::uint64_t sa_id = 0;
  std::uint32_t spi_in = 0;
  std::uint32_t spi_out = 0;
  esp::Sa in;
  esp::Sa out;
  std::vector<Ipv4Prefix> local_prefixes;
  std::vector<Ipv4Prefix> remote_prefixes;
  std::uint64_t seq = 0;        // install order
  std::uint64_t child_id = 0;   // kept across rekeys
  bool outbound_active = false;
  bool ever_active = false;
};

class IkeApp {
 public:
  // Binds UDP 500 and 4500 and ESP on `node`, adds interface "tun0" and the
  // filter. kInvalidArgument for a config that cannot work (no IKE
  // interface, a gateway without an AddressProvider); a bind error as is.
  static Result<std::unique_ptr<IkeApp>> Create(Node& node, IkeAppConfig config);
  ~IkeApp();
  IkeApp(const IkeApp&) = delete;
  IkeApp& operator=(const IkeApp&) = delete;

  // Client: IKE_SA_INIT to the gateway from `source`, or by default from
  // the preferred source address (Node::SourceAddressFor). kState unless a
  // client with no IKE SA; kNotFound without a route; kInvalidArgument for
  // a `source` that is not an address of an IKE interface.
  Status Connect(std::optional<Ipv4Address> source = std::nullopt);
  // Client: the gateway later Connect()s go to (a mobile node failing over
  // to its next gateway, RFC 5266 3.3). The IKE SA up now is not touched.
  void SetGateway(Ipv4Address gateway) { config_.gateway = gateway; }
  Ipv4Address configured_gateway() const { return config_.gateway; }
  // Client: IkeSa::UpdateLocalAddresses(now, addresses, preferred) on the
  // client's IKE SA at once, output sent in this instant (RFC 4555 3.5: the
  // move starts without delay); recorded as kAddressesUpdated. Its status is
  // IkeSa's (kUnsupported: the IKE SA would have to move without MOBIKE).
  // kState when not a client or without an IKE SA. Called while the app
  // handles the core's output (from a link observer), it is applied right
  // after that, in the same instant (the latest such call wins), and returns
  // Ok; IkeSa's status is then in the kAddressesUpdated detail.
  Status UpdateAddresses(std::vector<Ipv4Address> addresses,
                         std::optional<Ipv4Address> preferred);
  // Client: deletes the IKE SA (RFC 7296 1.4.1, IkeSa::Delete): kIkeDown
  // when the gateway answered (or retransmissions gave up; at once before
  // establishment), then the TIA and the routes into tun0 are gone.
  // Nothing to do without an IKE SA or when not a client.
  void Disconnect();
  // Every recorded IkeAppEvent from now on, in order, synchronously in the
  // instant it was recorded, after the drain that recorded it (not from
  // inside the core's output handling). The observer may call
  // UpdateAddresses, Disconnect, Connect, RekeyChild, RekeyIke; the events
  // those record are delivered after the current one returns. It must not
  // destroy the app. An empty function removes the observer.
  void SetObserver(std::function<void(const IkeAppEvent&)> observer);
  // Client: rekeys the CHILD SA with inbound SPI `spi_in` (RFC 7296 1.3.3).
  Status RekeyChild(std::uint32_t spi_in);
  // Client: rekeys its IKE SA (RFC 7296 1.3.2); client_sa() follows.
  Status RekeyIke();

  // The client's IKE SA (it follows IKE SA rekeys); null before Connect or
  // after it went down.
  ikev2::IkeSa* client_sa();
  std::optional<std::uint64_t> client_sa_id() const { return client_sa_id_; }
  // Client: the virtual IP (TIA) on tun0, while the IKE SA that gave it is up.
  std::optional<Ipv4Address> tia() const { return tia_; }
  // Client: the IKE SA's remote address (it moves with MOBIKE when the
  // gateway changes address, RFC 4555 3.6); nullopt without an IKE SA.
  std::optional<Ipv4Address> gateway_address() const;
  ikev2::IkeSaManager& manager() { return *manager_; }
  const std::map<std::uint32_t, IkeAppChild>& children() const { return children_; }
  const IkeAppCounters& counters() const { return counters_; }
  const std::vector<IkeAppEvent>& events() const { return events_; }
  std::size_t CountEvents(IkeAppEvent::Kind k) const;
  int tun_ifindex() const { return tun_ifindex_; }
  // The first time an ESP packet was opened that came to `local` (our outer
  // address) / from `remote` (the peer's), if any: when the tunnel started
  // to work over that address.
  std::optional<Timestamp> FirstEspInTo(Ipv4Address local) const;
  std::optional<Timestamp> FirstEspInFrom(Ipv4Address remote) const;
  // The same for ESP sent from `local`.
  std::optional<Timestamp> FirstEspOutFrom(Ipv4Address local) const;

 private:
  class Tunnel;
  IkeApp(Node& node, IkeAppConfig config);

  void Drain(Timestamp now);
  void OnLink(Timestamp now, const LinkEvent& ev);
  void ApplyAddresses(Timestamp now);
  // UpdateLocalAddresses on the client's IKE SA, recorded.
  Status UpdateClient(Timestamp now, std::vector<Ipv4Address> addresses,
                      std::optional<Ipv4Address> preferred);
  // Calls the observer for every event it has not seen yet (after Drain).
  void Notify();
  // The client's IKE SA went down: TIA and tunnel routes go.
  void DropTia();
  std::vector<Ipv4Address> UsableAddresses() const;
  void OnIke(Timestamp now, const UdpDelivery& d);
  void OnNatt(Timestamp now, const UdpDelivery& d);
  void OnRawEsp(Timestamp now, const RawDelivery& d);
  void OnEsp(Timestamp now, Ipv4Address local, Ipv4Address remote, ByteSpan esp);
  void Send(const ikev2::IkeTransmit& t);
  void HandleEvent(Timestamp now, std::uint64_t sa_id, const ikev2::IkeEvent& e);
  void OnChildUp(Timestamp now, std::uint64_t sa_id, const ikev2::ChildSaUp& up);
  void OnChildDown(std::uint32_t spi_in);
  void OnVirtualIp(const ikev2::VirtualIpAssigned& vip);
  // The filter: true when the packet was taken (sealed or dropped).
  bool Outgoing(Bytes& packet);
  void Record(Timestamp now, IkeAppEvent ev);

  Node& node_;
  IkeAppConfig config_;
  DeterministicRandom rng_;
  Logger log_;
  std::unique_ptr<ikev2::IkeSaManager> manager_;
  std::unique_ptr<Tunnel> tunnel_;
  SimTimer timer_;
  int tun_ifindex_ = 0;
  bool wired_ = false;
  bool draining_ = false;
  bool addresses_dirty_ = false;
  // Commands that came while draining, applied at its end (rule 4).
  struct PendingUpdate {
    std::vector<Ipv4Address> addresses;
    std::optional<Ipv4Address> preferred;
  };
  std::optional<PendingUpdate> pending_update_;
  bool disconnect_pending_ = false;
  std::function<void(const IkeAppEvent&)> observer_;
  std::size_t notified_ = 0;  // events_[0, notified_) were given to the observer
  bool notifying_ = false;
  std::optional<std::uint64_t> client_sa_id_;
  std::set<std::uint64_t> established_;  // IKE SAs to report addresses to
  std::optional<Ipv4Address> tia_;
  std::map<std::uint32_t, IkeAppChild> children_;  // by inbound SPI
  std::uint64_t next_seq_ = 1;
  std::uint64_t next_child_id_ = 1;
  std::map<Ipv4Address, Timestamp> first_in_to_;
  std::map<Ipv4Address, Timestamp> first_in_from_;
  std::map<Ipv4Address, Timestamp> first_out_from_;
  IkeAppCounters counters_;
  std::vector<IkeAppEvent> events_;
  std::shared_ptr<IkeApp*> self_;  // link observers outlive the app: they check it
};

}  // namespace mipsec::sim

#endif  // MIPSEC_SIM_APPS_IKE_APP_H_
