// SIGHUP on the real `mipsec gw` (GwDaemon::Reload), with the real
// `mipsec vpn` as its clients, on testing/strongswan's kInteropTopology
// (no strongSwan process: only its topology and tools):
//
//   1. alice (email:client@example.org, her own [[peer]] PSK) connects and
//      pings the intranet;
//   2. gw.toml gains bob's [[peer]] + SIGHUP: "reloaded ...: 1 client
//      added (1 IKE SAs kept)"; alice's IKE SA and CHILD SA are the same
//      (no new IKE SA or CHILD SA in the log, same SPIs, nothing went down)
//      and still carry her pings;
//   3. a broken gw.toml + SIGHUP: one error naming file:line: key, and
//      nothing changes;
//   4. alice disconnects (SIGTERM: her client deletes the SA); bob, whose
//      key only the reloaded file has, connects and pings the intranet;
//   5. SIGTERM on the gateway deletes bob's IKE SA (INFORMATIONAL Delete):
//      his client sees it go down.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>

#include "scenarios/ikev2/interop_configs.h"
#include "scenarios/ikev2/mipsec_process.h"
#include "lab/netns/exec.h"
#include "lab/netns/topology.h"
#include "testing/lab_names.h"
#include "testing/strongswan/interop_net.h"
#include "testing/strongswan/require_strongswan.h"

namespace mipsec::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

constexpr char kBobPsk[] = "bob-has-another-psk-for-reload";

struct Testbed {
  std::unique_ptr<Topology> topo;
  std::unique_ptr<MipsecProcess> gw;
  std::unique_ptr<MipsecProcess> vpn;
  ~Testbed() {
    vpn.reset();
    gw.reset();
    topo.reset();
  }
};

std::string GwConfig(bool with_bob, const std::string& extra_peer = "") {
  std::ostringstream g;
  g << "[gateway]\nlisten = \"" << kInteropGwExt << "\"\nlocal_id = \"fqdn:gw.example.org\"\n"
    << "auth = \"psk\"\nlog_level = \"debug\"\n"
    << "\n[tia_pool]\nrange = \"" << kInteropPool << "\"\n"
    << "\n[intranet]\nprefixes = [\"" << kInteropIntranet << "\"]\n"
    << "\n[[peer]]\nid = \"email:client@example.org\"\npsk = \"" << Hex(kPsk) << "\"\n";
  if (with_bob) {
    g << "\n[[peer]]\nid = \"email:bob@example.org\"\npsk = \"" << Hex(kBobPsk) << "\"\n";
  }
  g << extra_peer;
  return g.str();
}

void Rewrite(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::trunc);
  f << text;
}

// SIGHUP to the gateway; true once one more `marker` line is in its log.
bool Hup(MipsecProcess& gw, const std::string& marker) {
  const std::size_t before = gw.Count(marker);
  if (kill(gw.pid(), SIGHUP) != 0) return false;
  return gw.WaitForLog(marker, static_cast<int>(before) + 1, Duration::Seconds(5));
}

// The "CHILD SA <in>/<out>" SPI pairs in a log, in order.
std::vector<std::string> ChildSpis(const std::string& log) {
  std::vector<std::string> out;
  static const std::regex re("CHILD SA ([0-9a-f]{8}/[0-9a-f]{8})");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back((*it)[1]);
  }
  return out;
}

void StartClient(Testbed& tb, const std::string& id, const char* psk) {
  VpnSettings v;
  v.local_id = id;
  v.auth = std::string("auth = \"psk\"\npsk = \"") + Hex(psk) + "\"\n";
  auto vpn = MipsecProcess::Start(*tb.topo, "mn", {"vpn", "--no-retry"}, VpnToml(v),
                                  "initiating IKE SA");
  ASSERT_TRUE(vpn.ok()) << vpn.error().ToString();
  tb.vpn = std::move(*vpn);
  ASSERT_TRUE(tb.vpn->WaitForLog("TIA ", 1, Duration::Seconds(15)))
      << tb.vpn->Log() << tb.gw->Log();
  auto addrs = Ipv4AddressesOn(*tb.topo, "mn", "mipsecvpn0");
  ASSERT_TRUE(addrs.ok());
  ASSERT_THAT(*addrs, SizeIs(1));
  ASSERT_TRUE(Ping(*tb.topo, "mn", kInteropIntHost, 2).ok()) << tb.vpn->Log();
}

TEST(GwReload, SighupAddsAClientWhileEstablishedSasStayUp) {
  MIPSEC_REQUIRE_STRONGSWAN();  // the interop topology's tools (ip, nft) and root
  Testbed tb;
  auto topo = Topology::Create(kInteropTopology);
  ASSERT_TRUE(topo.ok()) << topo.error().ToString();
  tb.topo = std::move(*topo);
  auto gw = MipsecProcess::Start(*tb.topo, "gw", {"gw"}, GwConfig(false), "tia pool");
  ASSERT_TRUE(gw.ok()) << gw.error().ToString();
  tb.gw = std::move(*gw);
  const std::string path = tb.gw->ConfigPath();

  // 1. alice up.
  ASSERT_NO_FATAL_FAILURE(StartClient(tb, "email:client@example.org", kPsk));
  const std::vector<std::string> spis_before = ChildSpis(tb.gw->Log());
  ASSERT_THAT(spis_before, Not(::testing::IsEmpty())) << tb.gw->Log();
  const std::size_t ike_up_before = tb.gw->Count(" up ");

  // 2. bob added: alice's SAs untouched.
  Rewrite(path, GwConfig(true));
  ASSERT_TRUE(Hup(*tb.gw, "reloaded " + path)) << tb.gw->Log();
  EXPECT_THAT(tb.gw->Log(), HasSubstr("reloaded " + path + ": 1 client added (1 IKE SAs kept)"));
  ASSERT_TRUE(Ping(*tb.topo, "mn", kInteropIntHost, 2).ok()) << tb.vpn->Log();
  EXPECT_EQ(ChildSpis(tb.gw->Log()), spis_before) << "same CHILD SA, no new one\n" << tb.gw->Log();
  EXPECT_EQ(tb.gw->Count(" up "), ike_up_before);
  EXPECT_EQ(tb.gw->Count(" down"), 0u) << tb.gw->Log();
  EXPECT_EQ(tb.vpn->Count("IKE SA down"), 0u) << tb.vpn->Log();
  EXPECT_EQ(tb.vpn->Count("TIA "), 1u);

  // 3. A broken file: an error with file:line: key, nothing applied.
  Rewrite(path, GwConfig(true, "\n[[peer]]\nid = \"email:eve@example.org\"\npsk = \"00\"\n"));
  ASSERT_TRUE(Hup(*tb.gw, "reload failed")) << tb.gw->Log();
  EXPECT_THAT(tb.gw->Log(), HasSubstr(path + ":23: peer[2].psk")) << tb.gw->Log();
  ASSERT_TRUE(tb.gw->Running());
  ASSERT_TRUE(Ping(*tb.topo, "mn", kInteropIntHost, 1).ok());

  // 4. alice leaves; bob (known only since the reload) connects.
  ExecResult a = tb.vpn->Terminate();
  EXPECT_EQ(a.exit_code, 0) << a.Describe();
  ASSERT_TRUE(tb.gw->WaitForLog(" down", 1, Duration::Seconds(5))) << tb.gw->Log();
  tb.vpn.reset();
  ASSERT_NO_FATAL_FAILURE(StartClient(tb, "email:bob@example.org", kBobPsk));

  // 5. SIGTERM on the gateway: bob's IKE SA deleted (the client is told).
  ExecResult g = tb.gw->Terminate();
  EXPECT_TRUE(g.Success()) << g.Describe();
  ExecResult v = tb.vpn->WaitExit(Duration::Seconds(10));
  EXPECT_EQ(v.exit_code, 1) << v.Describe() << "\n" << tb.vpn->Log();
  EXPECT_THAT(tb.vpn->Log(), HasSubstr("IKE SA down"));
  for (const char* k : {kPsk, kBobPsk}) {
    EXPECT_THAT(tb.gw->Log(), Not(HasSubstr(Hex(k))));
  }
  if (std::getenv("MIPSEC_SHOW_LOG") != nullptr) std::cerr << tb.gw->Log();
}

}  // namespace
}  // namespace mipsec::testing
