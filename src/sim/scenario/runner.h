// Builds a Scenario into a simulated network, runs its timeline, and reports
// what happened: per leg of the walk (a leg starts at each move) and per
// stream, the delivery, loss and longest gap in each direction, plus every
// node's, segment's and protocol agent's counters and the pcaps.
//
// Protocol agents ([[home_agent]], [[foreign_agent]], [[vpn_gateway]]) run
// the unchanged cores through the simulator's apps (Mip4HaApp, Mip4FaApp,
// IkeApp as gateway) on their nodes, for the whole run unless a `restart`
// event rebuilds a node's agents from their specs with empty state (a
// reboot: no bindings, no IKE SAs, a fresh TIA pool); their events go to
// the event log ("mip4-ha ...", "mip4-fa ...", "ike-gw ...").
//
// Deterministic: the same scenario and seed give the same report, event log
// and pcaps, byte for byte.
#ifndef MIPSEC_SIM_SCENARIO_RUNNER_H_
#define MIPSEC_SIM_SCENARIO_RUNNER_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "ikev2/sa/tia_pool.h"
#include "mip4/security/sa_database.h"
#include "sim/apps/dhcp_client_app.h"
#include "sim/apps/dhcp_server_app.h"
#include "sim/apps/ike_app.h"
#include "sim/apps/mip4_fa_app.h"
#include "sim/apps/mip4_ha_app.h"
#include "sim/apps/mn_app.h"
#include "sim/apps/udp_stream.h"
#include "sim/firewall.h"
#include "sim/nat.h"
#include "sim/network.h"
#include "sim/scenario/scenario.h"

namespace mipsec::sim::scenario {

// The wall clock at virtual time zero (Unix ns), for Mobile IPv4 timestamp
// replay protection (RFC 5944 5.7.1): every agent and mobile node of a run
// uses this mapping.
inline constexpr std::int64_t kUnixNanosAtZero = 1'700'000'000LL * 1'000'000'000LL;

struct LegReport {
  std::string name;
  Timestamp start, end;
  std::string mover;                       // "node/interface" that moved into this leg
  std::vector<std::string> addresses;      // its addresses at the end of the leg
  std::vector<StreamStats> forward;        // per stream: CN -> echo node
  std::vector<StreamStats> reverse;        // per stream: echo node -> CN
  // With a mobile node ([[mobile_node]]) moving in this leg:
  std::string mode;                        // its access mode at the end: c, f, mc, home or ""
  // From the move until user data could flow again (the first data-plane
  // decision that is not "blocked"); none: never in this leg.
  std::optional<Duration> ready_after;
  // Bytes added to each user datagram the MN sent in this leg (the tunnels:
  // IP-in-IP, RFC 3519, ESP), measured on the wire; the median.
  std::optional<double> overhead_bytes;
};

// One decision or change of a mobile node's controller (mn::ControllerEvent).
struct TimelineEntry {
  Timestamp at;
  std::string node;
  std::string where;        // interface, "tunnel" or "vpn"
  std::string kind;         // "state", "data", "action", "rejected"
  std::string text;
  std::string requirement;  // "R11 R12"
};

struct StreamSummary {
  std::string description;                 // "cn -> 10.1.0.10:7000 (echo: mn)"
  StreamReport total;
};

struct NodeCountersReport {
  std::string name;
  NodeCounters counters;
};
struct SegmentCountersReport {
  std::string name;
  SegmentCounters counters;
};

// One protocol agent's counters, in the app's declaration order.
struct AgentCountersReport {
  std::string name;                        // "i-ha home_agent", "mvpn vpn_gateway"
  std::vector<std::pair<std::string, std::uint64_t>> counters;
};

struct ScenarioReport {
  std::string name;
  std::string description;
  std::uint64_t seed = 0;
  Timestamp end;
  std::uint64_t events_processed = 0;
  std::vector<LegReport> legs;
  std::vector<StreamSummary> streams;
  std::vector<NodeCountersReport> nodes;        // in scenario order
  std::vector<SegmentCountersReport> segments;  // in scenario order
  std::vector<TimelineEntry> timeline;          // every mobile node's, in time order
  std::vector<AgentCountersReport> agents;      // HAs, FAs, VPN gateways, in scenario order
};

class ScenarioRun {
 public:
  // Builds the network. `seed_override` replaces the scenario's seed.
  static Result<std::unique_ptr<ScenarioRun>> Build(const Scenario& scenario,
                                                    std::optional<std::uint64_t> seed_override);
  ~ScenarioRun();

  // Runs the timeline to the end (the `end` event or the duration).
  ScenarioReport Run();

  Network& network() { return *net_; }
  const Scenario& scenario() const { return scenario_; }
  // The agents on `node` (null: none there).
  Mip4HaApp* home_agent(const std::string& node);
  Mip4FaApp* foreign_agent(const std::string& node);
  IkeApp* vpn_gateway(const std::string& node);
  // The mobile node ([[mobile_node]]) on `node` (null: none there).
  MnApp* mobile_node(const std::string& node);

 private:
  explicit ScenarioRun(const Scenario& scenario) : scenario_(scenario) {}
  Status Construct(std::uint64_t seed);
  void Apply(const EventSpec& e);
  void CloseLeg(Timestamp now);
  Status BuildAgents();
  Status BuildHomeAgent(const HomeAgentSpec& h);
  Status BuildForeignAgent(const ForeignAgentSpec& f);
  Status BuildVpnGateway(const VpnGatewaySpec& g);
  // kRestart: every agent on `node` is rebuilt from its spec, empty.
  void RestartAgents(const EventSpec& e);
  Status BuildMobileNodes();

  Scenario scenario_;
  std::unique_ptr<Network> net_;
  struct Stream {
    const StreamSpec* spec;
    std::unique_ptr<StreamEchoer> echoer;
    std::unique_ptr<StreamSender> sender;
  };
  std::vector<Stream> streams_;
  std::map<std::string, std::unique_ptr<DhcpServerApp>> dhcp_servers_;  // by node
  std::map<std::string, std::unique_ptr<DhcpClientApp>> dhcp_clients_;  // by node
  // Middleboxes; declared after the network so they go before it (the
  // nodes hold pointers to them as filters).
  std::map<std::string, std::unique_ptr<Napt>> nats_;  // by node
  std::vector<std::unique_ptr<Firewall>> firewalls_;
  // Protocol agents, by node. Each app goes before what it refers to (its
  // SA database, the TIA pool).
  struct HomeAgentRun {
    std::unique_ptr<mip4::SaDatabase> sas;
    std::unique_ptr<Mip4HaApp> app;
  };
  struct ForeignAgentRun {
    std::unique_ptr<mip4::SaDatabase> sas;
    std::unique_ptr<Mip4FaApp> app;
  };
  struct VpnGatewayRun {
    std::unique_ptr<ikev2::TiaPool> pool;
    std::unique_ptr<IkeApp> app;
  };
  std::map<std::string, HomeAgentRun> home_agents_;
  std::map<std::string, ForeignAgentRun> foreign_agents_;
  std::map<std::string, VpnGatewayRun> vpn_gateways_;
  std::map<std::string, std::unique_ptr<MnApp>> mobile_nodes_;  // by node
  std::vector<LegReport> legs_;
  Timestamp end_;
  int restarts_ = 0;  // agents restarted so far (each gets fresh randomness)
};

// A fixed-width table for humans, and JSON for scripts (which always has
// the counters).
std::string FormatReportText(const ScenarioReport& report);
// Every node's and segment's counters, one line each, non-zero ones only.
std::string FormatCountersText(const ScenarioReport& report);
std::string FormatReportJson(const ScenarioReport& report);

}  // namespace mipsec::sim::scenario

#endif  // MIPSEC_SIM_SCENARIO_RUNNER_H_
