// The DHCP server of a simulated router: one dhcp::Server core per served
// interface (subnet), behind the node's one UDP port 67 — as one dnsmasq
// serves every interface of a real router, so several subnets of one
// router do not fight over the port.
//
// A request is served by the core of the interface it arrived on
// (UdpDelivery::ifindex); requests on other interfaces are ignored and
// counted. Each request reaches the core `response_delay` after it arrived
// (modelled processing time, first in first out), so a lease exchange
// takes modelled time: with link delay d and response delay p, a
// DISCOVER..ACK exchange takes 2 * (2d + p).
//
// Replies leave from port 67 of the served interface (UdpSendOptions.ifindex,
// like SO_BINDTODEVICE), sourced from the server identifier:
//   broadcast            255.255.255.255:68 on that interface;
//   unicast              to ciaddr:68 (RENEWING, INFORM);
//   relay                to giaddr:67, routed;
//   hardware unicast     (no BROADCAST flag, ciaddr 0) — the simulator has
//                        no link layer to reach an unconfigured client by
//                        chaddr, so it broadcasts instead, as RFC 2131 4.1
//                        allows ("If unicasting is not possible ...").
//
// Lifetime: like every simulator app, it must outlive the simulation run
// (its SimTimers are referenced by queued events).
#ifndef MIPSEC_SIM_APPS_DHCP_SERVER_APP_H_
#define MIPSEC_SIM_APPS_DHCP_SERVER_APP_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string_view>

#include "common/result.h"
#include "common/time.h"
#include "dhcp/server.h"
#include "sim/node.h"
#include "sim/simulator.h"

namespace mipsec::sim {

struct DhcpServerAppCounters {
  std::uint64_t received = 0;           // datagrams on port 67
  std::uint64_t ignored_interface = 0;  // arrived on an interface we do not serve
  std::uint64_t queue_overflow = 0;     // dropped: too many requests in processing
  std::uint64_t sent = 0;
  std::uint64_t send_errors = 0;        // the node refused to send (stopped, no route)
};

class DhcpServerApp {
 public:
  using EventCallback =
      std::function<void(Timestamp now, int ifindex, const dhcp::ServerEvent& event)>;

  // Binds UDP port 67 on `node` (kAlreadyExists if something else has).
  static Result<std::unique_ptr<DhcpServerApp>> Create(Node& node);
  ~DhcpServerApp();
  DhcpServerApp(const DhcpServerApp&) = delete;
  DhcpServerApp& operator=(const DhcpServerApp&) = delete;

  // Serves `config` on interface `ifname`. Errors: kNotFound (no such
  // interface), kAlreadyExists (already served), kInvalidArgument (the
  // config does not validate, config.server_address is not an address of
  // that interface, or the delay is negative).
  Status Serve(std::string_view ifname, const dhcp::ServerConfig& config,
               Duration response_delay = Duration::Millis(2));

  // The core serving `ifname`, or null.
  const dhcp::Server* server(std::string_view ifname) const;
  const DhcpServerAppCounters& counters() const { return counters_; }
  // Called for every core event, after the core's outputs were sent.
  void SetEventCallback(EventCallback cb) { on_event_ = std::move(cb); }

 private:
  struct Pending {
    Timestamp due;
    dhcp::Path path;
    Bytes bytes;
  };
  struct Served {
    int ifindex = 0;
    Duration delay;
    std::unique_ptr<dhcp::Server> core;
    std::deque<Pending> queue;
    std::unique_ptr<SimTimer> input_timer;  // head of `queue`
    std::unique_ptr<SimTimer> core_timer;   // core->NextTimeout()
  };
  static constexpr std::size_t kMaxQueue = 4096;

  explicit DhcpServerApp(Node& node) : node_(node) {}
  void OnDatagram(Timestamp now, const UdpDelivery& d);
  void Process(Served& s, Timestamp now);
  void Drain(Served& s, Timestamp now);

  Node& node_;
  std::map<int, std::unique_ptr<Served>> served_;  // by ifindex
  DhcpServerAppCounters counters_;
  EventCallback on_event_;
};

}  // namespace mipsec::sim

#endif  // MIPSEC_SIM_APPS_DHCP_SERVER_APP_H_
