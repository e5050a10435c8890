// `mipsec vpn` (our IKEv2 initiator, the real binary in the mn namespace)
// against real strongSwan 5.9.8 as the VPN gateway (charon with
// kernel-libipsec in the gw namespace), and against `mipsec gw`, on
// testing/strongswan's kInteropTopology:
//
//   mn a0 198.51.100.10 -- ext (router; NAPT for link C) -- 203.0.113.2 gw ext0
//   gw int0 192.0.2.1/25 -- int eth0 192.0.2.10   (the intranet)
//   TIA pool 192.0.2.128/25 (strongSwan's pool, or ours)
//
// Every address is inside the namespaces the test creates; the topology,
// charon and the mipsec processes are always torn down.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "scenarios/ikev2/interop_configs.h"
#include "scenarios/ikev2/mipsec_process.h"
#include "lab/netns/exec.h"
#include "lab/netns/topology.h"
#include "testing/strongswan/interop_net.h"
#include "testing/strongswan/require_strongswan.h"
#include "lab/strongswan/strongswan_peer.h"
#include "testing/lab_names.h"
#include "testing/strongswan/test_pki.h"

namespace mipsec::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

// Topology, then the gateway (charon or mipsec gw), then mipsec vpn:
// destroyed in reverse order.
struct Testbed {
  std::unique_ptr<Topology> topo;
  std::unique_ptr<StrongswanPeer> swan_gw;
  std::unique_ptr<MipsecProcess> our_gw;
  std::unique_ptr<MipsecProcess> vpn;
  ~Testbed() {
    vpn.reset();
    our_gw.reset();
    swan_gw.reset();
    topo.reset();
  }
};

void StartTopology(Testbed& tb, char mn_link) {
  auto topo = Topology::Create(kInteropTopology);
  ASSERT_TRUE(topo.ok()) << topo.error().ToString();
  tb.topo = std::move(*topo);
  if (mn_link != 'A') {
    ASSERT_TRUE(MoveInteropMn(*tb.topo, mn_link).ok());
  }
}

// Starts `mipsec vpn` and waits for its TIA.
void StartVpn(Testbed& tb, const std::string& toml, std::string* vip) {
  auto vpn = MipsecProcess::Start(*tb.topo, "mn", {"vpn"}, toml, "initiating IKE SA");
  ASSERT_TRUE(vpn.ok()) << vpn.error().ToString();
  tb.vpn = std::move(*vpn);
  ASSERT_TRUE(tb.vpn->WaitForLog("TIA ", 1, Duration::Seconds(15)))
      << tb.vpn->Log() << (tb.swan_gw ? tb.swan_gw->LogTail(40) : "");
  auto addrs = Ipv4AddressesOn(*tb.topo, "mn", "mipsecvpn0");
  ASSERT_TRUE(addrs.ok()) << addrs.error().ToString();
  ASSERT_THAT(*addrs, SizeIs(1));
  *vip = (*addrs)[0];
}

// (a) PSK, AES-GCM-16-128, x25519 against strongSwan: our client gets a TIA
// from strongSwan's pool onto its TUN, pings the intranet and is pinged
// back; SIGTERM deletes the IKE SA at the gateway and removes the TIA.
TEST(VpnInterop, PskGcmX25519AgainstStrongswanGateway) {
  MIPSEC_REQUIRE_STRONGSWAN();
  auto t0 = std::chrono::steady_clock::now();
  Testbed tb;
  ASSERT_NO_FATAL_FAILURE(StartTopology(tb, 'A'));
  auto gw = StrongswanPeer::Start(*tb.topo, "gw", SwanGateway());
  ASSERT_TRUE(gw.ok()) << gw.error().ToString();
  tb.swan_gw = std::move(*gw);
  std::string vip;
  ASSERT_NO_FATAL_FAILURE(StartVpn(tb, VpnToml({}), &vip));
  EXPECT_TRUE(InPool(vip)) << vip;
  EXPECT_THAT(tb.vpn->Log(), HasSubstr("dns 192.0.2.53"));

  auto sa = tb.swan_gw->EstablishedSa("rw");
  ASSERT_TRUE(sa.ok()) << sa.error().ToString();
  EXPECT_EQ(sa->encr_alg, "AES_GCM_16");
  EXPECT_EQ(sa->dh_group, "CURVE_25519");
  EXPECT_EQ(sa->remote_id, "client@example.org");
  EXPECT_THAT(sa->remote_vips, ::testing::ElementsAre(vip));
  EXPECT_EQ(sa->remote_port, 4500);
  const ChildSaInfo* c = sa->InstalledChild("net");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->encap);

  ASSERT_TRUE(Ping(*tb.topo, "mn", kInteropIntHost, 3).ok()) << tb.vpn->Log();
  ASSERT_TRUE(Ping(*tb.topo, "int", vip, 2).ok());
  auto after = tb.swan_gw->EstablishedSa("rw");
  ASSERT_TRUE(after.ok());
  ASSERT_NE(after->InstalledChild("net"), nullptr);
  EXPECT_GE(after->InstalledChild("net")->packets_in, 5u);
  EXPECT_GE(after->InstalledChild("net")->packets_out, 5u);
  EXPECT_THAT(tb.vpn->Counters(), HasSubstr("tia " + vip));
  EXPECT_THAT(tb.vpn->Log(), ::testing::Not(HasSubstr("SK_")));

  ExecResult r = tb.vpn->Terminate();
  EXPECT_TRUE(r.Success()) << r.Describe() << "\n" << tb.vpn->Log();
  auto gone = tb.swan_gw->WaitForSa("rw", [](const IkeSaInfo&) { return false; },
                                    Duration::Millis(1));
  (void)gone;
  auto left = tb.swan_gw->ListSas("rw");
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty()) << "strongSwan still has the IKE SA after our Delete";
  auto link = tb.topo->Exec("mn", {"ip", "link", "show", "mipsecvpn0"});
  ASSERT_TRUE(link.ok());
  EXPECT_NE(link->exit_code, 0) << "the TUN outlived mipsec vpn";
  std::cout << "[ timing ] VpnPskGcm body " << SecondsSince(t0) << " s\n";
}

// (b) The client behind ext's NAPT (link C) with RSA-2048 certificates,
// AES-256-CBC + HMAC-SHA-256 and MODP-2048 for IKE, AES-128-CBC +
// HMAC-SHA-256 for ESP. During a ping flood our client rekeys the CHILD SA
// (every ~2 s) and the IKE SA (~4 s), and strongSwan rekeys the CHILD SA
// and the IKE SA once each: no ping is lost.
TEST(VpnInterop, NaptRsaModp2048CbcRekeysFromBothEndsLoseNothing) {
  MIPSEC_REQUIRE_STRONGSWAN();
  MIPSEC_REQUIRE_PKI();
  auto t0 = std::chrono::steady_clock::now();
  auto pki = TestPki::Create(SwanKeyType::kRsa2048);
  ASSERT_TRUE(pki.ok()) << pki.error().ToString();
  auto gw_cert = (*pki)->Issue("gw", "gw.example.org", SwanKeyType::kRsa2048);
  auto mn_cert = (*pki)->Issue("mn", "client.example.org", SwanKeyType::kRsa2048);
  ASSERT_TRUE(gw_cert.ok() && mn_cert.ok());

  Testbed tb;
  ASSERT_NO_FATAL_FAILURE(StartTopology(tb, 'C'));
  StrongswanConfig swan = SwanGateway("aes256-sha256-modp2048", "aes128-sha256");
  SwanConnection& rw = swan.connections[0];
  rw.local = {SwanAuth::kPubkey, gw_cert->id, gw_cert->cert, gw_cert->key, ""};
  rw.remote = {SwanAuth::kPubkey, "%any", "", "", (*pki)->ca_cert()};
  rw.psk.clear();
  auto gw = StrongswanPeer::Start(*tb.topo, "gw", swan);
  ASSERT_TRUE(gw.ok()) << gw.error().ToString();
  tb.swan_gw = std::move(*gw);

  VpnSettings vs;
  vs.ike_proposals = "aes256-sha256-modp2048";
  vs.esp_proposals = "aes128-sha256";
  vs.local_id = "fqdn:client.example.org";
  vs.auth = "auth = \"cert\"\ncertificate = \"" + mn_cert->cert + "\"\nprivate_key = \"" +
            mn_cert->key + "\"\nca = \"" + (*pki)->ca_cert() + "\"\n";
  vs.extra =
      "child_soft_lifetime = \"2s\"\nchild_hard_lifetime = \"60s\"\n"
      "ike_soft_lifetime = \"4s\"\nike_hard_lifetime = \"60s\"\n";
  std::string vip;
  ASSERT_NO_FATAL_FAILURE(StartVpn(tb, VpnToml(vs), &vip));

  auto sa = tb.swan_gw->EstablishedSa("rw");
  ASSERT_TRUE(sa.ok()) << sa.error().ToString();
  EXPECT_EQ(sa->encr_alg, "AES_CBC");
  EXPECT_EQ(sa->encr_keysize, 256);
  EXPECT_EQ(sa->dh_group, "MODP_2048");
  EXPECT_TRUE(sa->nat_remote) << "strongSwan must see the client behind the NAT";
  EXPECT_EQ(sa->remote_host, kInteropExtWan);
  EXPECT_GE(tb.swan_gw->CountLog(std::regex("authentication of 'client\\.example\\.org' with "
                                            "RSA.*successful")),
            1)
      << tb.swan_gw->LogTail(40);

  auto pings = StartPings(*tb.topo, "mn", kInteropIntHost, 600);
  ASSERT_NE(pings, nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  ASSERT_TRUE(tb.swan_gw->RekeyChild("net").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_TRUE(tb.swan_gw->RekeyIke("rw").ok());
  auto res = pings->Wait(Duration::Seconds(20));
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(Received(*res), 600) << res->out << tb.vpn->Log();
  // Ours (soft lifetimes) and strongSwan's (commands) both happened.
  EXPECT_GE(tb.vpn->Count("rekey"), 3u);
  EXPECT_GE(tb.swan_gw->ChildRekeys("net"), 3) << tb.swan_gw->LogTail(60);
  EXPECT_GE(tb.swan_gw->IkeRekeys("rw"), 2) << tb.swan_gw->LogTail(60);
  ASSERT_TRUE(Ping(*tb.topo, "int", vip, 1).ok());
  EXPECT_THAT(tb.vpn->Counters(), HasSubstr("install_errors 0"));
  std::cout << "[ timing ] VpnNaptRsaRekeys body " << SecondsSince(t0) << " s\n";
}

// (c) Our client against our gateway (its key from a [[peer]] entry): TIA,
// pings both ways, and the gateway's SIGTERM Delete makes the client drop
// the TIA and (with --no-retry) exit 1 naming the reason.
TEST(VpnInterop, AgainstMipsecGw) {
  MIPSEC_REQUIRE_STRONGSWAN();  // the same tools (ip, nft) and root
  auto t0 = std::chrono::steady_clock::now();
  Testbed tb;
  ASSERT_NO_FATAL_FAILURE(StartTopology(tb, 'A'));
  std::ostringstream g;
  g << "[gateway]\nlisten = \"" << kInteropGwExt << "\"\nlocal_id = \"fqdn:gw.example.org\"\n"
    << "auth = \"psk\"\nlog_level = \"debug\"\n"
    << "\n[tia_pool]\nrange = \"" << kInteropPool << "\"\n"
    << "\n[intranet]\nprefixes = [\"" << kInteropIntranet << "\"]\n"
    << "\n[[peer]]\nid = \"email:client@example.org\"\npsk = \"" << Hex(kPsk) << "\"\n";
  auto gw = MipsecProcess::Start(*tb.topo, "gw", {"gw"}, g.str(), "tia pool");
  ASSERT_TRUE(gw.ok()) << gw.error().ToString();
  tb.our_gw = std::move(*gw);
  auto vpn = MipsecProcess::Start(*tb.topo, "mn", {"vpn", "--no-retry"}, VpnToml({}),
                                  "initiating IKE SA");
  ASSERT_TRUE(vpn.ok()) << vpn.error().ToString();
  tb.vpn = std::move(*vpn);
  ASSERT_TRUE(tb.vpn->WaitForLog("TIA ", 1, Duration::Seconds(15)))
      << tb.vpn->Log() << tb.our_gw->Log();
  auto addrs = Ipv4AddressesOn(*tb.topo, "mn", "mipsecvpn0");
  ASSERT_TRUE(addrs.ok());
  ASSERT_THAT(*addrs, SizeIs(1));
  const std::string vip = (*addrs)[0];
  EXPECT_TRUE(InPool(vip)) << vip;
  ASSERT_TRUE(Ping(*tb.topo, "mn", kInteropIntHost, 3).ok()) << tb.vpn->Log();
  ASSERT_TRUE(Ping(*tb.topo, "int", vip, 2).ok());
  EXPECT_THAT(tb.our_gw->Counters(), HasSubstr("tia in_use 1"));

  // `mipsec ctl sas` on the gateway's control socket (the real binary):
  // the IKE SA with the client's identity, MOBIKE, the TIA, and its CHILD
  // SA with SPIs in hex, selectors and the pings counted; no key anywhere.
  {
    auto ctl = [&](const std::string& args) {
      const std::string cmd = std::string(MIPSEC_BINARY) + " ctl --socket " +
                              tb.our_gw->control_socket() + " " + args + " 2>&1";
      std::string out;
      FILE* p = popen(cmd.c_str(), "r");
      if (p == nullptr) return std::make_pair(-1, out);
      char buf[4096];
      std::size_t n;
      while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
      const int st = pclose(p);
      return std::make_pair(WIFEXITED(st) ? WEXITSTATUS(st) : -1, out);
    };
    auto [code, js] = ctl("--json sas");
    ASSERT_EQ(code, 0) << js;
    auto j = nlohmann::json::parse(js, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << js;
    ASSERT_EQ(j["data"]["ike_sas"], 1) << js;
    const auto& ike = j["data"]["sas"][0];
    EXPECT_EQ(ike["state"], "ESTABLISHED") << js;
    EXPECT_EQ(ike["remote_id"], "email:client@example.org") << js;
    EXPECT_EQ(ike["tia"], vip) << js;
    EXPECT_EQ(ike["mobike"], true) << js;
    EXPECT_EQ(ike["initiator"], false) << js;
    EXPECT_EQ(ike["spi_i"].get<std::string>().size(), 16u) << js;
    EXPECT_EQ(ike["local"], std::string(kInteropGwExt) + ":4500") << js;
    ASSERT_EQ(ike["child_sas"].size(), 1u) << js;
    const auto& child = ike["child_sas"][0];
    EXPECT_EQ(child["spi_in"].get<std::string>().size(), 8u) << js;
    EXPECT_EQ(child["state"], "INSTALLED") << js;
    EXPECT_EQ(child["remote_ts"], nlohmann::json::array({vip + "/32"})) << js;
    ASSERT_TRUE(child["packets_in"].is_number()) << js;
    EXPECT_GE(child["packets_in"].get<int>(), 5) << js;   // 3 echo requests + 2 replies
    EXPECT_GE(child["packets_out"].get<int>(), 5) << js;
    EXPECT_GT(child["bytes_in"].get<int>(), 0) << js;
    auto [hcode, human] = ctl("sas");
    EXPECT_EQ(hcode, 0) << human;
    EXPECT_THAT(human, HasSubstr("email:client@example.org"));
    EXPECT_THAT(human, HasSubstr("#1: ESTABLISHED, responder, SPIs "));
    EXPECT_THAT(human, HasSubstr("MOBIKE, TIA " + vip + "\n"));
    EXPECT_THAT(human, HasSubstr("  child: INSTALLED, "));
    for (const char* cmd : {"status", "sas", "counters", "help"}) {
      for (const char* fmt : {"", "--json "}) {
        auto [c, out] = ctl(std::string(fmt) + cmd);
        EXPECT_EQ(c, 0) << cmd << ": " << out;
        std::string psk_hex = Hex(kPsk);
        EXPECT_EQ(out.find(psk_hex), std::string::npos) << cmd;
        EXPECT_EQ(out.find(psk_hex.substr(0, 12)), std::string::npos) << cmd;
      }
    }
  }

  ExecResult r = tb.our_gw->Terminate();
  EXPECT_TRUE(r.Success()) << r.Describe();
  // --no-retry: the client exits by itself (status 1) once the IKE SA is down.
  ExecResult v = tb.vpn->WaitExit(Duration::Seconds(10));
  EXPECT_EQ(v.exit_code, 1) << v.Describe() << "\n" << tb.vpn->Log();
  EXPECT_THAT(tb.vpn->Log(), HasSubstr("IKE SA down"));
  EXPECT_THAT(tb.vpn->Log(), HasSubstr("mipsec vpn: "));
  std::cout << "[ timing ] VpnAgainstMipsecGw body " << SecondsSince(t0) << " s\n";
}

// (d) `mipsec bench ike` (the set-up load generator of BENCHMARKS.md)
// against mipsec gw for one second: set-ups complete, none fails, the JSON
// report is well-formed, and the gateway is left with no IKE SA.
TEST(VpnInterop, BenchIkeAgainstMipsecGw) {
  MIPSEC_REQUIRE_STRONGSWAN();
  Testbed tb;
  ASSERT_NO_FATAL_FAILURE(StartTopology(tb, 'A'));
  std::ostringstream g;
  g << "[gateway]\nlisten = \"" << kInteropGwExt << "\"\nlocal_id = \"fqdn:gw.example.org\"\n"
    << "auth = \"psk\"\npsk = \"" << Hex(kPsk) << "\"\ncookie_threshold = 1000\n"
    << "\n[tia_pool]\nrange = \"" << kInteropPool << "\"\n"
    << "\n[intranet]\nprefixes = [\"" << kInteropIntranet << "\"]\n";
  auto gw = MipsecProcess::Start(*tb.topo, "gw", {"gw"}, g.str(), "tia pool");
  ASSERT_TRUE(gw.ok()) << gw.error().ToString();
  tb.our_gw = std::move(*gw);
  const std::string vpn = tb.our_gw->dir() + "/load.toml";
  std::ofstream(vpn) << VpnToml({});
  auto r = tb.topo->Exec("mn",
                         {MIPSEC_BINARY, "bench", "ike", "--config", vpn, "--json",
                          "--concurrency", "4", "--duration", "1s", "--warmup", "0s"},
                         Duration::Seconds(30));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->exit_code, 0) << r->Describe() << r->out << r->err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r->out, m, std::regex("\"established\": ([0-9]+)"))) << r->out;
  EXPECT_GT(std::stoi(m[1].str()), 10) << r->out;
  EXPECT_THAT(r->out, HasSubstr("\"failed\": 0"));
  // Every IKE SA was deleted again (the deletes in flight at the end
  // finish within the gateway's DPD-free grace).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_THAT(tb.our_gw->Counters(), HasSubstr("tia in_use 0")) << tb.our_gw->Log();
}

}  // namespace
}  // namespace mipsec::testing
