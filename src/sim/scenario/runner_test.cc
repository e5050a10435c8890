#include "sim/scenario/runner.h"

#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "common/ip/ipv4.h"
#include "ikev2/sa/traffic_selectors.h"
#include "crypto/hmac.h"
#include "mip4/codec/builder.h"
#include "mip4/codec/constants.h"
#include "mip4/ha/home_agent.h"
#include "mip4/security/ntp_time.h"
#include "sim/pcap_invariants.h"
#include "sim/scenario/builtin.h"
#include "sim/scenario/toml_loader.h"

namespace mipsec::sim::scenario {
namespace {

// A CN streaming across a lossy, jittery link to a node that later moves
// away and comes back.
constexpr char kWalk[] = R"(
[scenario]
name = "walk"
duration = "6s"
first_leg = "at home"

[[segment]]
name = "home"
delay = "1ms"
jitter = "2ms"
loss = 0.05
duplicate = 0.01

[[segment]]
name = "away"

[[node]]
name = "cn"
  [[node.interface]]
  name = "eth0"
  segment = "home"
  address = "10.0.0.1/24"

[[node]]
name = "mn"
  [[node.interface]]
  name = "eth0"
  segment = "home"
  address = "10.0.0.2/24"

[[stream]]
from = "cn"
to = "10.0.0.2:7000"
echo = "mn"
interval = "10ms"
start = "0s"
stop = "5s"

[[event]]
at = "2s"
leg = "away"
move = { node = "mn", interface = "eth0", segment = "away" }

[[event]]
at = "4s"
leg = "back"
move = { node = "mn", interface = "eth0", segment = "home" }
)";

struct Outcome {
  ScenarioReport report;
  std::string json;
  std::vector<Bytes> pcaps;
  std::vector<std::string> log;
};

Outcome RunWalk(std::optional<std::uint64_t> seed) {
  Result<Scenario> sc = ParseScenarioToml(kWalk, "walk.toml");
  EXPECT_TRUE(sc.ok()) << sc.error().ToString();
  Result<std::unique_ptr<ScenarioRun>> run = ScenarioRun::Build(*sc, seed);
  EXPECT_TRUE(run.ok()) << run.error().ToString();
  Outcome o;
  o.report = (*run)->Run();
  o.json = FormatReportJson(o.report);
  for (Segment* s : (*run)->network().segments()) o.pcaps.push_back(s->pcap().bytes());
  o.log = (*run)->network().log_sink().lines();
  return o;
}

TEST(ScenarioRunTest, LegsReportWhatTheNetworkDid) {
  Outcome o = RunWalk(std::nullopt);
  ASSERT_EQ(o.report.legs.size(), 3u);
  EXPECT_EQ(o.report.legs[0].name, "at home");
  EXPECT_EQ(o.report.legs[1].name, "away");
  EXPECT_EQ(o.report.legs[1].mover, "mn/eth0");
  const StreamStats& home = o.report.legs[0].forward[0];
  const StreamStats& away = o.report.legs[1].forward[0];
  const StreamStats& back = o.report.legs[2].forward[0];
  EXPECT_EQ(home.sent, 200u);
  EXPECT_NEAR(static_cast<double>(home.lost), 10.0, 8.0);  // 5% loss
  EXPECT_EQ(away.delivered, 0u);                           // nobody owns 10.0.0.2 there
  EXPECT_EQ(away.lost, away.sent);
  EXPECT_GE(away.longest_gap, Duration::Millis(1990));
  EXPECT_GT(back.delivered, 80u);  // 4..5 s: back home, the stream resumes
  EXPECT_EQ(o.report.streams[0].total.forward.sent, 500u);
  std::string text = FormatReportText(o.report);
  EXPECT_NE(text.find("away"), std::string::npos);
  EXPECT_NE(text.find("mn/eth0: 10.0.0.2/24"), std::string::npos) << text;
  // Counters: the packets sent to 10.0.0.2 while it was away had no owner
  // on the home segment.
  ASSERT_EQ(o.report.segments.size(), 2u);
  EXPECT_GT(o.report.segments[0].counters.dropped_unresolved, 150u);
  EXPECT_NE(FormatCountersText(o.report).find("segment home: tx_packets="), std::string::npos);
  EXPECT_NE(o.json.find("\"dropped_unresolved\""), std::string::npos);
}

TEST(ScenarioRunTest, SameSeedIsBitIdentical) {
  Outcome a = RunWalk(7), b = RunWalk(7);
  EXPECT_EQ(a.json, b.json);
  EXPECT_EQ(a.log, b.log);
  ASSERT_EQ(a.pcaps.size(), b.pcaps.size());
  for (std::size_t i = 0; i < a.pcaps.size(); ++i) EXPECT_EQ(a.pcaps[i], b.pcaps[i]) << i;
  EXPECT_GT(a.pcaps[0].size(), 24u);
}

TEST(ScenarioRunTest, DifferentSeedDifferentLossPattern) {
  Outcome a = RunWalk(7), b = RunWalk(8);
  EXPECT_NE(a.pcaps[0], b.pcaps[0]);  // jitter and loss drawn differently
  EXPECT_NE(a.json, b.json);
}

TEST(ScenarioRunTest, BuildErrorsNameTheLine) {
  // The echo port is already taken by a second stream on the same node:
  // found when building, reported at the stream's line.
  std::string text = kWalk;
  text += R"(
[[stream]]
from = "cn"
to = "10.0.0.2:7000"
echo = "mn"
port = 9001
)";
  Result<Scenario> sc = ParseScenarioToml(text, "walk.toml");
  ASSERT_TRUE(sc.ok()) << sc.error().ToString();
  Result<std::unique_ptr<ScenarioRun>> run = ScenarioRun::Build(*sc, std::nullopt);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().detail(), "walk.toml:49: mn: UDP 0.0.0.0:7000 already bound");
}

TEST(ScenarioRunTest, TimelineStopsStartsAndDegradesLinks) {
  std::string text = kWalk;
  // Replace the walk by: the echoer stops 1..2 s, then the link loses
  // everything from 3 s, and comes back down-then-up at 4..4.5 s.
  text = text.substr(0, text.find("[[event]]"));
  text += R"(
[[event]]
at = "1s"
stop = "mn"
[[event]]
at = "2s"
start = "mn"
[[event]]
at = "3s"
link = { segment = "home", loss = 1.0 }
[[event]]
at = "4s"
link = { segment = "home", loss = 0.0, up = false }
[[event]]
at = "4.5s"
link = { segment = "home", up = true }
[[event]]
at = "5.5s"
end = true
)";
  Result<Scenario> sc = ParseScenarioToml(text, "timeline.toml");
  ASSERT_TRUE(sc.ok()) << sc.error().ToString();
  Result<std::unique_ptr<ScenarioRun>> run = ScenarioRun::Build(*sc, 3);
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  ScenarioReport r = (*run)->Run();
  EXPECT_EQ(r.end, Timestamp::Zero() + Duration::Millis(5500));
  const StreamStats& f = r.streams[0].total.forward;
  // Lost: ~5% of 200 (0..1 s and 2..3 s), all of 1..2 s (stopped), all of
  // 3..4.5 s (loss 1, then down). 4.5..5 s delivers again.
  EXPECT_GE(f.lost, 100u + 150u);
  EXPECT_LE(f.lost, 100u + 150u + 45u);
  EXPECT_GE(f.longest_gap, Duration::Millis(1490));  // 3.0 .. 4.5 s
  Node* mn = (*run)->network().FindNode("mn");
  EXPECT_TRUE(mn->running());
  EXPECT_GT(mn->counters().dropped_down, 0u);  // while stopped
  EXPECT_TRUE((*run)->network().FindSegment("home")->up());
}

// The example scenarios shipped in examples/scenarios load and run, and
// show what they describe.
TEST(ScenarioRunTest, ExampleLossyNatRuns) {
  std::ifstream in(std::string(MIPSEC_SOURCE_DIR) + "/examples/scenarios/lossy-nat.toml");
  ASSERT_TRUE(in.good());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Result<Scenario> sc = ParseScenarioToml(text, "lossy-nat.toml");
  ASSERT_TRUE(sc.ok()) << sc.error().ToString();
  Result<std::unique_ptr<ScenarioRun>> run = ScenarioRun::Build(*sc, std::nullopt);
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  ScenarioReport r = (*run)->Run();
  ASSERT_EQ(r.legs.size(), 2u);
  const StreamStats& wifi1 = r.legs[0].forward[0];
  const StreamStats& wifi2 = r.legs[1].forward[0];
  EXPECT_GT(wifi1.delivered, 1000u);
  EXPECT_GT(wifi1.lost, 50u);         // bad wifi, a NAT reboot
  EXPECT_GT(wifi2.delivered, 300u);   // a new lease on wifi2, a new mapping
  EXPECT_EQ(r.legs[1].addresses.size(), 1u);
  EXPECT_EQ(r.legs[1].addresses[0].rfind("192.168.2.", 0), 0u);
}

// Records of a LINKTYPE_RAW pcap (PcapWriter's), as parsed IPv4 headers.
std::vector<ip::Ipv4Header> PcapHeaders(const Bytes& pcap) {
  std::vector<ip::Ipv4Header> out;
  std::size_t off = 24;
  while (off + 16 <= pcap.size()) {
    std::uint32_t incl = pcap[off + 8] | pcap[off + 9] << 8 | pcap[off + 10] << 16 |
                         static_cast<std::uint32_t>(pcap[off + 11]) << 24;
    off += 16;
    Result<ip::Ipv4Packet> p = ip::ParseIpv4(ByteSpan(pcap).subspan(off, incl));
    if (p.ok()) out.push_back(p->header);
    off += incl;
  }
  return out;
}

// RFC 5266 Figure 1 with its agents: the i-HA advertises on the home link,
// the i-FA on visit-f, and the mVPN answers an IKEv2 client on the outside
// with a TIA from its pool, through which the intranet is reachable (the
// firewall and routes carry the TIA pool to the mVPN).
TEST(ScenarioRunTest, Figure1RunsItsAgents) {
  Result<Scenario> sc = ParseScenarioToml(*BuiltinScenario("figure1"), "figure1.toml");
  ASSERT_TRUE(sc.ok()) << sc.error().ToString();
  sc->duration = Duration::Seconds(6);  // before the first move
  sc->mobile_nodes.clear();  // the agents alone (the mobile node: sim_mn_test)
  Result<std::unique_ptr<ScenarioRun>> built = ScenarioRun::Build(*sc, std::nullopt);
  ASSERT_TRUE(built.ok()) << built.error().ToString();
  ScenarioRun& run = **built;
  ASSERT_NE(run.home_agent("i-ha"), nullptr);
  ASSERT_NE(run.foreign_agent("i-fa"), nullptr);
  ASSERT_NE(run.vpn_gateway("mvpn"), nullptr);
  EXPECT_EQ(run.home_agent("mn"), nullptr);

  // A VPN client on the outside (public addressing, mode mc).
  Network& net = run.network();
  ASSERT_TRUE(net.AddNode("client", false).ok());
  ASSERT_TRUE(
      net.Connect("client", "eth0", "ext-pub", *Ipv4Address::Parse("203.0.113.50"), 25).ok());
  Node& client = *net.FindNode("client");
  ASSERT_TRUE(client.AddRoute(Ipv4Prefix(), *Ipv4Address::Parse("203.0.113.1")).ok());
  IkeAppConfig c;
  c.role = IkeAppRole::kClient;
  c.peer.local_id = ikev2::IdPayload::Fqdn("client.corp.example");
  c.peer.remote_id = ikev2::IdPayload::Fqdn("mvpn.corp.example");
  c.peer.send_idr = true;
  c.peer.local_auth.kind = ikev2::AuthKind::kPsk;
  c.peer.local_auth.psk = SecretBytes(AsBytes("mipsec figure 1!"));
  c.peer.remote_auth.kind = ikev2::AuthKind::kPsk;
  c.peer.remote_auth.psk = c.peer.local_auth.psk;
  c.peer.ike_proposals = ikev2::DefaultIkeProposals();
  c.peer.esp_proposals = ikev2::DefaultEspProposals();
  c.peer.local_ts = {ikev2::AnyIpv4Selector()};
  c.peer.remote_ts = {ikev2::TrafficSelector::Ipv4Prefix(*Ipv4Prefix::Parse("10.0.0.0/8"))};
  c.peer.request_virtual_ip = true;
  c.gateway = *Ipv4Address::Parse("192.0.2.2");
  c.ike_ifindexes = {1};
  c.tunnel_prefixes = {*Ipv4Prefix::Parse("10.0.0.0/8")};
  c.log_name = "ike-client";
  Result<std::unique_ptr<IkeApp>> vpn = IkeApp::Create(client, std::move(c));
  ASSERT_TRUE(vpn.ok()) << vpn.error().ToString();
  ASSERT_TRUE((*vpn)->Connect().ok());
  // Through the tunnel, from the TIA, to the CN and back.
  Result<std::unique_ptr<StreamEchoer>> echo = StreamEchoer::Create(*net.FindNode("cn"), 7001);
  ASSERT_TRUE(echo.ok());
  StreamConfig sc_up;
  sc_up.target = {*Ipv4Address::Parse("10.0.0.100"), 7001};
  sc_up.local_port = 9001;
  sc_up.interval = Duration::Millis(100);
  sc_up.start = Timestamp::Zero() + Duration::Seconds(2);
  Result<std::unique_ptr<StreamSender>> send = StreamSender::Create(client, sc_up);
  ASSERT_TRUE(send.ok());

  ScenarioReport r = run.Run();

  // The i-HA advertises on the home link (RFC 5944 2.3), the i-FA on its.
  const Mip4HaAppCounters ha = run.home_agent("i-ha")->counters();
  EXPECT_GE(ha.advertisements, 4u);
  int home_ads = 0;
  for (const ip::Ipv4Header& h : PcapHeaders(net.FindSegment("home")->pcap().bytes())) {
    if (h.protocol == ip::kProtoIcmp && h.src == *Ipv4Address::Parse("10.1.0.2")) ++home_ads;
  }
  EXPECT_GE(home_ads, 4);
  EXPECT_GE(run.foreign_agent("i-fa")->core().counters().advertisements, 4u);
  // The gateway answered: IKE SA up with MOBIKE, a TIA from 10.10.0.0/24,
  // and the intranet reached through it both ways.
  ikev2::IkeSa* sa = (*vpn)->client_sa();
  ASSERT_NE(sa, nullptr);
  EXPECT_EQ(sa->state(), ikev2::IkeSaState::kEstablished);
  EXPECT_TRUE(sa->mobike());
  ASSERT_TRUE(sa->virtual_ip().has_value());
  EXPECT_TRUE(Ipv4Prefix::Parse("10.10.0.0/24")->Contains(*sa->virtual_ip()));
  EXPECT_GE((*echo)->echoes_sent(), 30u);
  const StreamStats back = (*send)->reverse().Finish((*send)->sent(), (*send)->send_times(),
                                                     r.end, Duration::Seconds(1));
  EXPECT_GE(back.delivered, 30u);
  const IkeApp& gw = *run.vpn_gateway("mvpn");
  EXPECT_GE(gw.counters().esp_in, 30u);
  EXPECT_GE(gw.counters().esp_out, 30u);
  // The outside link saw only IKE and ESP of the client: nothing to or from
  // its TIA in clear.
  Result<std::vector<PcapViolation>> v = FindCleartextViolations(
      net.FindSegment("ext-pub")->pcap().bytes(), {*sa->virtual_ip()});
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_TRUE(v->empty()) << (*v)[0].ToString();
  // The report carries the agents' counters.
  ASSERT_EQ(r.agents.size(), 3u);
  EXPECT_EQ(r.agents[0].name, "i-ha home_agent");
  EXPECT_EQ(r.agents[2].name, "mvpn vpn_gateway");
  std::string counters = FormatCountersText(r);
  EXPECT_NE(counters.find("agent i-ha home_agent: "), std::string::npos) << counters;
  EXPECT_NE(counters.find(" advertisements="), std::string::npos);
  EXPECT_NE(FormatReportJson(r).find("\"mvpn vpn_gateway\""), std::string::npos);
  // Apps on the scenario's nodes go before the network does.
  send->reset();
  echo->reset();
  vpn->reset();
}

// The i-HA drops requests from untrusted sources silently (RFC 5265 4.3):
// a registration from the DMZ gets no answer.
TEST(ScenarioRunTest, Figure1HomeAgentIgnoresUntrustedSources) {
  Result<Scenario> sc = ParseScenarioToml(*BuiltinScenario("figure1"), "figure1.toml");
  ASSERT_TRUE(sc.ok()) << sc.error().ToString();
  sc->duration = Duration::Seconds(2);
  sc->mobile_nodes.clear();  // only the test's request reaches the i-HA
  Result<std::unique_ptr<ScenarioRun>> built = ScenarioRun::Build(*sc, std::nullopt);
  ASSERT_TRUE(built.ok()) << built.error().ToString();
  ScenarioRun& run = **built;
  Node& mvpn = *run.network().FindNode("mvpn");
  int answers = 0;
  ASSERT_TRUE(mvpn.BindUdp({Ipv4Address::Any(), 4340},
                           [&](Timestamp, const UdpDelivery&) { ++answers; })
                  .ok());
  run.network().sim().ScheduleFn(Timestamp::Zero() + Duration::Seconds(1), [&] {
    Bytes request(24, 0);
    request[0] = 1;  // a Registration Request (unauthenticated: never reaches a reply)
    (void)mvpn.SendUdp({*Ipv4Address::Parse("10.1.0.2"), 434}, 4340, request);
  });
  run.Run();
  EXPECT_EQ(answers, 0);
  EXPECT_EQ(run.home_agent("i-ha")->counters().udp_in, 1u);  // it arrived
  EXPECT_EQ(run.home_agent("i-ha")->counters().replies, 0u);
  EXPECT_EQ(run.home_agent("i-ha")->core().counters().drops[static_cast<std::size_t>(
                mip4::HaDrop::kUntrustedSource)],
            1u);
  mvpn.UnbindUdp({Ipv4Address::Any(), 4340});
}

// A trusted source (the CN, inside 10.0.0.0/8) is answered, and the reply
// carries TNC (RFC 5265 4.3, R23): the MN's key from figure1.toml.
TEST(ScenarioRunTest, Figure1HomeAgentAnswersTrustedSourcesWithTnc) {
  Result<Scenario> sc = ParseScenarioToml(*BuiltinScenario("figure1"), "figure1.toml");
  ASSERT_TRUE(sc.ok()) << sc.error().ToString();
  sc->duration = Duration::Seconds(2);
  Result<std::unique_ptr<ScenarioRun>> built = ScenarioRun::Build(*sc, std::nullopt);
  ASSERT_TRUE(built.ok()) << built.error().ToString();
  ScenarioRun& run = **built;
  Node& cn = *run.network().FindNode("cn");
  std::vector<Bytes> replies;
  ASSERT_TRUE(cn.BindUdp({Ipv4Address::Any(), 4341},
                         [&](Timestamp, const UdpDelivery& d) {
                           replies.emplace_back(d.payload.begin(), d.payload.end());
                         })
                  .ok());
  const Timestamp at = Timestamp::Zero() + Duration::Seconds(1);
  run.network().sim().ScheduleFn(at, [&] {
    // Deregistration of every binding (lifetime 0, care-of = home address).
    mip4::RegistrationRequest req;
    req.home_address = *Ipv4Address::Parse("10.1.0.10");
    req.home_agent = *Ipv4Address::Parse("10.1.0.2");
    req.care_of_address = req.home_address;
    req.identification = mip4::WallClockMapping{Timestamp::Zero(), kUnixNanosAtZero}.At(at).raw();
    mip4::MessageBuilder b = mip4::MessageBuilder::Request(req);
    const SecretBytes key(*FromHex("000102030405060708090a0b0c0d0e0f"));
    ASSERT_TRUE(b.AppendAuth(mip4::kExtMnHaAuth, 0x1000, 16, [&](ByteSpan covered) {
                   return crypto::Hmac(crypto::HashAlg::kMd5, key, covered);
                 }).ok());
    Bytes wire = std::move(b).Take();
    ASSERT_TRUE(cn.SendUdp({req.home_agent, 434}, 4341, wire).ok());
  });
  run.Run();
  ASSERT_EQ(replies.size(), 1u);
  Result<mip4::ParsedRegistrationReply> reply = mip4::ParseRegistrationReply(replies[0]);
  ASSERT_TRUE(reply.ok()) << reply.error().ToString();
  EXPECT_TRUE(reply->reply.accepted()) << static_cast<int>(reply->reply.code);
  EXPECT_NE(reply->extensions.First(mip4::kExtTnc), nullptr);
  cn.UnbindUdp({Ipv4Address::Any(), 4341});
}

// A TIA pool given as a range is routed into the gateway's tunnel exactly.
TEST(ScenarioRunTest, VpnGatewayRoutesItsTiaRange) {
  constexpr char kText[] = R"(
[[segment]]
name = "dmz"
[[node]]
name = "gw"
kind = "router"
  [[node.interface]]
  name = "eth0"
  segment = "dmz"
  address = "192.0.2.2/24"
[[vpn_gateway]]
node = "gw"
interface = "eth0"
local_id = "fqdn:gw.example"
psk = "00112233445566778899aabbccddeeff"
tia_pool = "10.10.0.20-10.10.0.30"
intranet = "10.0.0.0/8"
)";
  Result<Scenario> sc = ParseScenarioToml(kText, "gw.toml");
  ASSERT_TRUE(sc.ok()) << sc.error().ToString();
  Result<std::unique_ptr<ScenarioRun>> run = ScenarioRun::Build(*sc, std::nullopt);
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  IkeApp* gw = (*run)->vpn_gateway("gw");
  ASSERT_NE(gw, nullptr);
  Node& node = *(*run)->network().FindNode("gw");
  for (int last = 0; last < 256; ++last) {
    const Ipv4Address a = Ipv4Address::FromOctets(10, 10, 0, static_cast<std::uint8_t>(last));
    std::optional<Route> r = node.routes().Lookup(a);
    const bool tunnel = r && r->ifindex == gw->tun_ifindex();
    EXPECT_EQ(tunnel, last >= 20 && last <= 30) << a;
  }
}

}  // namespace
}  // namespace mipsec::sim::scenario
