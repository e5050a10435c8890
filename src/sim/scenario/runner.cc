#include "sim/scenario/runner.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/bug.h"
#include "ikev2/sa/traffic_selectors.h"
#include "mip4/ha/home_agent.h"

namespace mipsec::sim::scenario {

namespace {
Timestamp At(Duration d) { return Timestamp::Zero() + d; }

Error At(const Where& w, const Error& e) { return e.WithContext(w.ToString()); }

// The fewest prefixes that cover [first, last] exactly (the TIA pool routed
// into the gateway's tun0).
std::vector<Ipv4Prefix> RangeToPrefixes(Ipv4Address first, Ipv4Address last) {
  std::vector<Ipv4Prefix> out;
  std::uint64_t lo = first.ToHostOrder(), hi = last.ToHostOrder();
  while (lo <= hi) {
    int len = 32;
    while (len > 0) {
      const std::uint64_t size = std::uint64_t{1} << (32 - (len - 1));
      if (lo % size != 0 || lo + size - 1 > hi) break;
      --len;
    }
    const Ipv4Address network = Ipv4Address::FromHostOrder(static_cast<std::uint32_t>(lo));
    out.push_back(*Ipv4Prefix::Create(network, len));
    lo += std::uint64_t{1} << (32 - len);
  }
  return out;
}

std::uint16_t Seconds16(Duration d) { return static_cast<std::uint16_t>(d.seconds()); }
}  // namespace

ScenarioRun::~ScenarioRun() {
  // Apps unbind from nodes: destroy them before the network (and each app
  // before its SA database or pool).
  vpn_gateways_.clear();
  foreign_agents_.clear();
  home_agents_.clear();
  streams_.clear();
  dhcp_clients_.clear();
  dhcp_servers_.clear();
}

Result<std::unique_ptr<ScenarioRun>> ScenarioRun::Build(
    const Scenario& scenario, std::optional<std::uint64_t> seed_override) {
  std::unique_ptr<ScenarioRun> run(new ScenarioRun(scenario));
  MIPSEC_TRY(run->Construct(seed_override.value_or(scenario.seed)));
  return run;
}

Status ScenarioRun::Construct(std::uint64_t seed) {
  net_ = std::make_unique<Network>(seed, scenario_.log_level);
  for (const SegmentSpec& s : scenario_.segments) {
    Result<Segment*> seg = net_->AddSegment(s.name, s.params);
    if (!seg.ok()) return At(s.where, seg.error());
    if (!s.up) (*seg)->SetUp(false);
  }
  for (const NodeSpec& n : scenario_.nodes) {
    Result<Node*> node = net_->AddNode(n.name, n.router);
    if (!node.ok()) return At(n.where, node.error());
    for (const InterfaceSpec& i : n.interfaces) {
      if (!i.segment.empty()) {
        Result<Interface*> ifc =
            net_->Connect(n.name, i.name, i.segment, i.address, i.prefix_length, i.mtu);
        if (!ifc.ok()) return At(i.where, ifc.error());
      } else {
        Interface& ifc = (*node)->AddInterface(i.name, i.mtu);
        if (i.address) {
          Status s = (*node)->AddAddress(ifc.ifindex(), *i.address, i.prefix_length);
          if (!s.ok()) return At(i.where, s.error());
        }
      }
    }
    for (const RouteSpec& r : n.routes) {
      Status s = (*node)->AddRoute(r.to, r.via, r.metric);
      if (!s.ok()) return At(r.where, s.error());
    }
  }
  // Middleboxes, in file order: a router with both runs the NAT's filters
  // first for what it installs first.
  for (const NatSpec& n : scenario_.nats) {
    Node* node = net_->FindNode(n.node);
    NaptConfig c;
    c.name = n.node;
    c.outside_ifindex = node->FindInterface(n.outside)->ifindex();
    c.mapping = n.mapping;
    c.filtering = n.filtering;
    c.udp_timeout = n.udp_timeout;
    c.port_assignment = n.random_ports ? NatPortAssignment::kRandom : NatPortAssignment::kPreserve;
    Result<std::unique_ptr<Napt>> napt = Napt::Create(*node, std::move(c));
    if (!napt.ok()) return At(n.where, napt.error());
    nats_[n.node] = std::move(*napt);
  }
  for (const FirewallSpec& f : scenario_.firewalls) {
    FirewallConfig c;
    c.name = f.node;
    c.zones = f.zones;
    c.default_action = f.default_action;
    for (const FirewallRuleSpec& r : f.rules) {
      FirewallRule rule;
      rule.name = "line " + std::to_string(r.where.line);
      rule.from_zones = r.from;
      rule.to_zones = r.to;
      if (r.src) rule.src = *r.src;
      if (r.dst) rule.dst = *r.dst;
      rule.protocol = r.protocol;
      rule.dst_ports = PortRange{r.dport_min, r.dport_max};
      rule.action = r.action;
      c.rules.push_back(std::move(rule));
    }
    Result<std::unique_ptr<Firewall>> fw = Firewall::Create(*net_->FindNode(f.node), std::move(c));
    if (!fw.ok()) return At(f.where, fw.error());
    firewalls_.push_back(std::move(*fw));
  }
  for (const DhcpServerSpec& d : scenario_.dhcp_servers) {
    Node* node = net_->FindNode(d.node);
    auto& app = dhcp_servers_[d.node];
    if (!app) {
      Result<std::unique_ptr<DhcpServerApp>> created = DhcpServerApp::Create(*node);
      if (!created.ok()) return At(d.where, created.error());
      app = std::move(*created);
    }
    Interface* ifc = node->FindInterface(d.interface);
    const InterfaceAddress& ia = ifc->addresses().front();
    dhcp::ServerConfig c;
    c.server_address = ia.address;
    c.subnet = ia.Subnet();
    c.pool_first = d.pool_first;
    c.pool_last = d.pool_last;
    c.routers = {d.router.value_or(ia.address)};
    c.dns_servers = d.dns;
    c.domain_name = d.domain;
    c.lease_time = d.lease;
    Status s = app->Serve(d.interface, c, d.delay);
    if (!s.ok()) return At(d.where, s.error());
  }
  for (const NodeSpec& n : scenario_.nodes) {
    for (const InterfaceSpec& i : n.interfaces) {
      if (!i.dhcp) continue;
      auto& app = dhcp_clients_[n.name];
      if (!app) {
        Result<std::unique_ptr<DhcpClientApp>> created =
            DhcpClientApp::Create(*net_->FindNode(n.name));
        if (!created.ok()) return At(i.where, created.error());
        app = std::move(*created);
      }
      Status s = app->Enable(i.name);
      if (!s.ok()) return At(i.where, s.error());
    }
  }
  for (const StreamSpec& s : scenario_.streams) {
    Stream st{&s, nullptr, nullptr};
    Result<std::unique_ptr<StreamEchoer>> echo =
        StreamEchoer::Create(*net_->FindNode(s.echo), s.to.port);
    if (!echo.ok()) return At(s.where, echo.error());
    st.echoer = std::move(*echo);
    StreamConfig c;
    c.target = s.to;
    c.local_port = s.local_port;
    c.interval = s.interval;
    c.payload_size = s.size;
    c.start = At(s.start);
    c.stop = s.stop ? At(*s.stop) : Timestamp::Infinite();
    Result<std::unique_ptr<StreamSender>> send = StreamSender::Create(*net_->FindNode(s.from), c);
    if (!send.ok()) return At(s.where, send.error());
    st.sender = std::move(*send);
    streams_.push_back(std::move(st));
  }
  MIPSEC_TRY(BuildAgents());
  MIPSEC_TRY(BuildMobileNodes());
  end_ = At(scenario_.duration);
  for (const EventSpec& e : scenario_.events) {
    if (e.kind == EventSpec::Kind::kEnd) {
      if (At(e.at) < end_) end_ = At(e.at);
      continue;
    }
    net_->sim().ScheduleFn(At(e.at), [this, &e] { Apply(e); });
  }
  legs_.push_back(LegReport{scenario_.first_leg, Timestamp::Zero(), Timestamp::Zero(), "", {}, {}, {}, "", {}, {}});
  return Ok{};
}

Status ScenarioRun::BuildAgents() {
  for (const HomeAgentSpec& h : scenario_.home_agents) MIPSEC_TRY(BuildHomeAgent(h));
  for (const ForeignAgentSpec& f : scenario_.foreign_agents) MIPSEC_TRY(BuildForeignAgent(f));
  for (const VpnGatewaySpec& g : scenario_.vpn_gateways) MIPSEC_TRY(BuildVpnGateway(g));
  return Ok{};
}

Status ScenarioRun::BuildHomeAgent(const HomeAgentSpec& h) {
  {
    Node* node = net_->FindNode(h.node);
    HomeAgentRun run;
    run.sas = std::make_unique<mip4::SaDatabase>();
    for (const MobileNodeSpec& m : h.mobile_nodes) {
      mip4::SecurityAssociationParams p;
      p.spi = m.spi;
      p.key = m.key;
      p.replay = m.nonce_replay ? mip4::ReplayMethod::kNonce : mip4::ReplayMethod::kTimestamp;
      Result<mip4::SecurityAssociation> sa = mip4::SecurityAssociation::Create(std::move(p));
      if (!sa.ok()) return At(m.where, sa.error());
      std::vector<mip4::SecurityAssociation> sas;
      sas.push_back(std::move(*sa));
      Result<mip4::MobileNodeSecurity*> added =
          run.sas->AddMobileNode(m.home_address, "", std::move(sas));
      if (!added.ok()) return At(m.where, added.error());
    }
    mip4::HomeAgentOptions o;
    o.address = h.address;
    o.home_network = h.home_network;
    o.max_lifetime = Seconds16(h.max_lifetime);
    // RFC 5265 4.3 (R23): only trusted sources are answered, always with TNC.
    o.rfc5265_trusted_networks = true;
    o.trusted_subnets = h.trusted_subnets;
    o.reverse_tunnel_allowed = h.reverse_tunnel;
    o.wall_clock = {Timestamp::Zero(), kUnixNanosAtZero};
    Mip4HaAppConfig ac;
    ac.home_ifindex = node->FindInterface(h.interface)->ifindex();
    ac.advertisement_interval = h.advertisement_interval;
    Result<std::unique_ptr<Mip4HaApp>> app = Mip4HaApp::Create(*node, o, *run.sas, ac);
    if (!app.ok()) return At(h.where, app.error());
    run.app = std::move(*app);
    home_agents_[h.node] = std::move(run);
  }
  return Ok{};
}

Status ScenarioRun::BuildForeignAgent(const ForeignAgentSpec& f) {
  {
    Node* node = net_->FindNode(f.node);
    ForeignAgentRun run;
    run.sas = std::make_unique<mip4::SaDatabase>();
    mip4::ForeignAgentOptions o;
    mip4::FaInterface fi;
    fi.ifindex = node->FindInterface(f.interface)->ifindex();
    fi.address = f.address;
    fi.care_of_addresses = f.care_of_addresses;
    fi.prefix_length = f.prefix_length;
    o.interfaces.push_back(fi);
    o.advertisement.max_interval = f.advertisement_interval;
    o.max_registration_lifetime = Seconds16(f.max_lifetime);
    o.reverse_tunnelling = f.reverse_tunnel;
    o.behind_nat = f.behind_nat;
    Result<std::unique_ptr<Mip4FaApp>> app = Mip4FaApp::Create(*node, std::move(o), *run.sas);
    if (!app.ok()) return At(f.where, app.error());
    run.app = std::move(*app);
    foreign_agents_[f.node] = std::move(run);
  }
  return Ok{};
}

Status ScenarioRun::BuildVpnGateway(const VpnGatewaySpec& g) {
  {
    Node* node = net_->FindNode(g.node);
    VpnGatewayRun run;
    Result<ikev2::TiaPool> pool = g.tia_prefix ? ikev2::TiaPool::FromPrefix(*g.tia_prefix)
                                               : ikev2::TiaPool::FromRange(g.tia_first, g.tia_last);
    if (!pool.ok()) return At(g.where, pool.error());
    run.pool = std::make_unique<ikev2::TiaPool>(std::move(*pool));
    IkeAppConfig c;
    c.role = IkeAppRole::kGateway;
    // What `mipsec gw` makes of gw.toml (config::ToResponderPeerConfig): one
    // PSK both ways, TSr = the intranet, TSi = the pool, a TIA by CP.
    c.peer.local_id = g.local_id;
    c.peer.remote_id = g.remote_id;
    c.peer.local_auth.kind = ikev2::AuthKind::kPsk;
    c.peer.local_auth.psk = g.psk;
    c.peer.remote_auth.kind = ikev2::AuthKind::kPsk;
    c.peer.remote_auth.psk = g.psk;
    c.peer.ike_proposals = ikev2::DefaultIkeProposals();
    c.peer.esp_proposals = ikev2::DefaultEspProposals();
    for (const Ipv4Prefix& p : g.intranet) {
      c.peer.local_ts.push_back(ikev2::TrafficSelector::Ipv4Prefix(p));
    }
    c.peer.remote_ts.push_back(ikev2::TrafficSelector::Ipv4Range(g.tia_first, g.tia_last));
    c.peer.initial_contact = false;
    c.peer.address_provider = run.pool.get();
    if (g.tia_prefix) c.peer.virtual_ip_netmask = g.tia_prefix->Netmask();
    c.peer.force_encapsulation = g.force_encapsulation;
    c.peer.mobike.enabled = g.mobike;
    c.peer.mobike.return_routability_check = g.mobike_return_routability;
    c.ike_ifindexes = {node->FindInterface(g.interface)->ifindex()};
    c.tunnel_prefixes = RangeToPrefixes(g.tia_first, g.tia_last);
    c.log_name = "ike-gw";
    if (restarts_ > 0) c.random_label = "ike/" + g.node + "/restart" + std::to_string(restarts_);
    Result<std::unique_ptr<IkeApp>> app = IkeApp::Create(*node, std::move(c));
    if (!app.ok()) return At(g.where, app.error());
    run.app = std::move(*app);
    vpn_gateways_[g.node] = std::move(run);
  }
  return Ok{};
}

Mip4HaApp* ScenarioRun::home_agent(const std::string& node) {
  auto it = home_agents_.find(node);
  return it == home_agents_.end() ? nullptr : it->second.app.get();
}
Mip4FaApp* ScenarioRun::foreign_agent(const std::string& node) {
  auto it = foreign_agents_.find(node);
  return it == foreign_agents_.end() ? nullptr : it->second.app.get();
}
IkeApp* ScenarioRun::vpn_gateway(const std::string& node) {
  auto it = vpn_gateways_.find(node);
  return it == vpn_gateways_.end() ? nullptr : it->second.app.get();
}
MnApp* ScenarioRun::mobile_node(const std::string& node) {
  auto it = mobile_nodes_.find(node);
  return it == mobile_nodes_.end() ? nullptr : it->second.get();
}

void ScenarioRun::RestartAgents(const EventSpec& e) {
  ++restarts_;
  // Each app goes before its SA database or pool (the run structs' order).
  for (const HomeAgentSpec& h : scenario_.home_agents) {
    if (h.node != e.node) continue;
    home_agents_.erase(h.node);
    Status s = BuildHomeAgent(h);
    MIPSEC_BUG_IF(!s.ok(), "a home agent that was built once failed to restart");
  }
  for (const ForeignAgentSpec& f : scenario_.foreign_agents) {
    if (f.node != e.node) continue;
    foreign_agents_.erase(f.node);
    Status s = BuildForeignAgent(f);
    MIPSEC_BUG_IF(!s.ok(), "a foreign agent that was built once failed to restart");
  }
  for (VpnGatewaySpec& g : scenario_.vpn_gateways) {
    if (g.node != e.node) continue;
    vpn_gateways_.erase(g.node);
    if (e.tia_first) {
      // The restarted gateway hands out TIAs from another pool (kept for
      // later restarts).
      g.tia_first = *e.tia_first;
      g.tia_last = *e.tia_last;
      g.tia_prefix = e.tia_prefix;
    }
    Status s = BuildVpnGateway(g);
    MIPSEC_BUG_IF(!s.ok(), "a VPN gateway that was built once failed to restart");
  }
}

Status ScenarioRun::BuildMobileNodes() {
  for (const MobileNodeAppSpec& m : scenario_.mobile_nodes) {
    Node* node = net_->FindNode(m.node);
    MnAppConfig c;
    for (const std::string& name : m.interfaces) {
      c.ifindexes.push_back(node->FindInterface(name)->ifindex());
    }
    c.home_prefix_length = m.home_prefix_length;
    c.home_gateway = m.home_gateway;
    mn::ControllerConfig& cc = c.controller;
    cc.mip.home_address = m.home_address;
    cc.mip.home_agent = m.home_agent;
    cc.mip.requested_lifetime = Seconds16(m.lifetime);
    cc.mip.max_retransmissions = m.probe_retransmissions;
    cc.mip.initial_timeout = m.probe_timeout;
    cc.mip.udp_tunnel = m.udp_tunnel == "never"   ? mip4::UdpTunnelPolicy::kNever
                        : m.udp_tunnel == "force" ? mip4::UdpTunnelPolicy::kForce
                                                  : mip4::UdpTunnelPolicy::kRequest;
    cc.tunnel_udp = cc.mip.udp_tunnel;
    cc.vpn = m.vpn_gateway.has_value();
    cc.vpn_when_inside =
        m.vpn_tear_down_inside ? mn::VpnWhenInside::kTearDown : mn::VpnWhenInside::kKeep;
    cc.use_foreign_agents = m.foreign_agents;
    cc.t_monitor = m.t_monitor;
    cc.monitor_margin = m.monitor_margin;
    cc.probe_domains = m.probe_domains;
    if (m.vpn_gateway) {
      ikev2::PeerConfig& p = c.ike;
      p.local_id = m.vpn_local_id;
      p.remote_id = m.vpn_remote_id;
      p.local_auth.kind = ikev2::AuthKind::kPsk;
      p.local_auth.psk = m.vpn_psk;
      p.remote_auth.kind = ikev2::AuthKind::kPsk;
      p.remote_auth.psk = m.vpn_psk;
      p.ike_proposals = ikev2::DefaultIkeProposals();
      p.esp_proposals = ikev2::DefaultEspProposals();
      p.local_ts = {ikev2::AnyIpv4Selector()};
      for (const Ipv4Prefix& r : m.vpn_routes) {
        p.remote_ts.push_back(ikev2::TrafficSelector::Ipv4Prefix(r));
      }
      p.request_virtual_ip = true;
      p.mobike.enabled = m.vpn_mobike;
      if (m.vpn_dpd_interval) p.dpd_interval = *m.vpn_dpd_interval;
      if (m.vpn_retransmit_timeout) p.retransmit.initial_timeout = *m.vpn_retransmit_timeout;
      if (m.vpn_retransmits) p.retransmit.max_retransmits = *m.vpn_retransmits;
      c.gateway = *m.vpn_gateway;
      c.backup_gateways = m.vpn_backup_gateways;
      c.tunnel_prefixes = m.vpn_routes;
    }
    mip4::SecurityAssociationParams sp;
    sp.spi = m.spi;
    sp.key = m.key;
    sp.replay = m.nonce_replay ? mip4::ReplayMethod::kNonce : mip4::ReplayMethod::kTimestamp;
    Result<mip4::SecurityAssociation> sa = mip4::SecurityAssociation::Create(std::move(sp));
    if (!sa.ok()) return At(m.where, sa.error());
    auto dhcp = dhcp_clients_.find(m.node);
    Result<std::unique_ptr<MnApp>> app =
        MnApp::Create(*node, std::move(c), std::move(*sa), {Timestamp::Zero(), kUnixNanosAtZero},
                      dhcp == dhcp_clients_.end() ? nullptr : dhcp->second.get());
    if (!app.ok()) return At(m.where, app.error());
    mobile_nodes_[m.node] = std::move(*app);
  }
  return Ok{};
}

void ScenarioRun::Apply(const EventSpec& e) {
  Logger log = net_->MakeLogger("scenario");
  Timestamp now = net_->sim().now();
  switch (e.kind) {
    case EventSpec::Kind::kMove: {
      Node* node = net_->FindNode(e.node);
      Interface* ifc = node->FindInterface(e.interface);
      Segment* seg = net_->FindSegment(e.segment);
      CloseLeg(now);
      std::string leg = e.leg.empty() ? "move to " + e.segment : e.leg;
      legs_.push_back(LegReport{leg, now, now, e.node + "/" + e.interface, {}, {}, {}, "", {}, {}});
      MIPSEC_LOG(log, kNotice) << "move " << e.node << "/" << e.interface << " to " << e.segment
                               << " (" << leg << ")";
      node->Attach(*ifc, *seg);
      break;
    }
    case EventSpec::Kind::kDetach: {
      Node* node = net_->FindNode(e.node);
      MIPSEC_LOG(log, kNotice) << "detach " << e.node << "/" << e.interface;
      node->Detach(*node->FindInterface(e.interface));
      break;
    }
    case EventSpec::Kind::kLink: {
      Segment* seg = net_->FindSegment(e.segment);
      if (e.params) {
        Status s = seg->SetParams(*e.params);
        MIPSEC_BUG_IF(!s.ok(), "validated link parameters refused");
      }
      if (e.up) seg->SetUp(*e.up);
      break;
    }
    case EventSpec::Kind::kStop:
      MIPSEC_LOG(log, kNotice) << "stop " << e.node;
      net_->FindNode(e.node)->SetRunning(false);
      break;
    case EventSpec::Kind::kStart: {
      MIPSEC_LOG(log, kNotice) << "start " << e.node;
      // A restarted NAT has forgotten its mappings, as a rebooted box would.
      auto nat = nats_.find(e.node);
      if (nat != nats_.end()) nat->second->Reset();
      net_->FindNode(e.node)->SetRunning(true);
      break;
    }
    case EventSpec::Kind::kRestart: {
      MIPSEC_LOG(log, kNotice) << "restart " << e.node << ": its agents start again, empty";
      auto nat = nats_.find(e.node);
      if (nat != nats_.end()) nat->second->Reset();
      net_->FindNode(e.node)->SetRunning(true);
      RestartAgents(e);
      break;
    }
    case EventSpec::Kind::kEnd:
      break;
  }
}

void ScenarioRun::CloseLeg(Timestamp now) {
  LegReport& leg = legs_.back();
  leg.end = now;
  leg.addresses.clear();
  // The mobile node that moved into this leg (or the only one, for the
  // first leg): its mode now, how long until it could carry user data, and
  // what its tunnels added to each datagram.
  std::string mover_node = leg.mover.substr(0, leg.mover.find('/'));
  auto mn = mover_node.empty() && mobile_nodes_.size() == 1 ? mobile_nodes_.begin()
                                                            : mobile_nodes_.find(mover_node);
  if (mn != mobile_nodes_.end()) {
    const MnApp& app = *mn->second;
    leg.mode = std::string(app.controller().mode());
    for (const mn::ControllerEvent& e : app.timeline()) {
      if (e.at < leg.start || e.at > now) continue;
      if (e.kind == mn::ControllerEvent::Kind::kDataPlane && e.plane != mn::DataPlane::kBlocked) {
        leg.ready_after = e.at - leg.start;
        break;
      }
    }
    // The median: the steady state of the leg's mode, not the handover's
    // mix (f starts in c, for instance).
    std::vector<std::uint32_t> bytes;
    for (const MnOverheadSample& o : app.overhead()) {
      if (o.at >= leg.start && o.at < now) bytes.push_back(o.bytes);
    }
    if (!bytes.empty()) {
      std::nth_element(bytes.begin(), bytes.begin() + bytes.size() / 2, bytes.end());
      leg.overhead_bytes = bytes[bytes.size() / 2];
    }
  }
  if (!leg.mover.empty()) {
    auto slash = leg.mover.find('/');
    Node* node = net_->FindNode(leg.mover.substr(0, slash));
    Interface* ifc = node ? node->FindInterface(leg.mover.substr(slash + 1)) : nullptr;
    if (ifc) {
      for (const InterfaceAddress& a : ifc->addresses()) {
        leg.addresses.push_back(a.address.ToString() + "/" + std::to_string(a.prefix_length));
      }
    }
  }
}

ScenarioReport ScenarioRun::Run() {
  net_->sim().RunUntil(end_);
  CloseLeg(end_);
  ScenarioReport r;
  r.name = scenario_.name;
  r.description = scenario_.description;
  r.seed = net_->sim().seed();
  r.end = end_;
  r.events_processed = net_->sim().events_processed();
  const Duration grace = Duration::Seconds(1);
  for (LegReport leg : legs_) {
    for (const Stream& s : streams_) {
      // Gaps count only while the CN was sending (both directions: the
      // echoes exist only when the data arrives).
      auto span = StreamActivity(s.sender->send_times(), leg.start, leg.end);
      Timestamp gf = span ? span->first : leg.start, gt = span ? span->second : leg.start;
      leg.forward.push_back(s.echoer->forward().Window(s.sender->send_times(), leg.start, leg.end,
                                                       end_, grace, gf, gt));
      leg.reverse.push_back(s.sender->reverse().Window(s.echoer->echo_send_times(), leg.start,
                                                       leg.end, end_, grace, gf, gt));
    }
    r.legs.push_back(std::move(leg));
  }
  for (const Stream& s : streams_) {
    StreamSummary sum;
    sum.description = s.spec->from + " -> " + s.spec->to.ToString() + " (echo: " + s.spec->echo + ")";
    sum.total = ScoreStream(*s.sender, *s.echoer, end_, grace);
    r.streams.push_back(std::move(sum));
  }
  for (Node* n : net_->nodes()) r.nodes.push_back({n->name(), n->counters()});
  for (Segment* seg : net_->segments()) r.segments.push_back({seg->name(), seg->counters()});
  for (const HomeAgentSpec& h : scenario_.home_agents) {
    const Mip4HaAppCounters c = home_agents_.at(h.node).app->counters();
    r.agents.push_back({h.node + " home_agent",
                        {{"udp_in", c.udp_in},
                         {"tunnel_in", c.tunnel_in},
                         {"intercepted", c.intercepted},
                         {"forwarded", c.forwarded},
                         {"transmits", c.transmits},
                         {"send_errors", c.send_errors},
                         {"advertisements", c.advertisements},
                         {"requests", c.requests},
                         {"replies", c.replies},
                         {"tunnelled_ipip", c.tunnelled_ipip},
                         {"tunnelled_udp", c.tunnelled_udp},
                         {"decapsulated_ipip", c.decapsulated_ipip},
                         {"decapsulated_udp", c.decapsulated_udp},
                         {"bindings_expired", c.bindings_expired},
                         {"drops", c.drops}}});
  }
  for (const ForeignAgentSpec& f : scenario_.foreign_agents) {
    const Mip4FaApp& app = *foreign_agents_.at(f.node).app;
    const Mip4FaAppCounters& c = app.counters();
    const mip4::FaCounters& k = app.core().counters();
    r.agents.push_back({f.node + " foreign_agent",
                        {{"udp_in", c.udp_in},
                         {"icmp_in", c.icmp_in},
                         {"tunnel_in", c.tunnel_in},
                         {"visitor_packets", c.visitor_packets},
                         {"transmits", c.transmits},
                         {"send_errors", c.send_errors},
                         {"advertisements", k.advertisements},
                         {"solicitations", k.solicitations},
                         {"requests", k.requests},
                         {"requests_relayed", k.requests_relayed},
                         {"replies_relayed", k.replies_relayed},
                         {"denials", k.denials},
                         {"delivered", k.delivered}}});
  }
  for (const auto& [name, app] : mobile_nodes_) {
    for (const mn::ControllerEvent& e : app->timeline()) {
      TimelineEntry t;
      t.at = e.at;
      t.node = name;
      t.where = e.kind == mn::ControllerEvent::Kind::kDataPlane && e.ifindex == 0
                    ? "-"
                    : app->InterfaceName(e.ifindex);
      switch (e.kind) {
        case mn::ControllerEvent::Kind::kState:
          t.kind = "state";
          t.text = std::string(mn::IfStateName(e.from)) + " -> " +
                   std::string(mn::IfStateName(e.to)) + ": " + e.text;
          break;
        case mn::ControllerEvent::Kind::kDataPlane:
          t.kind = "data";
          t.text = "user data " + std::string(mn::DataPlaneName(e.plane)) + ": " + e.text;
          break;
        case mn::ControllerEvent::Kind::kAction: t.kind = "action"; t.text = e.text; break;
        case mn::ControllerEvent::Kind::kRejected: t.kind = "rejected"; t.text = e.text; break;
      }
      t.requirement = e.requirement;
      r.timeline.push_back(std::move(t));
    }
    const MnAppCounters& c = app->counters();
    const mn::ControllerCounters& k = app->controller().counters();
    r.agents.push_back({name + " mobile_node",
                        {{"user_out", c.user_out},
                         {"user_passed", c.user_passed},
                         {"user_blocked", c.user_blocked},
                         {"delivered_in", c.delivered_in},
                         {"transmits", c.transmits},
                         {"send_errors", c.send_errors},
                         {"vpn_command_errors", c.vpn_command_errors},
                         {"probes", k.probes},
                         {"tunnel_registrations", k.tunnel_registrations},
                         {"vpn_commands", k.vpn_commands},
                         {"delivery_blocked", k.delivery_blocked},
                         {"tnc_ignored", k.tnc_ignored}}});
  }
  std::stable_sort(r.timeline.begin(), r.timeline.end(),
                   [](const TimelineEntry& a, const TimelineEntry& b) { return a.at < b.at; });
  for (const VpnGatewaySpec& g : scenario_.vpn_gateways) {
    const IkeAppCounters& c = vpn_gateways_.at(g.node).app->counters();
    r.agents.push_back({g.node + " vpn_gateway",
                        {{"ike_in", c.ike_in},
                         {"ike_out", c.ike_out},
                         {"keepalives_in", c.keepalives_in},
                         {"keepalives_out", c.keepalives_out},
                         {"esp_in", c.esp_in},
                         {"esp_out", c.esp_out},
                         {"esp_dropped", c.esp_dropped},
                         {"no_policy", c.no_policy},
                         {"seal_errors", c.seal_errors},
                         {"send_errors", c.send_errors},
                         {"install_errors", c.install_errors},
                         {"address_updates", c.address_updates}}});
  }
  return r;
}

namespace {
// Name/value pairs of each counter struct, in declaration order.
std::vector<std::pair<const char*, std::uint64_t>> Fields(const NodeCounters& c) {
  return {{"received", c.received},
          {"delivered_local", c.delivered_local},
          {"forwarded", c.forwarded},
          {"sent", c.sent},
          {"dropped_malformed", c.dropped_malformed},
          {"dropped_no_route", c.dropped_no_route},
          {"dropped_ttl", c.dropped_ttl},
          {"dropped_too_big", c.dropped_too_big},
          {"dropped_filter", c.dropped_filter},
          {"dropped_not_for_us", c.dropped_not_for_us},
          {"dropped_no_socket", c.dropped_no_socket},
          {"dropped_down", c.dropped_down},
          {"icmp_errors_sent", c.icmp_errors_sent},
          {"fragments_created", c.fragments_created},
          {"reassembled", c.reassembled},
          {"reassembly_timeouts", c.reassembly_timeouts}};
}
std::vector<std::pair<const char*, std::uint64_t>> Fields(const SegmentCounters& c) {
  return {{"tx_packets", c.tx_packets},
          {"tx_bytes", c.tx_bytes},
          {"delivered", c.delivered},
          {"lost", c.lost},
          {"duplicated", c.duplicated},
          {"reordered", c.reordered},
          {"dropped_down", c.dropped_down},
          {"dropped_too_big", c.dropped_too_big},
          {"dropped_queue", c.dropped_queue},
          {"dropped_unresolved", c.dropped_unresolved},
          {"dropped_detached", c.dropped_detached}};
}
template <typename C>
std::string CounterLine(const char* kind, const std::string& name, const C& c) {
  std::string line = std::string(kind) + " " + name + ":";
  for (const auto& [k, v] : Fields(c)) {
    if (v != 0) line += " " + std::string(k) + "=" + std::to_string(v);
  }
  return line + "\n";
}
template <typename C>
nlohmann::json CounterJson(const C& c) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : Fields(c)) j[k] = v;
  return j;
}
}  // namespace

std::string FormatCountersText(const ScenarioReport& r) {
  std::string out;
  for (const SegmentCountersReport& s : r.segments) out += CounterLine("segment", s.name, s.counters);
  for (const NodeCountersReport& n : r.nodes) out += CounterLine("node", n.name, n.counters);
  for (const AgentCountersReport& a : r.agents) {
    std::string line = "agent " + a.name + ":";
    for (const auto& [k, v] : a.counters) {
      if (v != 0) line += " " + k + "=" + std::to_string(v);
    }
    out += line + "\n";
  }
  return out;
}

std::string FormatReportText(const ScenarioReport& r) {
  std::ostringstream os;
  char line[256];
  os << "scenario " << (r.name.empty() ? "(unnamed)" : r.name) << ", seed " << r.seed << ", "
     << r.end.ToString() << " s of virtual time, " << r.events_processed << " events\n";
  if (!r.description.empty()) os << r.description << "\n";
  for (std::size_t si = 0; si < r.streams.size(); ++si) {
    os << "\nstream " << si + 1 << ": " << r.streams[si].description << "\n";
    std::snprintf(line, sizeof line, "  %-28s %-15s %-20s %-20s %-10s %-10s\n", "leg", "time (s)",
                  "forward deliv/lost", "reverse deliv/lost", "fwd gap", "rev gap");
    os << line;
    for (const LegReport& leg : r.legs) {
      const StreamStats& f = leg.forward[si];
      const StreamStats& b = leg.reverse[si];
      char span[40], fwd[40], rev[40];
      std::snprintf(span, sizeof span, "%.1f-%.1f", (leg.start - Timestamp::Zero()).SecondsF(),
                    (leg.end - Timestamp::Zero()).SecondsF());
      std::snprintf(fwd, sizeof fwd, "%llu/%llu", static_cast<unsigned long long>(f.delivered),
                    static_cast<unsigned long long>(f.lost));
      std::snprintf(rev, sizeof rev, "%llu/%llu", static_cast<unsigned long long>(b.delivered),
                    static_cast<unsigned long long>(b.lost));
      std::snprintf(line, sizeof line, "  %-28.28s %-15s %-20s %-20s %-10s %-10s\n",
                    leg.name.c_str(), span, fwd, rev, f.longest_gap.ToString().c_str(),
                    b.longest_gap.ToString().c_str());
      os << line;
      if (!leg.mover.empty()) {
        std::string addrs;
        for (const std::string& a : leg.addresses) addrs += (addrs.empty() ? "" : ", ") + a;
        os << "  " << std::string(28, ' ') << " " << leg.mover << ": "
           << (addrs.empty() ? "no address" : addrs) << "\n";
      }
    }
    const StreamReport& t = r.streams[si].total;
    os << "  total forward: " << t.forward.ToString() << "\n";
    os << "  total reverse: " << t.reverse.ToString() << "\n";
  }
  if (!r.timeline.empty()) {
    os << "\ntimeline of the mobile node (each decision with the requirement behind it):\n";
    for (const TimelineEntry& e : r.timeline) {
      std::snprintf(line, sizeof line, "  %10.4f s  %-4s %-7s %-8s ",
                    (e.at - Timestamp::Zero()).SecondsF(), e.node.c_str(), e.where.c_str(),
                    e.kind.c_str());
      os << line << e.text << "  [" << e.requirement << "]\n";
    }
  }
  bool mobile = std::any_of(r.legs.begin(), r.legs.end(),
                            [](const LegReport& l) { return !l.mode.empty() || l.ready_after; });
  if (mobile) {
    os << "\nsummary per move (ready: from the move until user data may flow; lost and gap:\n"
          "stream 1 both ways; overhead: bytes the tunnels add to each datagram the MN sends):\n";
    std::snprintf(line, sizeof line, "  %-28s %-5s %11s %9s %9s %10s %10s %9s\n", "leg", "mode",
                  "ready (ms)", "fwd lost", "rev lost", "fwd gap", "rev gap", "overhead");
    os << line;
    for (const LegReport& leg : r.legs) {
      char ready[24] = "-", over[24] = "-", fl[24] = "-", rl[24] = "-", fg[24] = "-", rg[24] = "-";
      if (leg.ready_after) {
        std::snprintf(ready, sizeof ready, "%.1f",
                      static_cast<double>(leg.ready_after->nanos()) / 1e6);
      }
      if (leg.overhead_bytes) std::snprintf(over, sizeof over, "%.0f B", *leg.overhead_bytes);
      if (!leg.forward.empty()) {
        std::snprintf(fl, sizeof fl, "%llu", static_cast<unsigned long long>(leg.forward[0].lost));
        std::snprintf(rl, sizeof rl, "%llu", static_cast<unsigned long long>(leg.reverse[0].lost));
        std::snprintf(fg, sizeof fg, "%s", leg.forward[0].longest_gap.ToString().c_str());
        std::snprintf(rg, sizeof rg, "%s", leg.reverse[0].longest_gap.ToString().c_str());
      }
      std::snprintf(line, sizeof line, "  %-28.28s %-5s %11s %9s %9s %10s %10s %9s\n",
                    leg.name.c_str(), leg.mode.empty() ? "-" : leg.mode.c_str(), ready, fl, rl,
                    fg, rg, over);
      os << line;
    }
  }
  return os.str();
}

namespace {
nlohmann::json StatsJson(const StreamStats& s) {
  return {{"sent", s.sent},
          {"delivered", s.delivered},
          {"lost", s.lost},
          {"duplicated", s.duplicated},
          {"reordered", s.reordered},
          {"longest_gap_ms", static_cast<double>(s.longest_gap.nanos()) / 1e6}};
}
}  // namespace

std::string FormatReportJson(const ScenarioReport& r) {
  nlohmann::json j;
  j["scenario"] = r.name;
  j["seed"] = r.seed;
  j["end_s"] = (r.end - Timestamp::Zero()).SecondsF();
  j["events"] = r.events_processed;
  j["legs"] = nlohmann::json::array();
  for (const LegReport& leg : r.legs) {
    nlohmann::json l{{"name", leg.name},
                     {"start_s", (leg.start - Timestamp::Zero()).SecondsF()},
                     {"end_s", (leg.end - Timestamp::Zero()).SecondsF()},
                     {"mover", leg.mover},
                     {"addresses", leg.addresses},
                     {"mode", leg.mode}};
    l["ready_after_ms"] = leg.ready_after
                              ? nlohmann::json(static_cast<double>(leg.ready_after->nanos()) / 1e6)
                              : nlohmann::json(nullptr);
    l["overhead_bytes"] =
        leg.overhead_bytes ? nlohmann::json(*leg.overhead_bytes) : nlohmann::json(nullptr);
    l["streams"] = nlohmann::json::array();
    for (std::size_t i = 0; i < leg.forward.size(); ++i) {
      l["streams"].push_back({{"forward", StatsJson(leg.forward[i])},
                              {"reverse", StatsJson(leg.reverse[i])}});
    }
    j["legs"].push_back(std::move(l));
  }
  j["streams"] = nlohmann::json::array();
  for (const StreamSummary& s : r.streams) {
    j["streams"].push_back({{"description", s.description},
                            {"forward", StatsJson(s.total.forward)},
                            {"reverse", StatsJson(s.total.reverse)}});
  }
  j["timeline"] = nlohmann::json::array();
  for (const TimelineEntry& e : r.timeline) {
    j["timeline"].push_back({{"t_s", (e.at - Timestamp::Zero()).SecondsF()},
                             {"node", e.node},
                             {"where", e.where},
                             {"kind", e.kind},
                             {"text", e.text},
                             {"requirement", e.requirement}});
  }
  j["segments"] = nlohmann::json::object();
  for (const SegmentCountersReport& s : r.segments) j["segments"][s.name] = CounterJson(s.counters);
  j["nodes"] = nlohmann::json::object();
  for (const NodeCountersReport& n : r.nodes) j["nodes"][n.name] = CounterJson(n.counters);
  j["agents"] = nlohmann::json::object();
  for (const AgentCountersReport& a : r.agents) {
    nlohmann::json c = nlohmann::json::object();
    for (const auto& [k, v] : a.counters) c[k] = v;
    j["agents"][a.name] = std::move(c);
  }
  return j.dump(2) + "\n";
}

}  // namespace mipsec::sim::scenario
