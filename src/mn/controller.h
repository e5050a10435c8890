// MnController: the RFC 5266 mobile-node controller, sans-I/O.
//
// It decides, per network interface, whether the mobile node stands inside
// the enterprise (Mobile IPv4 directly: mode c, or f through a foreign
// agent), outside it (Mobile IPv4 inside the IPsec VPN: mode mc), or on its
// home link; and what user data may do on that interface meanwhile. It owns
// the Mobile IPv4 registration engines (one per interface, plus one for the
// VPN tunnel as a pseudo-interface) and their shared MN-HA security state;
// it drives the IKEv2 initiator through VpnCommands that the runtime carries
// out (IkeApp in the simulator, IkeRuntime on Linux) and learns the VPN's
// state through OnVpn...() calls. docs/design/mn_controller.md explains the
// design; MISSION.md's R-numbers are cited where each rule is enforced.
//
// ---- Per-interface state (R20, RFC 5265 3.2.1) ----
//   kDown       no link.
//   kDetecting  a connectivity change happened (R11, R21): user data is
//               blocked at once (R13); the direct co-located registration
//               (the probe) goes out as soon as the interface has an
//               address, and in the same input step the VPN is told
//               (MOBIKE update, or a new VPN from the new address: R12, R14,
//               R15). Agent solicitation starts with the link (R8).
//   kInsideC    an authenticated Registration Reply with TNC came back
//               directly on this interface (R11, R22, R24): Mobile IPv4
//               with the co-located care-of address (R2, R10).
//   kInsideF    from kInsideC, with a foreign agent heard on this interface
//               (R7, R8, R10): registered through the FA.
//   kOutside    untrusted: no direct TNC reply (yet). User data flows only
//               once the VPN is up on this interface and the home agent
//               accepted the registration made through the tunnel with the
//               TIA as care-of address (mc, R3, R6); a direct TNC reply that
//               arrives later still switches to kInsideC (issue 7 item 2).
//   kHome       the home agent accepted our deregistration from the home
//               link with an authenticated TNC reply (R18, R24).
//
// ---- What user data may do (the "kill switch") ----
// The interface that carries user data is the one in the best state (home,
// then inside, then outside with the tunnel registered; the lowest ifindex
// on ties). SendPacket() reverse-tunnels through that interface's engine
// (c: IP-in-IP or RFC 3519 UDP to the HA; f: to the FA), or through the
// tunnel engine (mc: IP-in-IP TIA -> HA, which the runtime routes into the
// ESP tunnel; R6), or says kPass on the home link; with no such interface,
// or while T_MONITOR has lapsed (R22), the datagram is dropped (R13, R21).
// Inbound datagrams a registration engine decapsulates are delivered only
// from an engine whose interface carries user data.
//
// ---- Security invariants ----
//   * IPsec is never given up without proof (R24): only RegisteredEvent /
//     DeregisteredEvent with tnc == true (authenticated, covered, answering
//     our latest request) from the engine of this physical interface,
//     registered directly with the HA (not through an FA, not through the
//     tunnel), moves an interface inside. Agent advertisements (H flag)
//     only trigger the authenticated deregistration.
//   * Replies through the tunnel never count (R22): the tunnel engine's
//     tnc is ignored.
//   * Interfaces are independent (R20).
//
// ---- Clean stop (Shutdown) ----
// Shutdown(now) blocks user data at once (the kill switch stays: nothing
// leaks while the MN stops) and deregisters every binding an engine holds,
// the way it was made (RFC 5944 3.6.1.2: Lifetime 0, the binding's care-of
// address): a c binding directly from its interface's care-of address, an
// f binding through its FA, the mc binding through the tunnel engine (its
// request leaves from the TIA into the VPN). A binding whose path is gone
// (its address left the interface, the VPN is down) is left to expire at
// the i-HA. Once every deregistration was answered (accepted or denied) or
// gave up, or after config.shutdown_wait at the latest, every engine stops,
// every interface goes down, and a VpnCommand kDisconnect is issued if a VPN
// is up (or being set up): the deregistration through the tunnel must leave
// before the tunnel goes. shutdown_complete() then stays true; inputs after
// Shutdown() change no decision (link and address changes are ignored,
// OnAddress says kState), replies still reach the engines.
//
// ---- Call order (as every core, mip4/io.h) ----
//   1. an input: OnLinkUp / OnLinkDown / OnAddress / OnAddressLost, OnUdp /
//      OnIpPacket (Mobile IPv4 traffic per interface, the tunnel's with
//      the tunnel's ifindex), OnVpnUp / OnVpnPathConfirmed / OnVpnDown,
//      SendPacket, OnTimeout;
//   2. drain PollTransmit(), PollVpnCommand(), PollDelivery(), PollEvent();
//   3. arm one timer for NextTimeout().
#ifndef MIPSEC_MN_CONTROLLER_H_
#define MIPSEC_MN_CONTROLLER_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/log.h"
#include "common/random.h"
#include "common/result.h"
#include "common/time.h"
#include "mip4/io.h"
#include "mip4/mn_reg/registration.h"

namespace mipsec::mn {

enum class IfState : std::uint8_t { kDown, kDetecting, kInsideC, kInsideF, kOutside, kHome };
std::string_view IfStateName(IfState s);  // "down", "detecting", "c", "f", "outside", "home"

enum class DataPlane : std::uint8_t {
  kBlocked,    // user data dropped (R13, R21, R22)
  kDirectMip,  // Mobile IPv4 on this interface (c, f)
  kMipInVpn,   // Mobile IPv4 inside the VPN over this interface (mc, R6)
  kHomeLink,   // at home: plain IP, no tunnel (R18)
};
std::string_view DataPlaneName(DataPlane p);  // "blocked", "mip", "mip-in-vpn", "home"

// What the tunnel to the VPN gateway does while the MN is inside (R14.2,
// R15: "MAY tear the VPN down"; "IKE SAs MAY be kept alive").
enum class VpnWhenInside : std::uint8_t { kKeep, kTearDown };

struct ControllerConfig {
  // The MN's Mobile IPv4 identity and the direct probe's behaviour: home
  // address, i-HA, lifetime, and the retransmission count and timeout of
  // the direct registration (R11: configurable). reverse_tunnel is forced
  // on (R6 in mc; in c the MN's source is the home address, which the
  // enterprise's ingress filters expect through the HA).
  mip4::MobileNodeConfig mip;
  // The registration through the VPN tunnel (mc): RFC 3519 UDP tunnelling
  // policy there (R16: a private TIA the HA cannot reach directly needs it).
  mip4::UdpTunnelPolicy tunnel_udp = mip4::UdpTunnelPolicy::kRequest;
  // A VPN gateway is configured. Without one, an untrusted interface never
  // carries user data.
  bool vpn = true;
  VpnWhenInside vpn_when_inside = VpnWhenInside::kKeep;
  // Wait before setting up the VPN again after it went down or failed;
  // doubled after each failure up to vpn_retry_max, back to vpn_retry once
  // it is up or the MN moves.
  Duration vpn_retry = Duration::Seconds(5);
  Duration vpn_retry_max = Duration::Seconds(300);
  // R8: MAY switch to an FA care-of address on a trusted network.
  bool use_foreign_agents = true;
  // R22 (RFC 5265 3.2.4): re-register every t_monitor - monitor_margin while
  // inside; past t_monitor without success, block and detect again.
  Duration t_monitor = Duration::Seconds(60);
  Duration monitor_margin = Duration::Seconds(10);
  // R17 (project extension): when not empty, the direct probe is sent only
  // on links whose DHCP domain name is one of these; every other link is
  // untrusted without probing.
  std::vector<std::string> probe_domains;
  // Shutdown(): how long to wait at most for the answers to the
  // deregistrations (the engines retransmit meanwhile as configured in
  // `mip`) before stopping anyway.
  Duration shutdown_wait = Duration::Seconds(2);

  // kInvalidArgument naming the field.
  Status Validate() const;
};

// The settings a running controller takes (a SIGHUP reload): each applies
// from the next decision that reads it, and no current state changes:
// use_foreign_agents when a trusted link next considers its FA (an
// interface in f stays there until its next move), t_monitor and
// monitor_margin from the next (re-)registration, probe_domains from the
// next connectivity change.
struct LiveSettings {
  bool use_foreign_agents = true;
  Duration t_monitor = Duration::Seconds(60);
  Duration monitor_margin = Duration::Seconds(10);
  std::vector<std::string> probe_domains;
};

// What the runtime learned about an interface's address (a DHCP lease or a
// static address).
struct AddressInfo {
  Ipv4Address address;
  int prefix_length = 24;
  std::optional<Ipv4Address> router;
  std::string domain;  // DHCP option 15, for R17
};

// What the controller asks of the IKEv2 initiator. The runtime executes it
// in the same input step (R12: the MOBIKE update leaves with the probe).
struct VpnCommand {
  enum class Kind : std::uint8_t {
    kConnect,          // set up the IKE SA + CHILD SA + TIA from `preferred`
    kUpdateAddresses,  // IkeSa::UpdateLocalAddresses(addresses, preferred)
    kDisconnect,       // delete the IKE SA
  };
  Kind kind = Kind::kConnect;
  std::vector<Ipv4Address> addresses;    // every usable local address
  std::optional<Ipv4Address> preferred;  // the one to use now (nullopt: none)
};
std::string_view VpnCommandKindName(VpnCommand::Kind k);

// The VPN as the runtime reports it.
struct VpnUp {
  Ipv4Address tia;      // the tunnel inner address (configuration payload)
  Ipv4Address gateway;  // the gateway's address
  Ipv4Address local;    // our outer address
};

// A decision or change, for the timeline: what, on which interface, and
// the requirement behind it.
struct ControllerEvent {
  enum class Kind : std::uint8_t {
    kState,      // an interface's state changed (from -> to)
    kDataPlane,  // which interface carries user data, and how, changed
    kAction,     // something was sent or started (probe, MOBIKE, registration)
    kRejected,   // an input that could not change anything (a reply that
                 // does not count, e.g. through the tunnel)
  };
  Timestamp at{};
  Kind kind = Kind::kState;
  int ifindex = 0;
  IfState from = IfState::kDown;
  IfState to = IfState::kDown;
  DataPlane plane = DataPlane::kBlocked;
  std::string requirement;  // "R11", or "R11 R12"
  std::string text;
};

struct ControllerCounters {
  std::uint64_t probes = 0;                // direct registrations started (R11)
  std::uint64_t tunnel_registrations = 0;  // through the VPN (R3, R4)
  std::uint64_t vpn_commands = 0;
  std::uint64_t sent = 0;     // user datagrams handed to an engine
  std::uint64_t passed = 0;   // user datagrams at home (kPass)
  std::uint64_t blocked = 0;  // user datagrams dropped: no interface may carry them
  std::uint64_t delivered = 0;
  std::uint64_t delivery_blocked = 0;  // decapsulated but not allowed in
  std::uint64_t tnc_ignored = 0;       // a TNC that could not prove trust
};

// SendPacket's verdict.
enum class SendVerdict : std::uint8_t {
  kTunnelled,  // handed to an engine: see PollTransmit
  kPass,       // at home: send it as it is
  kBlocked,    // dropped (counted)
};

class MnController {
 public:
  // `tunnel_ifindex` names the VPN tunnel pseudo-interface (the runtime's
  // TUN device): the tunnel engine's traffic carries it. `random` must
  // outlive the controller. kInvalidArgument for a bad config.
  static Result<std::unique_ptr<MnController>> Create(const ControllerConfig& config,
                                                      mip4::SecurityAssociation sa,
                                                      mip4::WallClockMapping clock,
                                                      int tunnel_ifindex, RandomSource& random,
                                                      Logger log);
  ~MnController();
  MnController(const MnController&) = delete;
  MnController& operator=(const MnController&) = delete;

  // --- Interfaces (R20) ---
  // The link came up (carrier, attach): detection starts; solicitation
  // starts at once (R8). Unknown interfaces are added.
  void OnLinkUp(Timestamp now, int ifindex, std::string name);
  void OnLinkDown(Timestamp now, int ifindex);
  // The interface got (or changed) its address: a connectivity change
  // (R11, R21). kNotFound for an interface that is not up.
  Status OnAddress(Timestamp now, int ifindex, const AddressInfo& info);
  void OnAddressLost(Timestamp now, int ifindex);

  // --- Mobile IPv4 traffic ---
  // UDP port 434 (replies, RFC 3519 tunnel data) received on rx.ifindex;
  // the tunnel's has the tunnel ifindex. Errors: dropped by the engine.
  Status OnUdp(Timestamp now, const mip4::UdpReceived& rx);
  // IP-in-IP or an Agent Advertisement received on `ifindex`.
  Status OnIpPacket(Timestamp now, int ifindex, ByteSpan packet);

  // --- The VPN (the runtime's IKE initiator) ---
  void OnVpnUp(Timestamp now, const VpnUp& up);
  // The gateway answered on our current outer address `local` (the MOBIKE
  // UPDATE_SA_ADDRESSES response, RFC 4555 3.5).
  void OnVpnPathConfirmed(Timestamp now, Ipv4Address local);
  // `next_gateway`: the runtime will try another configured gateway next,
  // so the set-up is retried at once rather than after the backoff.
  void OnVpnDown(Timestamp now, std::string reason, bool next_gateway = false);

  // --- User data ---
  // A datagram from the home address (see the file comment).
  // kInvalidArgument when it is not IPv4 from the home address.
  Result<SendVerdict> SendPacket(Timestamp now, ByteSpan datagram);

  void OnTimeout(Timestamp now);

  // --- Reconfiguration ---
  // kInvalidArgument naming the field (and nothing changes) when the
  // settings do not validate with the rest of the config.
  Status ApplyLiveSettings(const LiveSettings& settings);
  // The controller's and its engines' log level.
  void set_log_level(LogLevel level);

  // --- Clean stop (see the file comment) ---
  // Blocks user data, deregisters, then disconnects the VPN. Idempotent.
  void Shutdown(Timestamp now);
  bool shutting_down() const { return shutting_down_; }
  // Every deregistration answered or given up, engines stopped, the VPN
  // told to disconnect.
  bool shutdown_complete() const { return shutdown_complete_; }

  // --- Outputs ---
  std::optional<mip4::Transmit> PollTransmit();
  std::optional<VpnCommand> PollVpnCommand();
  std::optional<Bytes> PollDelivery();
  std::optional<ControllerEvent> PollEvent();
  Timestamp NextTimeout() const;

  // --- Introspection ---
  IfState state(int ifindex) const;
  DataPlane plane(int ifindex) const;
  // The interface carrying user data, if any.
  std::optional<int> active_interface() const { return active_; }
  // The access mode of the active interface: "c", "f", "mc", "home" or "".
  std::string_view mode() const;
  bool vpn_up() const { return vpn_.has_value(); }
  const std::optional<VpnUp>& vpn() const { return vpn_; }
  const ControllerCounters& counters() const { return counters_; }
  const mip4::MobileNodeRegistration* engine(int ifindex) const;
  const mip4::MobileNodeRegistration& tunnel_engine() const { return *tunnel_; }
  Ipv4Address home_address() const { return home_; }
  const ControllerConfig& config() const { return config_; }

 private:
  struct Interface;
  MnController(const ControllerConfig& config, mip4::SecurityAssociation sa,
               mip4::WallClockMapping clock, int tunnel_ifindex, RandomSource& random,
               Logger log);

  Interface* Find(int ifindex);
  const Interface* Find(int ifindex) const;
  void StartDetection(Timestamp now, Interface& ifc, const char* why);
  void SendProbe(Timestamp now, Interface& ifc);
  void TellVpn(Timestamp now, const char* requirement);
  std::optional<Ipv4Address> VpnPreferred() const;
  void SetState(Timestamp now, Interface& ifc, IfState to, const std::string& requirement,
                const std::string& text);
  void GoInside(Timestamp now, Interface& ifc, const mip4::RegisteredEvent& r);
  void TryForeignAgent(Timestamp now, Interface& ifc);
  void GoOutsideIfReady(Timestamp now, Interface& ifc, const char* why);
  void RegisterThroughTunnel(Timestamp now, const char* requirement, const std::string& why);
  void ArmMonitor(Interface& ifc, Timestamp registered_at);
  void OnMonitorTimer(Timestamp now, Interface& ifc);
  void UpdatePlane(Timestamp now, const char* requirement, const std::string& why);
  bool TunnelBindingCurrent() const;
  // An interface is inside or at home: its direct binding is the one the
  // i-HA must hold, so no interface registers through the tunnel.
  bool AnyInside() const;
  // Once nothing is inside any more, an outside interface whose VPN path
  // is confirmed registers through the tunnel.
  void MaybeRegisterOutside(Timestamp now);
  void Pump(Timestamp now);
  void PumpEngine(Timestamp now, Interface* ifc, mip4::MobileNodeRegistration& engine);
  void HandleEngineEvent(Timestamp now, Interface* ifc, const mip4::MnEvent& e);
  void HandleTunnelEvent(Timestamp now, const mip4::MnEvent& e);
  // While shutting down: only the answers to the deregistrations matter.
  void HandleShutdownEvent(Timestamp now, int ifindex, const mip4::MnEvent& e);
  void MaybeFinishShutdown(Timestamp now);
  void Emit(ControllerEvent e);
  void Note(Timestamp now, ControllerEvent::Kind kind, int ifindex, const std::string& requirement,
            const std::string& text);
  void Action(Timestamp now, int ifindex, const std::string& requirement, const std::string& text);
  // An input that could not change anything, and why.
  void Rejected(Timestamp now, int ifindex, const std::string& requirement,
                const std::string& text);
  void Command(VpnCommand c);
  bool ProbeAllowed(const Interface& ifc) const;

  ControllerConfig config_;
  Ipv4Address home_;
  int tunnel_ifindex_;
  RandomSource& random_;
  Logger log_;
  std::unique_ptr<mip4::MnHaSecurity> security_;
  std::map<int, std::unique_ptr<Interface>> interfaces_;
  std::unique_ptr<mip4::MobileNodeRegistration> tunnel_;
  std::optional<VpnUp> vpn_;
  bool vpn_connecting_ = false;
  // The outer address the gateway last confirmed (setup or UPDATE reply).
  std::optional<Ipv4Address> vpn_confirmed_local_;
  Timestamp vpn_retry_at_ = Timestamp::Infinite();
  Duration vpn_backoff_ = Duration::Zero();  // the next retry's wait
  // The tunnel registration: for which TIA and gateway (R4), when sent.
  std::optional<Ipv4Address> tunnel_tia_, tunnel_gateway_;
  bool tunnel_registered_ = false;
  Timestamp tunnel_started_at_ = Timestamp::Infinite();
  Timestamp tunnel_retry_at_ = Timestamp::Infinite();
  std::optional<int> active_;
  DataPlane active_plane_ = DataPlane::kBlocked;
  std::deque<mip4::Transmit> transmits_;
  std::deque<VpnCommand> commands_;
  std::deque<Bytes> deliveries_;
  std::deque<ControllerEvent> events_;
  ControllerCounters counters_;
  bool pumping_ = false;
  bool shutting_down_ = false;
  bool shutdown_complete_ = false;
  Timestamp shutdown_deadline_ = Timestamp::Infinite();
};

}  // namespace mipsec::mn

#endif  // MIPSEC_MN_CONTROLLER_H_
