// Mobile IPv4 end to end in network namespaces (issue 4, item 6): the real
// `mipsec ha` and `mipsec fa` daemons with our mobile-node registration
// engine (mip4_mn_tool: mip4::MobileNodeRegistration on real sockets)
// register and carry `ping` to the home address.
//
//   cn 10.1.0.2 --- cn0 [ha] home0 192.0.2.1/24 --- home 192.0.2.254 (idle home host)
//                        | wan0 198.18.0.1
//                        |
//                   eth0 [rt] eth1 203.0.113.1/24 --- visited network:
//     a. mn eth0 203.0.113.10 (co-located CoA), home address 192.0.2.10 on TUN mip0
//     b. [nat] wan0 203.0.113.2 masquerade, lan0 10.99.0.1 --- mn eth0 10.99.0.10
//     c. [fa] wan0 203.0.113.5 (FA CoA), vis0 10.20.0.1/24 --- mn eth0 192.0.2.10/32
//
// The correspondent node reaches the home network through the HA (its
// router), so a ping to the home address is answered only if the HA
// intercepts it for the registered home address and tunnels it to the care-
// of address, and the MN's answer comes back (reverse tunnel or routed); a
// host on the home link reaches it through the HA's proxy ARP. Test d is
// the control: a refused registration, and the same ping goes unanswered.
//
// Every test builds its own topology (unique namespace names, src/lab/netns)
// and config files in a temp dir, is bounded to about 20 s of waiting, and
// prints the daemons' and the tool's output when it fails.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "common/time.h"
#include "testing/netns/require_root.h"
#include "lab/netns/topology.h"
#include "testing/lab_names.h"

namespace mipsec::testing {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr char kHomeAddress[] = "192.0.2.10";
constexpr char kHomeAgent[] = "192.0.2.1";
constexpr char kCn[] = "10.1.0.2";
constexpr char kSpi[] = "1000";
constexpr char kKey[] = "00112233445566778899aabbccddeeff";

// The home side and the router every variant shares; each test appends its
// visited network.
constexpr char kHomeSide[] = R"(
ns cn
ns home
ns ha router
ns rt router
ns mn
link cn:eth0 10.1.0.2/24     ha:cn0 10.1.0.1/24
link home:eth0 192.0.2.254/24 ha:home0 192.0.2.1/24
link ha:wan0 198.18.0.1/24   rt:eth0 198.18.0.2/24
route cn default via 10.1.0.1
route home default via 192.0.2.1
route ha default via 198.18.0.2
route rt default via 198.18.0.1
)";

std::string HaConfig(const std::string& dir, bool reverse_tunnel_mandatory = false) {
  std::ostringstream o;
  o << "[home_agent]\n"
    << "address = \"" << kHomeAgent << "\"\n"
    << "home_network = \"192.0.2.0/24\"\n"
    << "interface = \"home0\"\n"
    << "max_lifetime = \"30m\"\n"
    << "log_level = \"debug\"\n"
    // RFC 5265 4.3: the HA answers only sources on trusted subnets (none by
    // default); here the visited network is the trusted one, so every reply
    // carries TNC.
    << "trusted_subnets = [\"203.0.113.0/24\"]\n"
    << "control_socket = \"" << dir << "/ha.sock\"\n"
    << "[reverse_tunnel]\nallowed = true\nmandatory = "
    << (reverse_tunnel_mandatory ? "true" : "false") << "\n"
    << "[udp_tunnel]\nenabled = true\naccept_forcing = true\nkeepalive_interval = \"110s\"\n"
    << "[[mobile_node]]\n"
    << "home_address = \"" << kHomeAddress << "\"\n"
    << "spi = " << kSpi << "\n"
    << "key = \"" << kKey << "\"\n"
    << "replay = \"timestamp\"\n";
  return o.str();
}

std::string FaConfig(const std::string& dir) {
  std::ostringstream o;
  o << "[foreign_agent]\n"
    << "advertisement_interval = \"1s\"\n"
    << "max_lifetime = \"30m\"\n"
    << "registration_required = true\n"
    << "reverse_tunnel = true\n"
    << "log_level = \"debug\"\n"
    << "control_socket = \"" << dir << "/fa.sock\"\n"
    << "[[interface]]\n"
    << "name = \"vis0\"\n"
    << "address = \"10.20.0.1/24\"\n"
    << "care_of_addresses = [\"203.0.113.5\"]\n";
  return o.str();
}

class Mip4Daemons : public ::testing::Test {
 protected:
  void SetUp() override {
    MIPSEC_REQUIRE_NETNS();
    char tmpl[] = "/tmp/mipsec-mip4-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }

  void TearDown() override {
    // MIPSEC_E2E_VERBOSE=1 prints them for passing tests too.
    if (HasFailure() || getenv("MIPSEC_E2E_VERBOSE") != nullptr) DumpOutputs();
    // Stops every daemon and the tool, deletes the namespaces.
    if (topo_) (void)topo_->Destroy();
    topo_.reset();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  void Build(const std::string& visited) {
    auto t = Topology::Create(std::string(kHomeSide) + visited);
    ASSERT_TRUE(t.ok()) << t.error().ToString();
    topo_ = std::move(*t);
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  void Ip(const std::string& ns, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"ip"};
    argv.insert(argv.end(), args.begin(), args.end());
    Status s = topo_->Run(ns, argv);
    ASSERT_TRUE(s.ok()) << s.error().ToString();
  }

  // Starts a daemon and waits until it listens on UDP 434 in its namespace.
  Child* StartDaemon(const std::string& ns, const std::string& kind, const std::string& config) {
    Result<Child*> c = topo_->Spawn(ns, {MIPSEC_BINARY, kind, "--config", config});
    EXPECT_TRUE(c.ok()) << c.error().ToString();
    if (!c.ok()) return nullptr;
    named_.push_back({"mipsec " + kind, *c});
    auto deadline = Clock::now() + std::chrono::seconds(5);
    while (Clock::now() < deadline) {
      if (!(*c)->Running()) {
        ADD_FAILURE() << "mipsec " << kind << " exited at start";
        return nullptr;
      }
      auto ss = topo_->Exec(ns, {"ss", "-Hlun", "sport = :434"});
      if (ss.ok() && ss->out.find(":434") != std::string::npos) return *c;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "mipsec " << kind << " does not listen on UDP 434 after 5 s";
    return nullptr;
  }

  Child* StartTool(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {MIPSEC_MN_TOOL, "--home-address", kHomeAddress, "--home-agent",
                                     kHomeAgent,     "--spi",          kSpi,         "--key",
                                     kKey,           "--interface",    "eth0",       "--log-level",
                                     "debug"};
    argv.insert(argv.end(), args.begin(), args.end());
    Result<Child*> c = topo_->Spawn("mn", argv);
    EXPECT_TRUE(c.ok()) << c.error().ToString();
    if (!c.ok()) return nullptr;
    named_.push_back({"mip4_mn_tool", *c});
    return *c;
  }

  // The first JSON line on `child`'s stdout with "event": `event`, waiting up
  // to `timeout`. nullopt (and a failure) if it does not come or the child
  // exits.
  std::optional<json> WaitEvent(Child* child, const std::string& event,
                                std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
      std::istringstream lines(child->Stdout());
      std::string line;
      while (std::getline(lines, line)) {
        json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
        if (j.is_object() && j.value("event", "") == event) return j;
      }
      if (!child->Running()) {
        ADD_FAILURE() << "mip4_mn_tool exited before \"" << event << "\"";
        return std::nullopt;
      }
      if (Clock::now() >= deadline) {
        ADD_FAILURE() << "no \"" << event << "\" event after " << timeout.count() << " ms";
        return std::nullopt;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  // `ping -c 2` from `ns`; none may be answered.
  void ExpectNoPing(const std::string& ns, const std::string& dst) {
    auto r = topo_->Exec(ns, {"ping", "-n", "-c", "2", "-i", "0.3", "-W", "1", dst},
                         Duration::Seconds(5));
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_NE(r->exit_code, 0) << "ping from " << ns << " to " << dst << " was answered:\n"
                               << r->out;
  }

  // `ping -c 3` from `ns`; all three must be answered.
  void ExpectPing(const std::string& ns, const std::string& dst,
                  const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {"ping", "-n", "-c", "3", "-i", "0.3", "-W", "2"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(dst);
    auto r = topo_->Exec(ns, argv, Duration::Seconds(8));
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_TRUE(r->Success() && r->out.find(" 3 received") != std::string::npos)
        << "ping from " << ns << " to " << dst << ": " << r->Describe() << "\n"
        << r->out << r->err;
  }

  // The tool's counters (SIGUSR1 -> a "stats" line); call once per test.
  // Co-located mode: every datagram of the pings crossed the tool, so the
  // core's tunnelled_in / tunnelled_out show the tunnels really carried them.
  void ExpectTunnelled(Child* mn, int in, int out) {
    ASSERT_EQ(kill(mn->pid(), SIGUSR1), 0);
    std::optional<json> stats = WaitEvent(mn, "stats", std::chrono::seconds(2));
    ASSERT_TRUE(stats);
    EXPECT_GE((*stats)["tunnelled_in"].get<int>(), in) << stats->dump();
    EXPECT_GE((*stats)["tunnelled_out"].get<int>(), out) << stats->dump();
    EXPECT_EQ((*stats)["tun_send_errors"], 0) << stats->dump();
  }

  void DumpOutputs() {
    // SIGTERM first: the tool prints its counters ("stopped") and the
    // daemons log theirs on the way out.
    for (const auto& [name, child] : named_) {
      if (child->Running()) child->Stop(Duration::Seconds(1));
    }
    for (const auto& [name, child] : named_) {
      std::printf("===== %s stdout =====\n%s\n===== %s stderr =====\n%s\n", name.c_str(),
                  child->Stdout().c_str(), name.c_str(), child->Stderr().c_str());
    }
    if (topo_) std::printf("%s\n", topo_->Describe().c_str());
    std::fflush(stdout);
  }

  // Co-located mode: the home address lives on the tool's TUN and whatever
  // the MN sends from it is routed into the TUN (the tool reverse tunnels
  // it), so the MN's own stack answers for the home address.
  void RouteHomeAddressIntoTun() {
    Ip("mn", {"rule", "add", "from", kHomeAddress, "lookup", "100"});
    Ip("mn", {"route", "add", "default", "dev", "mip0", "table", "100"});
  }

  std::string dir_;
  std::unique_ptr<Topology> topo_;
  std::vector<std::pair<std::string, Child*>> named_;
};

// a. Co-located care-of address, IP-in-IP.
// RFC 5944 3.6.1.2 (D set, request from the CoA), 3.8.3 (HA accepts, code
// 0), 4.2.3 / RFC 2003 (HA intercepts for the home address and tunnels
// IP-in-IP to the CoA), 4.2.1 (the MN decapsulates), RFC 3024 5.4 (the MN
// reverse tunnels from the CoA to the HA, which decapsulates and forwards).
TEST_F(Mip4Daemons, ColocatedIpInIpRegistersAndCarriesPing) {
  ASSERT_NO_FATAL_FAILURE(Build(R"(
link rt:eth1 203.0.113.1/24  mn:eth0 203.0.113.10/24
route mn default via 203.0.113.1
)"));
  ASSERT_NE(StartDaemon("ha", "ha", WriteFile("ha.toml", HaConfig(dir_))), nullptr);
  Child* mn = StartTool({"--mode", "colocated", "--coa", "203.0.113.10", "--tun", "mip0",
                         "--udp-tunnel", "auto", "--reverse-tunnel", "--lifetime", "300"});
  ASSERT_NE(mn, nullptr);
  ASSERT_TRUE(WaitEvent(mn, "ready", std::chrono::seconds(5)));
  ASSERT_NO_FATAL_FAILURE(RouteHomeAddressIntoTun());

  std::optional<json> reg = WaitEvent(mn, "registered", std::chrono::seconds(8));
  ASSERT_TRUE(reg) << "registration did not complete";
  EXPECT_EQ((*reg)["code"], 0);
  EXPECT_EQ((*reg)["coa"], "203.0.113.10");
  EXPECT_EQ((*reg)["via_fa"], false);
  // RFC 3519 3.2 / 3.5: no NAT between MN and HA, F clear: IP-in-IP.
  EXPECT_EQ((*reg)["udp_tunnel"], false);
  EXPECT_EQ((*reg)["encapsulation"], "ip-in-ip");
  EXPECT_EQ((*reg)["reverse_tunnel"], true);
  // RFC 5265 4.3 / 3.4: the trusted source's authenticated reply has TNC.
  EXPECT_EQ((*reg)["tnc"], true);

  ExpectPing("cn", kHomeAddress);
  ExpectPing("mn", kCn, {"-I", kHomeAddress});
  // RFC 5944 4.6: on the home link the HA answers ARP for the away home
  // address (proxy ARP), so a host there reaches the MN through it too.
  ExpectPing("home", kHomeAddress);
  // 3 + 3 echo requests and 3 echo replies in, as many the other way.
  ExpectTunnelled(mn, 9, 9);
}

// b. Co-located care-of address behind an nftables masquerade NAT.
// RFC 3519 3.1 (UDP Tunnel Request), 3.2 / 4.6 (the HA sees the request's
// source differ from the CoA: NAT detected, UDP tunnelling granted in the
// UDP Tunnel Reply), 4.3 / 4.4 (Tunnel Data messages both ways on port 434,
// through the NAT mapping the registration created).
TEST_F(Mip4Daemons, ColocatedBehindNatUsesUdpTunnelling) {
  ASSERT_NO_FATAL_FAILURE(Build(R"(
ns nat router
link rt:eth1 203.0.113.1/24  nat:wan0 203.0.113.2/24
link nat:lan0 10.99.0.1/24   mn:eth0 10.99.0.10/24
route nat default via 203.0.113.1
route mn default via 10.99.0.1
nat nat masquerade oif wan0
)"));
  ASSERT_NE(StartDaemon("ha", "ha", WriteFile("ha.toml", HaConfig(dir_))), nullptr);
  Child* mn = StartTool({"--mode", "colocated", "--coa", "10.99.0.10", "--tun", "mip0",
                         "--udp-tunnel", "auto", "--reverse-tunnel", "--lifetime", "300"});
  ASSERT_NE(mn, nullptr);
  ASSERT_TRUE(WaitEvent(mn, "ready", std::chrono::seconds(5)));
  ASSERT_NO_FATAL_FAILURE(RouteHomeAddressIntoTun());

  std::optional<json> reg = WaitEvent(mn, "registered", std::chrono::seconds(8));
  ASSERT_TRUE(reg) << "registration did not complete";
  EXPECT_EQ((*reg)["code"], 0);
  EXPECT_EQ((*reg)["coa"], "10.99.0.10");
  EXPECT_EQ((*reg)["udp_tunnel"], true);
  EXPECT_EQ((*reg)["udp_tunnel_forced"], false);
  EXPECT_EQ((*reg)["encapsulation"], "udp");
  EXPECT_EQ((*reg)["tnc"], true);

  ExpectPing("cn", kHomeAddress);
  ExpectPing("mn", kCn, {"-I", kHomeAddress});
  ExpectTunnelled(mn, 6, 6);
}

// c. Foreign agent care-of address, with reverse tunnelling.
// RFC 5944 2.1 / 2.4 (the MN hears the FA's Agent Advertisement, TTL 1),
// 3.6.1.1 (request to the advertisement's source, D clear), 3.7 (the FA
// relays it to the HA and the reply back), 4.2.2 (HA tunnels to the FA
// care-of address, the FA delivers on-link to the home address; the FA is
// the MN's default router), RFC 3024 (T: the FA reverse tunnels the MN's
// answers to the HA; 4.1.1 requests to an FA with TTL 255).
TEST_F(Mip4Daemons, ViaForeignAgentRegistersAndCarriesPing) {
  ASSERT_NO_FATAL_FAILURE(Build(R"(
ns fa router
link rt:eth1 203.0.113.1/24  fa:wan0 203.0.113.5/24
link fa:vis0 10.20.0.1/24    mn:eth0
addr mn:eth0 192.0.2.10/32
route fa default via 203.0.113.1
route mn 10.20.0.1 dev eth0
route mn default via 10.20.0.1 dev eth0
)"));
  ASSERT_NE(StartDaemon("ha", "ha", WriteFile("ha.toml", HaConfig(dir_))), nullptr);
  ASSERT_NE(StartDaemon("fa", "fa", WriteFile("fa.toml", FaConfig(dir_))), nullptr);
  Child* mn = StartTool({"--mode", "fa", "--reverse-tunnel", "--lifetime", "300"});
  ASSERT_NE(mn, nullptr);

  std::optional<json> adv = WaitEvent(mn, "agent_advertised", std::chrono::seconds(5));
  ASSERT_TRUE(adv) << "no advertisement from the FA";
  EXPECT_EQ((*adv)["agent"], "10.20.0.1");
  EXPECT_EQ((*adv)["foreign_agent"], true);
  EXPECT_EQ((*adv)["coa"], "203.0.113.5");
  EXPECT_EQ((*adv)["reverse_tunnel"], true);

  std::optional<json> reg = WaitEvent(mn, "registered", std::chrono::seconds(8));
  ASSERT_TRUE(reg) << "registration through the FA did not complete";
  EXPECT_EQ((*reg)["code"], 0);
  EXPECT_EQ((*reg)["via_fa"], true);
  EXPECT_EQ((*reg)["coa"], "203.0.113.5");
  EXPECT_EQ((*reg)["reverse_tunnel"], true);

  ExpectPing("cn", kHomeAddress);
  ExpectPing("mn", kCn);
}

// d. A registration the HA refuses leaves no binding: nothing is intercepted.
// RFC 3024 3.2 / 4.3: with reverse tunnelling mandatory, a request without T
// is denied with 138 (an HA code, so the reply is authenticated, RFC 5944
// 3.6.2.1), and RFC 5944 3.8.3.2: a denial changes no binding, so the CN's
// pings to the home address go unanswered.
TEST_F(Mip4Daemons, DeniedRegistrationCarriesNothing) {
  ASSERT_NO_FATAL_FAILURE(Build(R"(
link rt:eth1 203.0.113.1/24  mn:eth0 203.0.113.10/24
route mn default via 203.0.113.1
)"));
  ASSERT_NE(StartDaemon("ha", "ha", WriteFile("ha.toml", HaConfig(dir_, /*mandatory=*/true))),
            nullptr);
  Child* mn = StartTool({"--mode", "colocated", "--coa", "203.0.113.10", "--tun", "mip0",
                         "--udp-tunnel", "auto", "--lifetime", "300"});
  ASSERT_NE(mn, nullptr);
  ASSERT_TRUE(WaitEvent(mn, "ready", std::chrono::seconds(5)));
  ASSERT_NO_FATAL_FAILURE(RouteHomeAddressIntoTun());

  std::optional<json> denied = WaitEvent(mn, "denied", std::chrono::seconds(8));
  ASSERT_TRUE(denied);
  EXPECT_EQ((*denied)["code"], 138);
  EXPECT_EQ((*denied)["by"], "ha");
  EXPECT_EQ((*denied)["authenticated"], true);
  ExpectNoPing("cn", kHomeAddress);
  EXPECT_EQ(mn->Stdout().find("\"registered\""), std::string::npos) << mn->Stdout();
}

}  // namespace
}  // namespace mipsec::testing
