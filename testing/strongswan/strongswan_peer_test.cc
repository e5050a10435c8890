// strongSwan on both ends, in namespaces this test creates (ROOT tests).
// Until our IKEv2 exists these prove the harness: charon as client and as
// gateway, PSK and certificates, a NAPT in between, and a MOBIKE move.
// Every address is inside the test's own namespaces.
#include "lab/strongswan/strongswan_peer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <iostream>
#include <thread>

#include "testing/strongswan/interop_net.h"
#include "testing/strongswan/require_strongswan.h"
#include "lab/strongswan/swan_files.h"
#include "testing/lab_names.h"
#include "testing/strongswan/test_pki.h"

namespace mipsec::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr const char kPsk[] = "mipsec-interop-test-psk";

// A gateway (responder) with a virtual IP pool and the intranet behind it.
StrongswanConfig GatewayConfig(std::string_view proposals = "aes128gcm16-prfsha256-x25519",
                               std::string_view esp = "aes128gcm16") {
  StrongswanConfig cfg;
  cfg.interfaces_use = "ext0";  // RFC 5266: advertise only the outside address
  SwanConnection& rw = cfg.AddConnection("rw");
  rw.local_addrs = {kInteropGwExt};
  rw.proposals = proposals;
  rw.local.id = "gw.example.org";
  rw.remote.id = "%any";
  rw.psk = kPsk;
  rw.pool_addrs = kInteropPool;
  rw.unique = "never";
  SwanChild& net = rw.AddChild("net");
  net.local_ts = {kInteropIntranet};
  net.esp_proposals = esp;
  return cfg;
}

// The mobile node / road warrior (initiator) asking for a virtual IP.
StrongswanConfig ClientConfig(std::string_view proposals = "aes128gcm16-prfsha256-x25519",
                              std::string_view esp = "aes128gcm16") {
  StrongswanConfig cfg;
  SwanConnection& home = cfg.AddConnection("home");
  home.remote_addrs = {kInteropGwExt};
  home.proposals = proposals;
  home.local.id = "client@example.org";
  home.remote.id = "gw.example.org";
  home.psk = kPsk;
  home.request_virtual_ip = true;
  SwanChild& ch = home.AddChild("home");
  ch.remote_ts = {kInteropIntranet};
  ch.esp_proposals = esp;
  return cfg;
}

bool InPool(const std::string& ip) {
  // 192.0.2.128/25
  return ip.rfind("192.0.2.", 0) == 0 && std::stoi(ip.substr(8)) >= 128;
}

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Both charons plus the topology; stops both in parallel at the end.
struct Testbed {
  std::unique_ptr<Topology> topo;
  std::unique_ptr<StrongswanPeer> gw;
  std::unique_ptr<StrongswanPeer> mn;
  ~Testbed() {
    (void)StopPeers({gw.get(), mn.get()});
    mn.reset();
    gw.reset();
  }
};

void StartBoth(Testbed& tb, const StrongswanConfig& gw_cfg, const StrongswanConfig& mn_cfg,
               char mn_link = 'A') {
  auto topo = Topology::Create(kInteropTopology);
  ASSERT_TRUE(topo.ok()) << topo.error().ToString();
  tb.topo = std::move(*topo);
  if (mn_link != 'A') {
    ASSERT_TRUE(MoveInteropMn(*tb.topo, mn_link).ok());
  }
  auto gw = StrongswanPeer::Start(*tb.topo, "gw", gw_cfg);
  ASSERT_TRUE(gw.ok()) << gw.error().ToString();
  tb.gw = std::move(*gw);
  auto mn = StrongswanPeer::Start(*tb.topo, "mn", mn_cfg);
  ASSERT_TRUE(mn.ok()) << mn.error().ToString();
  tb.mn = std::move(*mn);
}

// (1) PSK, AES-GCM-16/x25519, the client gets a virtual IP from the pool and
// reaches the intranet through the tunnel (kernel-libipsec TUN), both ways.
TEST(StrongswanInterop, PskClientGetsVirtualIpAndReachesIntranet) {
  MIPSEC_REQUIRE_STRONGSWAN();
  auto t0 = std::chrono::steady_clock::now();
  Testbed tb;
  ASSERT_NO_FATAL_FAILURE(StartBoth(tb, GatewayConfig(), ClientConfig()));
  // No tunnel yet: ext has no route to the intranet, so only the tunnel
  // can reach it, and there is no virtual IP yet.
  EXPECT_FALSE(Ping(*tb.topo, "mn", kInteropIntHost, 1).ok());
  auto before = Ipv4AddressesOn(*tb.topo, "mn", "ipsec0");
  EXPECT_TRUE(!before.ok() || before->empty());

  ASSERT_TRUE(tb.mn->Initiate("home").ok());
  auto mn_sa = tb.mn->EstablishedSa("home");
  ASSERT_TRUE(mn_sa.ok()) << mn_sa.error().ToString();
  auto gw_sa = tb.gw->EstablishedSa("rw");
  ASSERT_TRUE(gw_sa.ok()) << gw_sa.error().ToString();

  EXPECT_EQ(mn_sa->encr_alg, "AES_GCM_16");
  EXPECT_EQ(mn_sa->encr_keysize, 128);
  EXPECT_EQ(mn_sa->prf_alg, "PRF_HMAC_SHA2_256");
  EXPECT_EQ(mn_sa->dh_group, "CURVE_25519");
  EXPECT_TRUE(mn_sa->initiator);
  EXPECT_FALSE(gw_sa->initiator);
  EXPECT_EQ(mn_sa->initiator_spi, gw_sa->initiator_spi);
  EXPECT_EQ(mn_sa->responder_spi, gw_sa->responder_spi);
  EXPECT_EQ(mn_sa->local_host, "198.51.100.10");
  EXPECT_EQ(gw_sa->remote_host, "198.51.100.10");
  EXPECT_EQ(gw_sa->remote_id, "client@example.org");
  EXPECT_FALSE(mn_sa->nat_local) << "no NAT on link A";
  // kernel-libipsec fakes NAT detection, so IKE floats to 4500 anyway.
  EXPECT_EQ(mn_sa->remote_port, 4500);

  ASSERT_THAT(mn_sa->local_vips, SizeIs(1));
  const std::string vip = mn_sa->local_vips[0];
  EXPECT_TRUE(InPool(vip)) << vip;
  EXPECT_THAT(gw_sa->remote_vips, ElementsAre(vip));
  auto on_tun = Ipv4AddressesOn(*tb.topo, "mn", "ipsec0");
  ASSERT_TRUE(on_tun.ok()) << on_tun.error().ToString();
  EXPECT_THAT(*on_tun, Contains(vip));

  const ChildSaInfo* mc = mn_sa->InstalledChild("home");
  const ChildSaInfo* gc = gw_sa->InstalledChild("net");
  ASSERT_NE(mc, nullptr);
  ASSERT_NE(gc, nullptr);
  EXPECT_EQ(mc->encr_alg, "AES_GCM_16");
  EXPECT_TRUE(mc->encap);
  EXPECT_EQ(mc->spi_in, gc->spi_out);
  EXPECT_EQ(mc->spi_out, gc->spi_in);
  EXPECT_THAT(mc->local_ts, ElementsAre(vip + "/32"));
  EXPECT_THAT(mc->remote_ts, ElementsAre(kInteropIntranet));

  // Traffic both ways through the tunnel.
  ASSERT_TRUE(Ping(*tb.topo, "mn", kInteropIntHost, 3).ok());
  ASSERT_TRUE(Ping(*tb.topo, "int", vip, 2).ok());
  auto after = tb.mn->EstablishedSa("home");
  ASSERT_TRUE(after.ok());
  const ChildSaInfo* mc2 = after->InstalledChild("home");
  ASSERT_NE(mc2, nullptr);
  EXPECT_GE(mc2->packets_out, 5u);  // 3 requests + 2 replies
  EXPECT_GE(mc2->packets_in, 5u);

  // Rekeys are counted from the log.
  EXPECT_EQ(tb.mn->ChildRekeys("home"), 0);
  ASSERT_TRUE(tb.mn->RekeyChild("home").ok());
  auto rekeyed = tb.gw->WaitForLog(std::regex("outbound CHILD_SA net\\{\\d+\\} established"), 1,
                                   Duration::Seconds(5));
  ASSERT_TRUE(rekeyed.ok()) << rekeyed.error().ToString();
  EXPECT_EQ(tb.gw->ChildRekeys("net"), 1);
  ASSERT_TRUE(Ping(*tb.topo, "mn", kInteropIntHost, 1).ok());

  ASSERT_TRUE(tb.mn->TerminateIke("home").ok());
  auto gone = tb.gw->ListSas("rw");
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(gone->empty());
  EXPECT_FALSE(Ping(*tb.topo, "mn", kInteropIntHost, 1).ok()) << "tunnel is down";
  std::cout << "[ timing ] PskClientGetsVirtualIpAndReachesIntranet body " << SecondsSince(t0)
            << " s\n";
}

// (2) Certificates (ECDSA P-256 from a test CA made with pki),
// AES-256-CBC + HMAC-SHA-256 with ECP-256.
TEST(StrongswanInterop, EcdsaCertificatesAes256Sha256Ecp256) {
  MIPSEC_REQUIRE_STRONGSWAN();
  MIPSEC_REQUIRE_PKI();
  auto t0 = std::chrono::steady_clock::now();
  auto pki = TestPki::Create(SwanKeyType::kEcdsa256);
  ASSERT_TRUE(pki.ok()) << pki.error().ToString();
  auto gw_cert = (*pki)->Issue("gw", "gw.example.org", SwanKeyType::kEcdsa256);
  auto mn_cert = (*pki)->Issue("mn", "client.example.org", SwanKeyType::kEcdsa256);
  ASSERT_TRUE(gw_cert.ok() && mn_cert.ok());

  StrongswanConfig gw = GatewayConfig("aes256-sha256-ecp256", "aes256-sha256");
  SwanConnection& rw = gw.connections[0];
  rw.local = {SwanAuth::kPubkey, gw_cert->id, gw_cert->cert, gw_cert->key, ""};
  rw.remote = {SwanAuth::kPubkey, "%any", "", "", (*pki)->ca_cert()};
  rw.psk.clear();
  StrongswanConfig mn = ClientConfig("aes256-sha256-ecp256", "aes256-sha256");
  SwanConnection& home = mn.connections[0];
  home.local = {SwanAuth::kPubkey, mn_cert->id, mn_cert->cert, mn_cert->key, ""};
  home.remote = {SwanAuth::kPubkey, "gw.example.org", "", "", (*pki)->ca_cert()};
  home.psk.clear();

  Testbed tb;
  ASSERT_NO_FATAL_FAILURE(StartBoth(tb, gw, mn));
  ASSERT_TRUE(tb.mn->Initiate("home").ok());
  auto mn_sa = tb.mn->EstablishedSa("home");
  ASSERT_TRUE(mn_sa.ok()) << mn_sa.error().ToString();
  EXPECT_EQ(mn_sa->encr_alg, "AES_CBC");
  EXPECT_EQ(mn_sa->encr_keysize, 256);
  EXPECT_EQ(mn_sa->integ_alg, "HMAC_SHA2_256_128");
  EXPECT_EQ(mn_sa->prf_alg, "PRF_HMAC_SHA2_256");
  EXPECT_EQ(mn_sa->dh_group, "ECP_256");
  EXPECT_EQ(mn_sa->remote_id, "gw.example.org");
  const ChildSaInfo* c = mn_sa->InstalledChild("home");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->encr_alg, "AES_CBC");
  EXPECT_EQ(c->encr_keysize, 256);
  EXPECT_EQ(c->integ_alg, "HMAC_SHA2_256_128");
  auto gw_sa = tb.gw->EstablishedSa("rw");
  ASSERT_TRUE(gw_sa.ok());
  EXPECT_EQ(gw_sa->remote_id, "client.example.org");
  // Each side verified the other's ECDSA signature against the test CA.
  EXPECT_GE(tb.gw->CountLog(std::regex("authentication of 'client\\.example\\.org' with "
                                       "ECDSA.*successful")),
            1)
      << tb.gw->LogTail(40);
  EXPECT_GE(tb.mn->CountLog(std::regex("authentication of 'gw\\.example\\.org' with "
                                       "ECDSA.*successful")),
            1);
  ASSERT_TRUE(Ping(*tb.topo, "mn", kInteropIntHost, 2).ok());
  std::cout << "[ timing ] EcdsaCertificatesAes256Sha256Ecp256 body " << SecondsSince(t0)
            << " s\n";
}

// (3) The client behind ext's NAPT (link C): NAT detected, IKE and ESP on
// UDP 4500 through the NAT.
TEST(StrongswanInterop, ThroughNaptNatTraversal) {
  MIPSEC_REQUIRE_STRONGSWAN();
  auto t0 = std::chrono::steady_clock::now();
  Testbed tb;
  ASSERT_NO_FATAL_FAILURE(StartBoth(tb, GatewayConfig(), ClientConfig(), 'C'));
  ASSERT_TRUE(tb.mn->Initiate("home").ok());
  auto mn_sa = tb.mn->EstablishedSa("home");
  ASSERT_TRUE(mn_sa.ok()) << mn_sa.error().ToString();
  auto gw_sa = tb.gw->EstablishedSa("rw");
  ASSERT_TRUE(gw_sa.ok()) << gw_sa.error().ToString();
  EXPECT_EQ(mn_sa->local_host, "10.77.0.10");
  EXPECT_TRUE(mn_sa->nat_local) << "the client must detect that it is behind a NAT";
  EXPECT_EQ(mn_sa->local_port, 4500);
  EXPECT_EQ(mn_sa->remote_port, 4500);
  // The gateway sees the NAT's outside address.
  EXPECT_EQ(gw_sa->remote_host, kInteropExtWan);
  EXPECT_TRUE(gw_sa->nat_remote);
  EXPECT_EQ(gw_sa->local_port, 4500);
  ASSERT_THAT(mn_sa->local_vips, SizeIs(1));
  ASSERT_TRUE(Ping(*tb.topo, "mn", kInteropIntHost, 3).ok());
  ASSERT_TRUE(Ping(*tb.topo, "int", mn_sa->local_vips[0], 1).ok());
  auto later = tb.mn->EstablishedSa("home");
  ASSERT_TRUE(later.ok()) << later.error().ToString();
  const ChildSaInfo* c = later->InstalledChild("home");
  ASSERT_NE(c, nullptr);
  EXPECT_GE(c->packets_out, 4u);
  EXPECT_TRUE(c->encap);
  // The masquerade rule really translated the flows (500 and 4500).
  auto nft = tb.topo->Exec("ext", {"nft", "list", "chain", "ip", "swnat", "post"});
  ASSERT_TRUE(nft.ok() && nft->Success());
  EXPECT_THAT(nft->out, ::testing::Not(HasSubstr("counter packets 0 ")));
  std::cout << "[ timing ] ThroughNaptNatTraversal body " << SecondsSince(t0) << " s\n";
}

// (4) MOBIKE: the client's outer address moves from link A to link B (hard
// handover); the same IKE_SA follows and traffic continues.
TEST(StrongswanInterop, MobikeMoveToSecondLinkKeepsTraffic) {
  MIPSEC_REQUIRE_STRONGSWAN();
  auto t0 = std::chrono::steady_clock::now();
  Testbed tb;
  ASSERT_NO_FATAL_FAILURE(StartBoth(tb, GatewayConfig(), ClientConfig()));
  ASSERT_TRUE(tb.mn->Initiate("home").ok());
  ASSERT_TRUE(Ping(*tb.topo, "mn", kInteropIntHost, 1).ok());
  auto before = tb.mn->EstablishedSa("home");
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->local_host, "198.51.100.10");

  auto moved_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(MoveInteropMn(*tb.topo, 'B').ok());
  auto resumed = WaitForPing(*tb.topo, "mn", kInteropIntHost, Duration::Seconds(10));
  ASSERT_TRUE(resumed.ok()) << resumed.error().ToString();
  double resume_s = SecondsSince(moved_at);

  auto gw_sa = tb.gw->WaitForSa(
      "rw", [](const IkeSaInfo& sa) { return sa.remote_host == "198.51.100.130"; },
      Duration::Seconds(5));
  ASSERT_TRUE(gw_sa.ok()) << gw_sa.error().ToString();
  auto after = tb.mn->EstablishedSa("home");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->local_host, "198.51.100.130");
  // The same IKE_SA (MOBIKE update, RFC 4555), not a new one.
  EXPECT_EQ(after->initiator_spi, before->initiator_spi);
  EXPECT_EQ(after->responder_spi, before->responder_spi);
  EXPECT_EQ(after->local_vips, before->local_vips);
  EXPECT_GE(tb.mn->CountLog(std::regex("generating INFORMATIONAL request \\d+ \\[ N\\(UPD_SA_ADDR\\)")),
            1);
  ASSERT_TRUE(Ping(*tb.topo, "mn", kInteropIntHost, 3).ok());
  ASSERT_TRUE(Ping(*tb.topo, "int", after->local_vips.at(0), 1).ok());
  std::cout << "[ timing ] MobikeMoveToSecondLinkKeepsTraffic body " << SecondsSince(t0)
            << " s; move -> first ping answered " << resume_s * 1000 << " ms\n";
}

// --- the harness itself ---

bool ProcessGone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

bool PathExists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

template <typename Pred>
bool WaitUntil(Pred pred, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

TEST(StrongswanPeer, StopRemovesProcessAndFilesAndFailedStartLeavesNothing) {
  MIPSEC_REQUIRE_STRONGSWAN();
  auto topo = Topology::Create(kInteropTopology);
  ASSERT_TRUE(topo.ok()) << topo.error().ToString();
  auto peer = StrongswanPeer::Start(**topo, "gw", GatewayConfig());
  ASSERT_TRUE(peer.ok()) << peer.error().ToString();
  pid_t pid = (*peer)->pid();
  std::string dir = (*peer)->run_dir();
  EXPECT_TRUE((*peer)->Running());
  EXPECT_TRUE(PathExists((*peer)->paths().vici_socket));
  EXPECT_THAT((*peer)->Log(), HasSubstr("charon-systemd"));
  // charon is inside the namespace, in its own session.
  auto pids = ExecInNetns(-1, {"ip", "netns", "pids", (*peer)->netns()});
  ASSERT_TRUE(pids.ok());
  EXPECT_THAT(pids->out, HasSubstr(std::to_string(pid)));
  EXPECT_EQ(::getsid(pid), pid);
  auto loaded = (*peer)->Swanctl("--list-conns");
  ASSERT_TRUE(loaded.ok());
  EXPECT_THAT(loaded->out, HasSubstr("rw: IKEv2"));
  auto t0 = std::chrono::steady_clock::now();
  peer->reset();
  std::cout << "[ timing ] one charon stop (SIGTERM to exit) " << SecondsSince(t0) << " s\n";
  EXPECT_TRUE(ProcessGone(pid));
  EXPECT_FALSE(PathExists(dir));

  // A configuration charon refuses: Start fails, naming swanctl's complaint,
  // and leaves neither a process nor files.
  StrongswanConfig bad = GatewayConfig("nonsense-proposal");
  auto failed = StrongswanPeer::Start(**topo, "gw", bad);
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.error().detail(), HasSubstr("--load-all"));
  auto left = ExecInNetns(-1, {"ip", "netns", "pids", (*topo)->NsName("gw")});
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->out, "") << "a failed Start must not leave charon running";
  EXPECT_FALSE(StrongswanPeer::Start(**topo, "nosuchns", GatewayConfig()).ok());
}

// A test process that is SIGKILLed with charon running leaves no charon and
// no namespace (the Topology watchdog), and its directory is swept.
TEST(StrongswanPeer, KilledTestLeavesNoCharonOrNamespace) {
  MIPSEC_REQUIRE_STRONGSWAN();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    auto topo = Topology::Create(kInteropTopology);
    if (!topo.ok()) ::_exit(2);
    auto peer = StrongswanPeer::Start(**topo, "gw", GatewayConfig());
    if (!peer.ok()) ::_exit(3);
    std::string msg = std::to_string((*peer)->pid()) + " " + (*peer)->netns() + " " +
                      (*peer)->run_dir() + "\n";
    if (::write(fds[1], msg.data(), msg.size()) < 0) ::_exit(4);
    for (;;) ::pause();
  }
  ::close(fds[1]);
  std::string msg;
  char buf[512];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) {
    msg.append(buf, static_cast<size_t>(n));
    if (msg.find('\n') != std::string::npos) break;
  }
  ::close(fds[0]);
  ASSERT_FALSE(msg.empty()) << "child could not start charon";
  std::istringstream words(msg);
  pid_t charon = 0;
  std::string netns, dir;
  words >> charon >> netns >> dir;
  ASSERT_GT(charon, 0);
  EXPECT_FALSE(ProcessGone(charon));
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int wst = 0;
  ASSERT_EQ(::waitpid(child, &wst, 0), child);

  EXPECT_TRUE(WaitUntil([&] { return ProcessGone(charon); }, std::chrono::seconds(10)))
      << "charon " << charon << " survived its test";
  EXPECT_TRUE(WaitUntil([&] { return !PathExists("/run/netns/" + netns); },
                        std::chrono::seconds(10)))
      << netns;
  // The directory outlives its killed owner until a sweep (which another
  // test process running in parallel may already have done).
  SweepStaleSwanDirs();
  EXPECT_FALSE(PathExists(dir));
}

}  // namespace
}  // namespace mipsec::testing
