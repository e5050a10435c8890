// `mipsec gw` (the real binary, in the gw namespace) against real strongSwan
// 5.9.8 as the VPN client (charon with kernel-libipsec in the mn namespace),
// on testing/strongswan's kInteropTopology:
//
//   mn a0 198.51.100.10 -- ext (router; NAPT for link C) -- 203.0.113.2 gw ext0
//   gw int0 192.0.2.1/25 -- int eth0 192.0.2.10   (the intranet)
//   TIA pool 192.0.2.128/25, routed by the gw into its TUN
//
// Every address is inside the namespaces the test creates; the topology,
// charon and the gw process are always torn down.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
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

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

// Topology, then the gw, then charon: destroyed in reverse order.
struct Testbed {
  std::unique_ptr<Topology> topo;
  std::unique_ptr<MipsecProcess> gw;
  std::unique_ptr<StrongswanPeer> mn;
  ~Testbed() {
    mn.reset();
    gw.reset();
    topo.reset();
  }
};

void Start(Testbed& tb, const std::string& gw_toml, const StrongswanConfig& mn_cfg,
           char mn_link = 'A') {
  auto topo = Topology::Create(kInteropTopology);
  ASSERT_TRUE(topo.ok()) << topo.error().ToString();
  tb.topo = std::move(*topo);
  if (mn_link != 'A') {
    ASSERT_TRUE(MoveInteropMn(*tb.topo, mn_link).ok());
  }
  auto gw = MipsecProcess::Start(*tb.topo, "gw", {"gw"}, gw_toml, "tia pool");
  ASSERT_TRUE(gw.ok()) << gw.error().ToString();
  tb.gw = std::move(*gw);
  auto mn = StrongswanPeer::Start(*tb.topo, "mn", mn_cfg);
  ASSERT_TRUE(mn.ok()) << mn.error().ToString();
  tb.mn = std::move(*mn);
}

// (a) PSK, AES-GCM-16-128, x25519: strongSwan gets a TIA from our pool
// (with the DNS server), pings the intranet host and is pinged back; SIGUSR1
// counters; SIGTERM deletes the IKE SA at the client and exits 0.
TEST(GwInterop, PskGcmX25519ClientGetsTiaAndReachesIntranet) {
  MIPSEC_REQUIRE_STRONGSWAN();
  auto t0 = std::chrono::steady_clock::now();
  Testbed tb;
  ASSERT_NO_FATAL_FAILURE(Start(tb, GwToml({}), ClientConfig()));
  EXPECT_FALSE(Ping(*tb.topo, "mn", kInteropIntHost, 1).ok()) << "no tunnel yet";

  ASSERT_TRUE(tb.mn->Initiate("home").ok()) << tb.gw->Log();
  auto sa = tb.mn->EstablishedSa("home");
  ASSERT_TRUE(sa.ok()) << sa.error().ToString();
  EXPECT_EQ(sa->encr_alg, "AES_GCM_16");
  EXPECT_EQ(sa->encr_keysize, 128);
  EXPECT_EQ(sa->dh_group, "CURVE_25519");
  EXPECT_EQ(sa->remote_id, "gw.example.org");
  EXPECT_EQ(sa->remote_port, 4500);
  ASSERT_THAT(sa->local_vips, SizeIs(1));
  const std::string vip = sa->local_vips[0];
  EXPECT_TRUE(InPool(vip)) << vip;
  const ChildSaInfo* c = sa->InstalledChild("home");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->encap);
  EXPECT_THAT(c->local_ts, ElementsAre(vip + "/32"));
  EXPECT_THAT(c->remote_ts, ElementsAre(kInteropIntranet));
  // The DNS server from the pool reached the client.
  EXPECT_GE(tb.mn->CountLog(std::regex("processing INTERNAL_IP4_DNS attribute")), 1)
      << tb.mn->LogTail(40);

  // Traffic both ways.
  ASSERT_TRUE(Ping(*tb.topo, "mn", kInteropIntHost, 3).ok()) << tb.gw->Log();
  ASSERT_TRUE(Ping(*tb.topo, "int", vip, 2).ok());
  auto after = tb.mn->EstablishedSa("home");
  ASSERT_TRUE(after.ok());
  const ChildSaInfo* c2 = after->InstalledChild("home");
  ASSERT_NE(c2, nullptr);
  EXPECT_GE(c2->packets_out, 5u);
  EXPECT_GE(c2->packets_in, 5u);

  std::string counters = tb.gw->Counters();
  EXPECT_THAT(counters, HasSubstr("ike_up 1"));
  EXPECT_THAT(counters, HasSubstr("tia in_use 1"));
  // The gw log carries no key material (spot check: no "key" dumps).
  EXPECT_THAT(tb.gw->Log(), ::testing::Not(HasSubstr("SK_")));

  // SIGTERM: the gw deletes the IKE SA at the client and exits 0.
  ExecResult r = tb.gw->Terminate();
  EXPECT_TRUE(r.Success()) << r.Describe() << "\n" << tb.gw->Log();
  auto gone = tb.mn->WaitForSa("home", [](const IkeSaInfo&) { return false; },
                               Duration::Millis(1));
  (void)gone;
  auto left = tb.mn->ListSas("home");
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty()) << "the client still has the IKE SA after the gw's Delete";
  // The TUN and the pool route are gone with the daemon.
  auto link = tb.topo->Exec("gw", {"ip", "link", "show", "mipsecgw0"});
  ASSERT_TRUE(link.ok());
  EXPECT_NE(link->exit_code, 0);
  std::cout << "[ timing ] PskGcmX25519 body " << SecondsSince(t0) << " s\n";
}

// (b) The client behind ext's NAPT (link C): NAT-T, IKE and ESP-in-UDP on
// 4500 through the NAT, pings both ways. The gw has no shared PSK here, only
// [[peer]] keys: the client's is found by its IDi (RFC 7296 2.15).
TEST(GwInterop, ThroughNaptNatTraversal) {
  MIPSEC_REQUIRE_STRONGSWAN();
  auto t0 = std::chrono::steady_clock::now();
  GwSettings gs;
  gs.auth = "auth = \"psk\"\n";
  gs.extra = std::string("\n[[peer]]\nid = \"other@example.org\"\npsk = \"") +
             Hex("the key of someone else") + "\"\n[[peer]]\nid = \"client@example.org\"\npsk = \"" +
             Hex(kPsk) + "\"\n";
  Testbed tb;
  ASSERT_NO_FATAL_FAILURE(Start(tb, GwToml(gs), ClientConfig(), 'C'));
  ASSERT_TRUE(tb.mn->Initiate("home").ok()) << tb.gw->Log();
  auto sa = tb.mn->EstablishedSa("home");
  ASSERT_TRUE(sa.ok()) << sa.error().ToString();
  EXPECT_EQ(sa->local_host, "10.77.0.10");
  EXPECT_TRUE(sa->nat_local) << "the client must see our NAT detection say it is behind a NAT";
  EXPECT_EQ(sa->local_port, 4500);
  EXPECT_EQ(sa->remote_port, 4500);
  ASSERT_THAT(sa->local_vips, SizeIs(1));
  const std::string vip = sa->local_vips[0];
  ASSERT_TRUE(Ping(*tb.topo, "mn", kInteropIntHost, 3).ok()) << tb.gw->Log();
  ASSERT_TRUE(Ping(*tb.topo, "int", vip, 1).ok());
  // The gw saw the client from the NAT's outside address.
  EXPECT_THAT(tb.gw->Log(), HasSubstr(std::string("<-> ") + kInteropExtWan + ":"));
  auto nft = tb.topo->Exec("ext", {"nft", "list", "chain", "ip", "swnat", "post"});
  ASSERT_TRUE(nft.ok() && nft->Success());
  EXPECT_THAT(nft->out, ::testing::Not(HasSubstr("counter packets 0 ")));
  std::cout << "[ timing ] ThroughNapt body " << SecondsSince(t0) << " s\n";
}


// (c) RFC 5265 4.2 policy: [policy] with the i-HA 192.0.2.10 (UDP 434 and
// IP-in-IP always allowed) and one extra rule (ICMP to the i-HA). From the
// client's TIA: UDP 434 and ping to the i-HA pass; UDP 435 to it and a ping
// to another intranet address (the gw's own 192.0.2.1) are dropped and
// counted; the nft table is gone after the gw exits.
TEST(GwInterop, Rfc5265PolicyAllowsOnlyIhaTraffic) {
  MIPSEC_REQUIRE_STRONGSWAN();
  auto t0 = std::chrono::steady_clock::now();
  GwSettings gs;
  gs.extra = std::string("\n[policy]\ni_ha = \"") + kInteropIntHost +
             "\"\n[[policy.allow]]\nproto = \"icmp\"\nprefix = \"" + kInteropIntHost +
             "/32\"\n";
  Testbed tb;
  ASSERT_NO_FATAL_FAILURE(Start(tb, GwToml(gs), ClientConfig()));
  ASSERT_TRUE(tb.mn->Initiate("home").ok()) << tb.gw->Log();
  auto sa = tb.mn->EstablishedSa("home");
  ASSERT_TRUE(sa.ok()) << sa.error().ToString();
  ASSERT_THAT(sa->local_vips, SizeIs(1));
  const std::string vip = sa->local_vips[0];

  ASSERT_TRUE(Ping(*tb.topo, "mn", kInteropIntHost, 2).ok()) << tb.gw->Log();
  EXPECT_FALSE(Ping(*tb.topo, "mn", kInteropGwInt, 1).ok()) << "not in the allow list";

  // A UDP receiver on 434 and 435 at the i-HA, then one datagram to each.
  auto rx = SpawnInNetns(
      tb.topo->NsFd("int"),
      {"python3", "-c",
       "import select,socket\n"
       "ss=[]\n"
       "for p in (434,435):\n"
       "  s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('0.0.0.0',p)); ss.append(s)\n"
       "print('ready',flush=True)\n"
       "import time\n"
       "end=time.time()+4\n"
       "while time.time()<end:\n"
       "  r,_,_=select.select(ss,[],[],0.2)\n"
       "  for s in r:\n"
       "    d,a=s.recvfrom(100); print('got',s.getsockname()[1],a[0],flush=True)\n"});
  ASSERT_TRUE(rx.ok()) << rx.error().ToString();
  for (int i = 0; i < 500 && (*rx)->Stdout().find("ready") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_THAT((*rx)->Stdout(), HasSubstr("ready")) << (*rx)->Stderr();
  auto tx = tb.topo->Exec(
      "mn", {"python3", "-c",
             std::string("import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                         "for p in (434,435,434): s.sendto(b'reg',('") +
                 kInteropIntHost + "',p))\n"});
  ASSERT_TRUE(tx.ok() && tx->Success()) << (tx.ok() ? tx->err : tx.error().ToString());
  auto done = (*rx)->Wait(Duration::Seconds(15));
  ASSERT_TRUE(done.ok());
  EXPECT_THAT(done->out, HasSubstr("got 434 " + vip)) << done->out << done->err;
  EXPECT_THAT(done->out, ::testing::Not(HasSubstr("got 435"))) << done->out;

  const std::string counters = tb.gw->Counters();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(counters, m, std::regex("policy_drops ([0-9]+)"))) << counters;
  EXPECT_GE(std::stoi(m[1].str()), 2) << counters;  // the ping and UDP 435
  auto table = tb.topo->Exec("gw", {"nft", "list", "table", "ip", "mipsec_mipsecgw0"});
  ASSERT_TRUE(table.ok());
  EXPECT_TRUE(table->Success()) << table->err;
  ExecResult r = tb.gw->Terminate();
  EXPECT_TRUE(r.Success()) << r.Describe();
  table = tb.topo->Exec("gw", {"nft", "list", "table", "ip", "mipsec_mipsecgw0"});
  ASSERT_TRUE(table.ok());
  EXPECT_FALSE(table->Success()) << "the policy table must be removed at exit";
  std::cout << "[ timing ] Rfc5265Policy body " << SecondsSince(t0) << " s\n";
}

// (d) strongSwan rekeys the CHILD SA (we answer: the new outbound SA is used
// once strongSwan deletes the old one) and then the IKE SA, during a ping
// flood: no ping is lost and the tunnel keeps working.
TEST(GwInterop, PeerInitiatedChildAndIkeRekeyUnderTrafficLoseNothing) {
  MIPSEC_REQUIRE_STRONGSWAN();
  auto t0 = std::chrono::steady_clock::now();
  Testbed tb;
  ASSERT_NO_FATAL_FAILURE(Start(tb, GwToml({}), ClientConfig()));
  ASSERT_TRUE(tb.mn->Initiate("home").ok()) << tb.gw->Log();
  ASSERT_TRUE(Ping(*tb.topo, "mn", kInteropIntHost, 1).ok());
  auto pings = StartPings(*tb.topo, "mn", kInteropIntHost, 300);
  ASSERT_NE(pings, nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_TRUE(tb.mn->RekeyChild("home").ok());
  // Generous waits: on a loaded machine charon took over 5 s to send its
  // Delete of the old CHILD SA.
  ASSERT_TRUE(tb.gw->WaitForLog("(rekey, outbound after the old SA's delete)", 1,
                                Duration::Seconds(15)))
      << tb.gw->Log();
  ASSERT_TRUE(tb.gw->WaitForLog("down: rekeyed", 1, Duration::Seconds(15))) << tb.gw->Log();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_TRUE(tb.mn->RekeyIke("home").ok());
  auto ike = tb.mn->WaitForLog(std::regex("IKE_SA home\\[\\d+\\] rekeyed"), 1,
                               Duration::Seconds(15));
  ASSERT_TRUE(ike.ok()) << tb.mn->LogTail(40) << tb.gw->Log();
  auto res = pings->Wait(Duration::Seconds(15));
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(Received(*res), 300) << res->out;
  EXPECT_EQ(tb.mn->ChildRekeys("home"), 1);
  EXPECT_EQ(tb.mn->IkeRekeys("home"), 1);
  ASSERT_TRUE(Ping(*tb.topo, "mn", kInteropIntHost, 2).ok());
  const std::string counters = tb.gw->Counters();
  EXPECT_THAT(counters, HasSubstr("children 1 "));
  EXPECT_THAT(counters, HasSubstr("install_errors 0"));
  std::cout << "[ timing ] PeerInitiatedRekeys body " << SecondsSince(t0) << " s\n";
}

// (e) The gateway rekeys (short soft lifetimes): CHILD SA every ~2 s and
// the IKE SA after ~4 s, during a ping flood, AES-CBC-128 + HMAC-SHA-256
// with ECP-256 — no ping lost.
TEST(GwInterop, GatewayInitiatedRekeysUnderTrafficCbcEcp256) {
  MIPSEC_REQUIRE_STRONGSWAN();
  auto t0 = std::chrono::steady_clock::now();
  GwSettings gs;
  gs.ike_proposals = "aes128-sha256-ecp256";
  gs.esp_proposals = "aes128-sha256";
  gs.lifetimes =
      "child_soft_lifetime = \"2s\"\nchild_hard_lifetime = \"60s\"\n"
      "ike_soft_lifetime = \"4s\"\nike_hard_lifetime = \"60s\"\n";
  Testbed tb;
  ASSERT_NO_FATAL_FAILURE(Start(tb, GwToml(gs),
                                ClientConfig("aes128-sha256-ecp256", "aes128-sha256")));
  ASSERT_TRUE(tb.mn->Initiate("home").ok()) << tb.gw->Log();
  auto sa = tb.mn->EstablishedSa("home");
  ASSERT_TRUE(sa.ok());
  EXPECT_EQ(sa->encr_alg, "AES_CBC");
  EXPECT_EQ(sa->dh_group, "ECP_256");
  auto pings = StartPings(*tb.topo, "mn", kInteropIntHost, 500);
  ASSERT_NE(pings, nullptr);
  auto res = pings->Wait(Duration::Seconds(20));
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(Received(*res), 500) << res->out;
  EXPECT_GE(tb.mn->ChildRekeys("home"), 2) << tb.mn->LogTail(60);
  EXPECT_GE(tb.mn->IkeRekeys("home"), 1) << tb.mn->LogTail(60);
  ASSERT_TRUE(Ping(*tb.topo, "mn", kInteropIntHost, 1).ok());
  EXPECT_THAT(tb.gw->Counters(), HasSubstr("install_errors 0"));
  std::cout << "[ timing ] GatewayInitiatedRekeys body " << SecondsSince(t0) << " s\n";
}

// (f) Certificates: ECDSA P-256 from a test CA (strongSwan's pki), AES-256-GCM.
TEST(GwInterop, EcdsaCertificates) {
  MIPSEC_REQUIRE_STRONGSWAN();
  MIPSEC_REQUIRE_PKI();
  auto t0 = std::chrono::steady_clock::now();
  auto pki = TestPki::Create(SwanKeyType::kEcdsa256);
  ASSERT_TRUE(pki.ok()) << pki.error().ToString();
  auto gw_cert = (*pki)->Issue("gw", "gw.example.org", SwanKeyType::kEcdsa256);
  auto mn_cert = (*pki)->Issue("mn", "client.example.org", SwanKeyType::kEcdsa256);
  ASSERT_TRUE(gw_cert.ok() && mn_cert.ok());
  GwSettings gs;
  gs.auth = "auth = \"cert\"\ncertificate = \"" + gw_cert->cert + "\"\nprivate_key = \"" +
            gw_cert->key + "\"\nca = \"" + (*pki)->ca_cert() + "\"\n";
  gs.esp_proposals = "aes256gcm16";
  StrongswanConfig mn = ClientConfig("aes128gcm16-prfsha256-x25519", "aes256gcm16");
  SwanConnection& home = mn.connections[0];
  home.local = {SwanAuth::kPubkey, mn_cert->id, mn_cert->cert, mn_cert->key, ""};
  home.remote = {SwanAuth::kPubkey, "gw.example.org", "", "", (*pki)->ca_cert()};
  home.psk.clear();
  Testbed tb;
  ASSERT_NO_FATAL_FAILURE(Start(tb, GwToml(gs), mn));
  ASSERT_TRUE(tb.mn->Initiate("home").ok()) << tb.gw->Log();
  auto sa = tb.mn->EstablishedSa("home");
  ASSERT_TRUE(sa.ok()) << sa.error().ToString();
  EXPECT_GE(tb.mn->CountLog(std::regex("authentication of 'gw\\.example\\.org' with "
                                       "ECDSA.*successful")),
            1)
      << tb.mn->LogTail(40);
  const ChildSaInfo* c = sa->InstalledChild("home");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->encr_alg, "AES_GCM_16");
  EXPECT_EQ(c->encr_keysize, 256);
  ASSERT_TRUE(Ping(*tb.topo, "mn", kInteropIntHost, 2).ok()) << tb.gw->Log();
  std::cout << "[ timing ] EcdsaCertificates body " << SecondsSince(t0) << " s\n";
}

// A bad config: the error names file, line and key, exit 1, nothing opened
// (no TUN appears in the namespace).
TEST(GwInterop, BadConfigExitsOneBeforeOpeningAnything) {
  MIPSEC_REQUIRE_STRONGSWAN();
  auto topo = Topology::Create(kInteropTopology);
  ASSERT_TRUE(topo.ok()) << topo.error().ToString();
  char tmpl[] = "/tmp/mipsec-gw-bad-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  GwSettings gs;
  gs.esp_proposals = "aes128-md5";
  std::ofstream(dir + "/gw.toml") << GwToml(gs);
  auto r = (*topo)->Exec("gw", {MIPSEC_BINARY, "gw", "--config", dir + "/gw.toml",
                              "--control-socket", dir + "/gw.sock"});
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 1);
  EXPECT_THAT(r->err, HasSubstr("gw.toml:"));
  EXPECT_THAT(r->err, HasSubstr("gateway.esp_proposals"));
  auto link = (*topo)->Exec("gw", {"ip", "link", "show", "mipsecgw0"});
  ASSERT_TRUE(link.ok());
  EXPECT_NE(link->exit_code, 0);
}

}  // namespace
}  // namespace mipsec::testing
