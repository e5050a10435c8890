// The real `mipsec fa` binary in network namespaces, with the mobile node and
// the home agent played by this test over real sockets (the HA: the codec
// and security modules, mip4/fa/fa_test_util.h's responder):
//
//   mn  eth0 10.20.0.2/24 + home 192.0.2.10/32
//    |
//   fa  vis0 10.20.0.1/24 (served link)      fa: `mipsec fa` (router)
//   fa  net0 198.51.100.1/24 (care-of address)
//    |
//   ha  eth0 198.51.100.2/24
//
// Checks: advertisements on the visited link at the configured interval,
// TTL 1, to 224.0.0.1, with the care-of address and R T F; a solicitation is
// answered; a Registration Request (T, TTL 255) is relayed from the care-of
// address to the HA with FA-HA authentication; the HA's reply reaches the MN
// and the visitor's /32 route and reverse-tunnel rule appear; a datagram the
// MN sends from its home address is reverse tunnelled (IP-in-IP, care-of ->
// HA); an IP-in-IP datagram from the HA is delivered to the MN on-link;
// SIGTERM: exit 0, counters logged, route and rule gone.
// The real `mipsec ctl` asks the daemon's control socket (a private temp
// directory): `visitors` shows the pending, then the active visitor, and no
// response carries a key from the config.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <net/if.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "common/ip/ipv4.h"
#include "common/ip/udp.h"
#include "mip4/codec/agent_advertisement.h"
#include "mip4/codec/agent_solicitation.h"
#include "mip4/codec/registration_reply.h"
#include "mip4/fa/fa_test_util.h"
#include "platform/linux/mip4/agent_io.h"
#include "platform/linux/raw_socket.h"
#include "platform/linux/udp_socket.h"
#include "testing/netns/require_root.h"
#include "lab/netns/topology.h"
#include "testing/lab_names.h"
#include <nlohmann/json.hpp>

namespace mipsec::mip4d {
namespace {

using mip4::fa_test::A;
using mip4::fa_test::MnRequest;
using mip4::fa_test::TestHomeAgent;
using mipsec::testing::Child;
using mipsec::testing::Topology;

constexpr std::uint16_t kMnPort = 49152;
constexpr std::uint8_t kFaHaKeyFill = 0x77;  // fa_test_util's FA-HA SPI is 0x300 = 768
const Ipv4Address kMn = A("10.20.0.2");
const Ipv4Address kFa = A("10.20.0.1");
const Ipv4Address kCoa = A("198.51.100.1");
const Ipv4Address kHa = A("198.51.100.2");
const Ipv4Address kHome = A("192.0.2.10");
const Ipv4Address kCn = A("203.0.113.9");

constexpr char kTopology[] = R"(
  ns fa router
  ns mn
  ns ha
  link mn:eth0 10.20.0.2/24  fa:vis0 10.20.0.1/24
  link fa:net0 198.51.100.1/24  ha:eth0 198.51.100.2/24
  addr mn:eth0 192.0.2.10/32
  route mn default via 10.20.0.1
)";

std::string FaConfig(char key_digit = '7', const std::string& foreign_agent_extra = "") {
  std::string key(32, key_digit);  // 16 bytes of 0x77 (0x66 for '6', ...)
  return "[foreign_agent]\n"
         "advertisement_interval = \"1s\"\n" + foreign_agent_extra +
         "max_lifetime = \"10m\"\n"
         "[[interface]]\n"
         "name = \"vis0\"\n"
         "address = \"10.20.0.1/24\"\n"
         "care_of_addresses = [\"198.51.100.1\"]\n"
         "[[ha_peer]]\n"
         "address = \"198.51.100.2\"\n"
         "spi = 768\n"
         "key = \"" + key + "\"\n";
}

// Polls `fn` (which returns true when done) every 10 ms for up to `ms`.
template <typename Fn>
bool WaitFor(int ms, Fn fn) {
  for (int waited = 0; waited <= ms; waited += 10) {
    if (fn()) return true;
    usleep(10'000);
  }
  return false;
}

Timestamp MonoNow() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return Timestamp::FromNanos(static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec);
}

struct Received {
  Bytes data;
  Ipv4Address src, dst;
  std::uint16_t src_port = 0;
  int ifindex = 0;
  std::uint8_t ttl = 0;
  Timestamp at;
};

// Every datagram waiting on a raw socket.
std::vector<Received> DrainRaw(platform::LinuxRawSocket& s) {
  std::vector<Received> out;
  RecvBuffers rx(16);
  for (;;) {
    Result<std::size_t> n = s.RecvBatch(rx.slots());
    if (!n.ok() || *n == 0) return out;
    for (std::size_t i = 0; i < *n; ++i) {
      const platform::Datagram& d = rx.slots()[i];
      Received r;
      r.data.assign(d.data().begin(), d.data().end());
      r.src = d.remote.address;
      r.dst = d.local.address;
      r.ifindex = d.ifindex;
      r.ttl = d.length > 8 ? d.data()[8] : 0;
      r.at = MonoNow();
      out.push_back(std::move(r));
    }
  }
}

class FaDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MIPSEC_REQUIRE_NETNS();
    auto topo = Topology::Create(kTopology);
    ASSERT_TRUE(topo.ok()) << topo.error().ToString();
    topo_ = std::move(topo).value();
    config_path_ = "/tmp/mipsec-fa-test-" + std::to_string(getpid()) + ".toml";
    std::ofstream(config_path_) << FaConfig();
    char t[] = "/tmp/mipsec-fa-ctl-XXXXXX";
    ASSERT_NE(mkdtemp(t), nullptr);
    ctl_dir_ = t;

    // The MN's sockets: ICMP (advertisements) and UDP on its home address.
    ASSERT_TRUE(topo_->RunIn("mn", [&] {
                       platform::RawSocketOptions ro;
                       ro.protocol = platform::kIpProtoIcmp;
                       ro.icmp_types = {9};
                       auto icmp = platform::LinuxRawSocket::Open(ro);
                       ASSERT_TRUE(icmp.ok()) << icmp.error().ToString();
                       mn_icmp_ = std::move(icmp).value();
                       platform::RawSocketOptions so;
                       so.protocol = platform::kIpProtoIcmp;
                       so.icmp_types = {10};
                       auto sol = platform::LinuxRawSocket::Open(so);
                       ASSERT_TRUE(sol.ok()) << sol.error().ToString();
                       mn_sender_ = std::move(sol).value();
                       platform::UdpOptions uo;
                       uo.bind = Ipv4Endpoint{kHome, kMnPort};
                       auto udp = platform::LinuxUdpSocket::Open(uo);
                       ASSERT_TRUE(udp.ok()) << udp.error().ToString();
                       mn_udp_ = std::move(udp).value();
                     }).ok());
    // The HA's sockets: UDP 434 and IP-in-IP.
    ASSERT_TRUE(topo_->RunIn("ha", [&] {
                       platform::UdpOptions uo;
                       uo.bind = Ipv4Endpoint{kHa, 434};
                       auto udp = platform::LinuxUdpSocket::Open(uo);
                       ASSERT_TRUE(udp.ok()) << udp.error().ToString();
                       ha_udp_ = std::move(udp).value();
                       platform::RawSocketOptions ro;
                       ro.protocol = platform::kIpProtoIpip;
                       auto ipip = platform::LinuxRawSocket::Open(ro);
                       ASSERT_TRUE(ipip.ok()) << ipip.error().ToString();
                       ha_ipip_ = std::move(ipip).value();
                     }).ok());
  }

  void TearDown() override {
    if (!config_path_.empty()) unlink(config_path_.c_str());
    std::error_code ec;
    if (!ctl_dir_.empty()) std::filesystem::remove_all(ctl_dir_, ec);
  }

  std::string CtlSocket() const { return ctl_dir_ + "/fa.sock"; }

  // The real `mipsec ctl` (stdout and stderr), and its exit code.
  std::string Ctl(const std::string& args, int* exit_code = nullptr) const {
    const std::string cmd =
        std::string(MIPSEC_BINARY) + " ctl --socket " + CtlSocket() + " " + args + " 2>&1";
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) return "popen failed";
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    const int st = pclose(p);
    if (exit_code) *exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
  }

  Child* StartFa() {
    auto c = topo_->Spawn("fa", {MIPSEC_BINARY, "fa", "--config", config_path_, "--log-level",
                                 "debug", "--control-socket", CtlSocket()});
    EXPECT_TRUE(c.ok()) << c.error().ToString();
    return c.ok() ? *c : nullptr;
  }

  std::string InFa(const std::vector<std::string>& argv) {
    auto r = topo_->Exec("fa", argv);
    if (!r.ok()) return "exec failed: " + r.error().ToString();
    return r->out + r->err;
  }

  // One UDP datagram waiting on `s` within `ms`.
  static std::optional<Received> RecvUdp(platform::LinuxUdpSocket& s, int ms) {
    std::optional<Received> got;
    RecvBuffers rx(1);
    WaitFor(ms, [&] {
      Result<std::size_t> n = s.RecvBatch(rx.slots());
      if (!n.ok() || *n == 0) return false;
      const platform::Datagram& d = rx.slots()[0];
      Received r;
      r.data.assign(d.data().begin(), d.data().end());
      r.src = d.remote.address;
      r.dst = d.local.address;
      r.src_port = d.remote.port;
      got = std::move(r);
      return true;
    });
    return got;
  }

  std::unique_ptr<Topology> topo_;
  std::string config_path_;
  std::string ctl_dir_;
  std::unique_ptr<platform::LinuxRawSocket> mn_icmp_, mn_sender_, ha_ipip_;
  std::unique_ptr<platform::LinuxUdpSocket> mn_udp_, ha_udp_;
};

TEST_F(FaDaemonTest, AdvertisesRelaysRegistrationTunnelsBothWaysAndCleansUp) {
  Child* fa = StartFa();
  ASSERT_NE(fa, nullptr);

  // --- advertisements: every ~1 s (RFC 1256: between 0.75 and 1 interval),
  // TTL 1, to 224.0.0.1, from the FA's address, CoA and R T F set.
  std::vector<Received> adverts;
  WaitFor(3500, [&] {
    for (Received& r : DrainRaw(*mn_icmp_)) adverts.push_back(std::move(r));
    return adverts.size() >= 3;
  });
  ASSERT_GE(adverts.size(), 3u) << fa->Stderr();
  for (std::size_t i = 0; i < adverts.size(); ++i) {
    const Received& r = adverts[i];
    EXPECT_EQ(r.ttl, 1) << i;
    EXPECT_EQ(r.dst, Ipv4Address::AllSystems()) << i;
    EXPECT_EQ(r.src, kFa) << i;
    auto ip = ip::ParseIpv4(r.data);
    ASSERT_TRUE(ip.ok()) << ip.error().ToString();
    auto adv = mip4::ParseAgentAdvertisement(ip->payload);
    ASSERT_TRUE(adv.ok()) << adv.error().ToString();
    const mip4::MobilityAgentExtension& m = adv->advertisement.mobility;
    EXPECT_EQ(m.care_of_addresses, std::vector<Ipv4Address>{kCoa});
    EXPECT_TRUE(m.foreign_agent);
    EXPECT_TRUE(m.registration_required);
    EXPECT_TRUE(m.reverse_tunnel);
    EXPECT_FALSE(m.udp_tunnel);  // not behind a NAT
    EXPECT_EQ(m.registration_lifetime, 600);
    EXPECT_EQ(adv->advertisement.lifetime, 3);  // three intervals (default)
    if (i > 0) {
      const std::int64_t gap = (r.at - adverts[i - 1].at).millis();
      EXPECT_GE(gap, 650) << i;
      EXPECT_LE(gap, 1250) << i;
    }
  }

  // --- a solicitation (RFC 5944 2.2, to 224.0.0.11, TTL 1) is answered with
  // an advertisement to the soliciting address.
  auto sol = mip4::BuildAgentSolicitationPacket(kMn, Ipv4Address::AllMobilityAgents());
  ASSERT_TRUE(sol.ok());
  int mn_if = 0;
  ASSERT_TRUE(topo_->RunIn("mn", [&] { mn_if = static_cast<int>(if_nametoindex("eth0")); }).ok());
  ASSERT_TRUE(mn_sender_->SendIpPacket(*sol, mn_if).ok());
  bool answered = WaitFor(1500, [&] {
    for (const Received& r : DrainRaw(*mn_icmp_)) {
      if (r.dst == kMn && r.ttl == 1) return true;
    }
    return false;
  });
  EXPECT_TRUE(answered) << fa->Stderr();

  // --- registration through the FA (T: RFC 3024 4.1.1 sends it with TTL 255).
  MnRequest req;
  req.fixed.home_address = kHome;
  req.fixed.home_agent = kHa;
  req.fixed.care_of_address = kCoa;
  req.fixed.reverse_tunnel = true;
  req.fixed.lifetime = 300;
  const Bytes request = req.Build();
  platform::OutgoingDatagram out;
  out.payload = request;
  out.remote = Ipv4Endpoint{kFa, 434};
  out.ttl = 255;
  ASSERT_TRUE(mn_udp_->Send(out).ok());

  std::optional<Received> relayed = RecvUdp(*ha_udp_, 2000);
  ASSERT_TRUE(relayed.has_value()) << fa->Stderr();
  EXPECT_EQ(relayed->src, kCoa);       // from the care-of address ...
  EXPECT_EQ(relayed->src_port, 434);    // ... port 434 (RFC 5944 3.7.2)
  TestHomeAgent ha;
  ha.fa_ha_key = kFaHaKeyFill;
  TestHomeAgent::Checked checked = ha.Check(relayed->data);
  ASSERT_TRUE(checked.ok) << checked.why;
  EXPECT_TRUE(checked.had_fa_ha);  // FA-HA authentication appended (3.5.4)
  EXPECT_EQ(checked.request.request.home_address, kHome);

  // The visitor is pending: its home address is routed on the visited link
  // (installed before the relayed request left).
  EXPECT_NE(InFa({"ip", "-4", "route", "show", "192.0.2.10"}).find("dev vis0"),
            std::string::npos);
  {
    int code = -1;
    auto j = nlohmann::json::parse(Ctl("--json visitors", &code), nullptr, false);
    ASSERT_FALSE(j.is_discarded());
    EXPECT_EQ(code, 0);
    EXPECT_EQ(j["data"]["pending"], 1);
    EXPECT_EQ(j["data"]["visitors"][0]["state"], "pending");
    EXPECT_EQ(j["data"]["visitors"][0]["home_address"], "192.0.2.10");
  }

  TestHomeAgent::ReplySpec spec;
  spec.home_agent = kHa;
  const Bytes reply = ha.Reply(checked.request, spec);
  platform::OutgoingDatagram back;
  back.payload = reply;
  back.remote = Ipv4Endpoint{kCoa, 434};
  ASSERT_TRUE(ha_udp_->Send(back).ok());

  std::optional<Received> at_mn = RecvUdp(*mn_udp_, 2000);
  ASSERT_TRUE(at_mn.has_value()) << fa->Stderr();
  auto parsed = mip4::ParseRegistrationReply(at_mn->data);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->reply.code, 0);
  EXPECT_EQ(parsed->reply.home_address, kHome);
  EXPECT_EQ(at_mn->src_port, 434);

  // Active with T: route and rule.
  bool installed = WaitFor(1000, [&] {
    return InFa({"ip", "-4", "rule", "show"}).find("from 192.0.2.10 iif vis0 lookup 434") !=
           std::string::npos;
  });
  EXPECT_TRUE(installed) << InFa({"ip", "-4", "rule", "show"}) << fa->Stderr();
  EXPECT_NE(InFa({"ip", "-4", "route", "show", "192.0.2.10"}).find("dev vis0"),
            std::string::npos);

  // `mipsec ctl visitors`: the active visitor, for scripts and for people.
  {
    struct stat st {};
    ASSERT_EQ(stat(CtlSocket().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    int code = -1;
    const std::string js = Ctl("--json visitors", &code);
    EXPECT_EQ(code, 0) << js;
    auto j = nlohmann::json::parse(js, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << js;
    EXPECT_EQ(j["data"]["active"], 1) << js;
    const auto& vis = j["data"]["visitors"][0];
    EXPECT_EQ(vis["home_address"], "192.0.2.10");
    EXPECT_EQ(vis["state"], "active");
    EXPECT_EQ(vis["home_agent"], "198.51.100.2");
    EXPECT_EQ(vis["care_of_address"], "198.51.100.1");
    EXPECT_EQ(vis["link"], "vis0");
    EXPECT_NE(vis["flags"].get<std::string>().find('T'), std::string::npos) << js;
    ASSERT_TRUE(vis["remaining"].is_number()) << js;
    EXPECT_GT(vis["remaining"].get<int>(), 0);
    const std::string human = Ctl("visitors", &code);
    EXPECT_EQ(code, 0) << human;
    EXPECT_NE(human.find("home address  nai  state   home agent    care of address"),
              std::string::npos)
        << human;
    // No key from the config (16 bytes of 0x77) in any answer.
    for (const char* cmd : {"status", "visitors", "counters", "help"}) {
      for (const char* fmt : {"", "--json "}) {
        const std::string answer = Ctl(std::string(fmt) + cmd, &code);
        EXPECT_EQ(code, 0) << cmd << ": " << answer;
        EXPECT_EQ(answer.find("7777777777"), std::string::npos) << cmd << ": " << answer;
      }
    }
  }

  // --- reverse tunnel (RFC 3024 5.1): the MN's datagram from its home
  // address reaches the HA inside IP-in-IP from the care-of address.
  std::optional<Received> tunnelled;
  for (int attempt = 0; attempt < 5 && !tunnelled; ++attempt) {
    const Bytes payload = {'r', 'e', 'v'};
    platform::OutgoingDatagram to_cn;
    to_cn.payload = payload;
    to_cn.remote = Ipv4Endpoint{kCn, 9};
    ASSERT_TRUE(mn_udp_->Send(to_cn).ok());
    WaitFor(400, [&] {
      for (Received& r : DrainRaw(*ha_ipip_)) {
        if (r.src == kCoa) tunnelled = std::move(r);
      }
      return tunnelled.has_value();
    });
  }
  ASSERT_TRUE(tunnelled.has_value()) << fa->Stderr();
  auto outer = ip::ParseIpv4(tunnelled->data);
  ASSERT_TRUE(outer.ok());
  EXPECT_EQ(outer->header.protocol, 4);
  EXPECT_EQ(outer->header.dst, kHa);
  auto inner = ip::ParseIpv4Udp(outer->payload);
  ASSERT_TRUE(inner.ok()) << inner.error().ToString();
  EXPECT_EQ(inner->ip.src, kHome);
  EXPECT_EQ(inner->ip.dst, kCn);
  // One forwarding hop: the MN's default TTL (64) less one.
  EXPECT_EQ(inner->ip.ttl, 63);

  // --- HA -> FA tunnel (RFC 5944 4.2.2): decapsulated and delivered on-link.
  ip::Ipv4Header ih;
  ih.src = kCn;
  ih.dst = kHome;
  ih.ttl = 60;
  const Bytes hello = {'f', 'w', 'd'};
  auto inner_pkt = ip::BuildIpv4Udp(ih, 7, kMnPort, hello);
  ASSERT_TRUE(inner_pkt.ok());
  platform::OutgoingDatagram enc;
  enc.payload = *inner_pkt;
  enc.remote = Ipv4Endpoint{kCoa, 0};
  ASSERT_TRUE(ha_ipip_->Send(enc).ok());
  std::optional<Received> delivered = RecvUdp(*mn_udp_, 2000);
  ASSERT_TRUE(delivered.has_value()) << fa->Stderr();
  EXPECT_EQ(delivered->data, hello);
  EXPECT_EQ(delivered->src, kCn);

  // --- SIGUSR1 logs the counters while running.
  ASSERT_EQ(kill(fa->pid(), SIGUSR1), 0);
  EXPECT_TRUE(WaitFor(2000, [&] {
    return fa->Stderr().find("counters: requests 1 relayed 1") != std::string::npos;
  })) << fa->Stderr();
  EXPECT_TRUE(fa->Running());

  // --- SIGTERM: clean exit, counters, and nothing left behind.
  testing::ExecResult end = fa->Stop(Duration::Seconds(5));
  EXPECT_TRUE(end.Success()) << end.Describe() << "\n" << end.err;
  EXPECT_NE(end.err.find("counters: requests 1 relayed 1, replies 1 relayed 1"), std::string::npos)
      << end.err;
  EXPECT_NE(end.err.find("visitor active"), std::string::npos) << end.err;
  EXPECT_EQ(InFa({"ip", "-4", "rule", "show"}).find("lookup 434"), std::string::npos);
  EXPECT_EQ(InFa({"ip", "-4", "route", "show", "192.0.2.10"}), "");
  EXPECT_EQ(InFa({"ip", "-4", "route", "show", "table", "434"}), "");
  struct stat gone {};
  EXPECT_NE(stat(CtlSocket().c_str(), &gone), 0) << "the control socket goes with the daemon";
}

TEST_F(FaDaemonTest, UnknownInterfaceFailsBeforeOpeningAnything) {
  std::ofstream(config_path_) << "[[interface]]\nname = \"nosuch0\"\naddress = \"10.20.0.1/24\"\n"
                                 "care_of_addresses = [\"198.51.100.1\"]\n";
  auto r = topo_->Exec("fa", {MIPSEC_BINARY, "fa", "--config", config_path_},
                       Duration::Seconds(10));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->exit_code, 1) << r->Describe();
  EXPECT_NE(r->err.find("interface[0].name: no link named nosuch0"), std::string::npos) << r->err;
  // No TUN was created.
  EXPECT_EQ(InFa({"ip", "-o", "link", "show", "type", "tun"}), "");
}

// SIGHUP (FaDaemon::Reload): with a visitor active, the file changes its
// FA-HA key, max_lifetime and advertisement timing: the visitor's route and
// rule stay, advertisements carry the new lifetime, the next relayed
// request is authenticated with the new key only; a broken file is logged
// with file:line: key and changes nothing.
TEST_F(FaDaemonTest, SighupReloadKeepsVisitorsAndAppliesNewKeys) {
  Child* fa = StartFa();
  ASSERT_NE(fa, nullptr);
  ASSERT_TRUE(WaitFor(3000, [&] { return !DrainRaw(*mn_icmp_).empty(); })) << fa->Stderr();

  auto relay = [&](std::uint32_t id) -> std::optional<Received> {
    MnRequest req;
    req.fixed.home_address = kHome;
    req.fixed.home_agent = kHa;
    req.fixed.care_of_address = kCoa;
    req.fixed.reverse_tunnel = true;
    req.fixed.lifetime = 300;
    req.fixed.identification = (std::uint64_t{id} << 32) | id;
    const Bytes request = req.Build();  // outlives the send (payload is a view)
    platform::OutgoingDatagram out;
    out.payload = request;
    out.remote = Ipv4Endpoint{kFa, 434};
    out.ttl = 255;
    EXPECT_TRUE(mn_udp_->Send(out).ok());
    return RecvUdp(*ha_udp_, 2000);
  };
  // A visitor, active with T.
  std::optional<Received> relayed = relay(1);
  ASSERT_TRUE(relayed.has_value()) << fa->Stderr();
  TestHomeAgent ha;
  ha.fa_ha_key = kFaHaKeyFill;
  TestHomeAgent::Checked checked = ha.Check(relayed->data);
  ASSERT_TRUE(checked.ok) << checked.why;
  TestHomeAgent::ReplySpec spec;
  spec.home_agent = kHa;
  const Bytes reply = ha.Reply(checked.request, spec);
  platform::OutgoingDatagram back;
  back.payload = reply;
  back.remote = Ipv4Endpoint{kCoa, 434};
  ASSERT_TRUE(ha_udp_->Send(back).ok());
  ASSERT_TRUE(RecvUdp(*mn_udp_, 2000).has_value()) << fa->Stderr();
  auto has_rule = [&] {
    return InFa({"ip", "-4", "rule", "show"}).find("from 192.0.2.10 iif vis0 lookup 434") !=
           std::string::npos;
  };
  ASSERT_TRUE(WaitFor(1000, has_rule)) << fa->Stderr();

  auto hup = [&](const std::string& marker) {
    std::size_t before = 0;
    for (std::size_t at = fa->Stderr().find(marker); at != std::string::npos;
         at = fa->Stderr().find(marker, at + 1)) {
      ++before;
    }
    EXPECT_EQ(kill(fa->pid(), SIGHUP), 0);
    return WaitFor(3000, [&] {
      std::size_t n = 0;
      const std::string log = fa->Stderr();
      for (std::size_t at = log.find(marker); at != std::string::npos;
           at = log.find(marker, at + 1)) {
        ++n;
      }
      return n > before;
    });
  };

  // The FA-HA key re-keyed, a shorter max_lifetime, slower advertisements.
  std::string next = FaConfig('6', "advertisement_lifetime = \"9s\"\n");
  next.replace(next.find("\"10m\""), 5, "\"5m\"");
  next.replace(next.find("\"1s\""), 4, "\"2s\"");
  std::ofstream(config_path_, std::ios::trunc) << next;
  ASSERT_TRUE(hup("reloaded " + config_path_)) << fa->Stderr();
  EXPECT_NE(fa->Stderr().find("reloaded " + config_path_ +
                              ": 1 HA peer re-keyed; changed: advertisement_interval, "
                              "advertisement_lifetime, max_lifetime (1 visitors kept)"),
            std::string::npos)
      << fa->Stderr();
  EXPECT_TRUE(has_rule()) << "the visitor stays";
  EXPECT_NE(InFa({"ip", "-4", "route", "show", "192.0.2.10"}).find("dev vis0"),
            std::string::npos);
  // Advertisements now offer 300 s, with an ICMP lifetime of 9 s.
  (void)DrainRaw(*mn_icmp_);
  std::optional<mip4::ParsedAgentAdvertisement> adv;
  WaitFor(3000, [&] {
    for (const Received& r : DrainRaw(*mn_icmp_)) {
      auto ip = ip::ParseIpv4(r.data);
      if (!ip.ok()) continue;
      auto a = mip4::ParseAgentAdvertisement(ip->payload);
      if (a.ok()) adv = *a;
    }
    return adv.has_value();
  });
  ASSERT_TRUE(adv.has_value()) << fa->Stderr();
  EXPECT_EQ(adv->advertisement.mobility.registration_lifetime, 300);
  EXPECT_EQ(adv->advertisement.lifetime, 9);
  // The next relayed request: FA-HA with the new key, not the old.
  relayed = relay(2);
  ASSERT_TRUE(relayed.has_value()) << fa->Stderr();
  TestHomeAgent old_key;
  old_key.fa_ha_key = kFaHaKeyFill;
  EXPECT_FALSE(old_key.Check(relayed->data).ok);
  TestHomeAgent new_key;
  new_key.fa_ha_key = 0x66;
  TestHomeAgent::Checked with_new = new_key.Check(relayed->data);
  EXPECT_TRUE(with_new.ok) << with_new.why;
  EXPECT_TRUE(with_new.had_fa_ha);

  // A broken file (line 11: a reserved SPI): logged, nothing changes.
  std::string broken = next;
  broken.replace(broken.find("spi = 768"), 9, "spi = 7");
  std::ofstream(config_path_, std::ios::trunc) << broken;
  ASSERT_TRUE(hup("reload failed")) << fa->Stderr();
  EXPECT_NE(fa->Stderr().find(config_path_ + ":11: ha_peer[0].spi"), std::string::npos)
      << fa->Stderr();
  EXPECT_TRUE(fa->Running());
  EXPECT_TRUE(has_rule());
  EXPECT_EQ(fa->Stderr().find(std::string(32, '6')), std::string::npos) << "keys never logged";

  testing::ExecResult end = fa->Stop(Duration::Seconds(5));
  EXPECT_TRUE(end.Success()) << end.Describe() << "\n" << end.err;
  EXPECT_EQ(InFa({"ip", "-4", "rule", "show"}).find("lookup 434"), std::string::npos);
}

}  // namespace
}  // namespace mipsec::mip4d
