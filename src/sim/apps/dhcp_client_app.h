// The DHCP client of a simulated host: one dhcp::Client core per enabled
// interface behind the node's one UDP port 68 (one daemon for every
// interface, like dhcpcd), driven by SimTimers and the node's link events.
//
// Per interface:
//   link up    -> Client::Start(now, network key); the link-up time is kept
//                 to measure how long acquisition takes;
//   link down  -> Client::Stop(now), then the leased address and the default
//                 route installed here are removed (static addresses stay:
//                 they are someone else's, e.g. the MN's home address);
//   Bound      -> the leased address/prefix is added to the interface
//                 (replacing a previous lease's) and, when the lease names a
//                 router and `install_default_route` is set, a default route
//                 via it (replacing the one installed before; RoutingTable
//                 also replaces any other default route of the same metric);
//   Renewed    -> the same, only what changed;
//   LeaseLost  -> the address and route are removed.
// Then the event is handed to the callback (the future mobile-node
// controller), with the interface index.
//
// The core's outputs are drained after every input (transmits first, so a
// DHCPRELEASE leaves while the address is still configured). Transmits go
// out of the interface (UdpSendOptions.ifindex) from port 68, sourced as the
// core says (0.0.0.0 until bound).
//
// Deterministic: each core's RandomSource is a DeterministicRandom seeded
// from Simulator::DeriveSeed("dhcp-client/<node>/<ifname>"), and an all-zero
// chaddr in the options is replaced by a locally administered MAC derived
// from "dhcp-mac/<node>/<ifname>".
//
// Lifetime: like every simulator app, it must outlive the simulation run
// (its SimTimers are referenced by queued events).
#ifndef MIPSEC_SIM_APPS_DHCP_CLIENT_APP_H_
#define MIPSEC_SIM_APPS_DHCP_CLIENT_APP_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/random.h"
#include "common/result.h"
#include "common/time.h"
#include "dhcp/client.h"
#include "sim/node.h"
#include "sim/routing_table.h"
#include "sim/simulator.h"

namespace mipsec::sim {

struct DhcpClientOptions {
  dhcp::ClientConfig client;  // chaddr all zero: derived (see the file comment)
  bool install_default_route = true;
  std::uint32_t route_metric = 0;
  // The "network" a link-up lands on, for INIT-REBOOT (dhcp/client.h). Null:
  // always "" — the client then tries its last lease on any link.
  std::function<std::string(const Interface&)> network_key;
};

struct DhcpClientAppCounters {
  std::uint64_t received = 0;           // datagrams on port 68
  std::uint64_t ignored_interface = 0;  // on an interface without a client
  std::uint64_t sent = 0;
  std::uint64_t send_errors = 0;
  std::uint64_t configure_errors = 0;   // the node refused an address or route
};

class DhcpClientApp {
 public:
  using EventCallback =
      std::function<void(Timestamp now, int ifindex, const dhcp::ClientEvent& event)>;

  // Binds UDP port 68 on `node` and watches its link events.
  static Result<std::unique_ptr<DhcpClientApp>> Create(Node& node);
  ~DhcpClientApp();
  DhcpClientApp(const DhcpClientApp&) = delete;
  DhcpClientApp& operator=(const DhcpClientApp&) = delete;

  // Runs a client on `ifname`, starting at once if its link is up. Errors:
  // kNotFound (no such interface), kAlreadyExists, kInvalidArgument (the
  // client config does not validate).
  Status Enable(std::string_view ifname, const DhcpClientOptions& options = {});
  // Gives the interface's lease back (DHCPRELEASE) and stops its client
  // until the next link-up. kNotFound if no client runs there.
  Status Release(std::string_view ifname);

  // Called for every core event, after the node was configured. Must not
  // call back into this app synchronously (queue with the simulator).
  void SetEventCallback(EventCallback cb) { on_event_ = std::move(cb); }

  const dhcp::Client* client(std::string_view ifname) const;
  // The lease in use on `ifname`, if any.
  std::optional<dhcp::Lease> lease(std::string_view ifname) const;
  // Link-up to Bound, for every acquisition on `ifname`, oldest first.
  std::vector<Duration> acquisitions(std::string_view ifname) const;
  const DhcpClientAppCounters& counters() const { return counters_; }

 private:
  struct PerInterface {
    int ifindex = 0;
    DhcpClientOptions options;
    std::unique_ptr<DeterministicRandom> random;
    std::unique_ptr<dhcp::Client> core;
    std::unique_ptr<SimTimer> timer;
    std::optional<Timestamp> link_up_at;
    std::vector<Duration> acquisitions;
    std::optional<InterfaceAddress> address;  // installed by us
    std::optional<Route> route;               // installed by us
  };

  explicit DhcpClientApp(Node& node) : node_(node) {}
  void OnDatagram(Timestamp now, const UdpDelivery& d);
  void OnLink(Timestamp now, const LinkEvent& ev);
  void Start(PerInterface& p, Timestamp now);
  void Drain(PerInterface& p, Timestamp now);
  void Configure(PerInterface& p, const dhcp::Lease& lease);
  void Unconfigure(PerInterface& p);
  PerInterface* Find(std::string_view ifname) const;

  Node& node_;
  std::map<int, std::unique_ptr<PerInterface>> clients_;  // by ifindex
  DhcpClientAppCounters counters_;
  EventCallback on_event_;
  // Link observers cannot be removed from a Node: this flag, shared with the
  // observer, keeps a late link event away from a destroyed app.
  std::shared_ptr<DhcpClientApp*> self_;
};

}  // namespace mipsec::sim

#endif  // MIPSEC_SIM_APPS_DHCP_CLIENT_APP_H_
