// The real `mipsec mn` walking RFC 5266 Figure 1's inside: the home link
// (our `mipsec ha`), an intranet subnet served by dnsmasq (mode c: DHCP,
// direct co-located registration with TNC), a subnet with our `mipsec fa`
// (mode f), an untrusted subnet (no TNC, no VPN: user data blocked, nothing
// from the home address in clear) and home again, with pings between a CN
// and the home address in each place. Every process runs in namespaces of a
// src/lab/netns Topology and dies with it.
//
//   r (router; dnsmasq on c0/f0/u0; mipsec fa on f0)
//      |  c0 10.2.0.1/24  ---- mn:c0 (DHCP)
//      |  f0 10.3.0.1/24  ---- mn:f0 (DHCP, FA CoA 10.3.0.1)
//      |  u0 10.4.0.1/24  ---- mn:u0 (DHCP, untrusted: not in trusted_subnets)
//      |  core0 10.10.0.2
//      |
//   ha (mipsec ha; the intranet core) core0 10.10.0.1
//      |  home0 10.1.0.1/24 ---- mn:h0 (home link)
//      |  cn0 10.20.0.1/24  ---- cn 10.20.0.10
//
// (The CN is not behind the FA's router: an FA keeps a /32 route to a
// visitor that left until its lifetime ends, RFC 5944 3.7.)
//
// The MN has one interface per subnet; a move is one interface going down
// (admin down in the MN's namespace: carrier lost) and the next coming up.
//
// RFC 5944 4.6 on the way: at home the MN answers ARP for its home address
// (an ARP Request sent from the HA's end of the home link); away (on c0)
// it does not; on the FA's link it sends no gratuitous ARP for it.
// On the way, in mode c: the real `mipsec ctl` asks the MN's control socket
// (a private path) for status, interfaces, history, sas and counters, and
// no answer carries the MN-HA key; SIGHUP with a broken file changes
// nothing, with a good one applies t_monitor live and names the
// restart-only key. At the end the MN goes back to the FA's subnet (mode f)
// and gets SIGTERM: the HA logs the binding removed by a deregistration
// (relayed by the FA), not by expiry, and the MN exits 0.
#include <net/if.h>
#include <net/if_arp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "platform/linux/test_arp.h"
#include "platform/linux/test_ctl.h"
#include "testing/netns/require_root.h"
#include "lab/netns/topology.h"
#include "testing/lab_names.h"

namespace mipsec {
namespace {

using mipsec::testing::Child;
using mipsec::testing::Topology;

constexpr char kKey[] = "000102030405060708090a0b0c0d0e0f";

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& text) {
    char p[] = "/tmp/mipsec-mn-test-XXXXXX.toml";
    int fd = mkstemps(p, 5);
    EXPECT_GE(fd, 0);
    close(fd);
    path = p;
    std::ofstream f(path);
    f << text;
  }
  ~TempFile() { std::remove(path.c_str()); }
};

std::string HaConfig() {
  return std::string(
             "[home_agent]\naddress = \"10.1.0.1\"\nhome_network = \"10.1.0.0/24\"\n"
             "interface = \"home0\"\nmax_lifetime = \"10m\"\n"
             "trusted_subnets = [\"10.1.0.0/24\", \"10.2.0.0/24\", \"10.3.0.0/24\"]\n"
             "advertisement_interval = \"1s\"\nadvertisement_lifetime = \"3s\"\n"
             "[[mobile_node]]\nhome_address = \"10.1.0.10\"\nspi = 1000\nkey = \"") +
         kKey + "\"\n";
}

std::string FaConfig() {
  return "[foreign_agent]\nadvertisement_interval = \"1s\"\nmax_lifetime = \"10m\"\n"
         "[[interface]]\nname = \"f0\"\naddress = \"10.3.0.1/24\"\n"
         "care_of_addresses = [\"10.3.0.1\"]\n";
}

std::string MnConfig(const std::string& extra = "") {
  return std::string(
             "[mobile_node]\nhome_address = \"10.1.0.10\"\nhome_gateway = \"10.1.0.1\"\n"
             "home_agent = \"10.1.0.1\"\nspi = 1000\nkey = \"") +
         kKey +
         "\"\nlifetime = \"120s\"\nretransmissions = 1\nlog_level = \"info\"\ntun = \"mipmn0\"\n" +
         extra +
         "[[interface]]\nname = \"h0\"\n[[interface]]\nname = \"c0\"\n"
         "[[interface]]\nname = \"f0\"\n[[interface]]\nname = \"u0\"\n";
}

// The control socket's directory, and the real `mipsec ctl` on it.
struct CtlDir : platform::TestCtlDir {
  CtlDir() : platform::TestCtlDir("mn") {}
};
using platform::CtlRun;
CtlRun Ctl(const std::string& socket, const std::string& args) {
  return platform::RunCtl(MIPSEC_BINARY, socket, args);
}

nlohmann::json CtlJson(const std::string& socket, const std::string& command) {
  CtlRun r = Ctl(socket, "--json " + command);
  EXPECT_EQ(r.exit_code, 0) << command << ": " << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j.is_discarded() ? nlohmann::json::object() : j["data"];
}

// Waits up to `ms` for `text` in the child's stderr after offset `from`.
bool WaitLog(Child* c, const std::string& text, std::size_t from, int ms) {
  for (int waited = 0; waited <= ms; waited += 50) {
    const std::string err = c->Stderr();
    if (err.size() > from && err.find(text, from) != std::string::npos) return true;
    if (!c->Running()) return false;
    usleep(50'000);
  }
  return false;
}

bool Ping(Topology& topo, const std::string& ns, const std::string& dst) {
  auto r = topo.Exec(ns, {"ping", "-c", "3", "-i", "0.2", "-W", "2", dst}, Duration::Seconds(10));
  return r.ok() && r->exit_code == 0;
}

void SetLinkIn(Topology& topo, const char* ns, const char* ifname, bool up) {
  auto r = topo.Exec(ns, {"ip", "link", "set", ifname, up ? "up" : "down"});
  ASSERT_TRUE(r.ok() && r->exit_code == 0) << ns << ":" << ifname;
}
void SetLink(Topology& topo, const char* ifname, bool up) { SetLinkIn(topo, "mn", ifname, up); }

std::string ShowIn(Topology& topo, const char* ns, const std::vector<std::string>& argv) {
  auto r = topo.Exec(ns, argv);
  return r.ok() ? r->out : std::string();
}
std::string Show(Topology& topo, const std::vector<std::string>& argv) {
  return ShowIn(topo, "mn", argv);
}
// Ends of links as ARP sees them: an ArpProbe on interface `ifname` of `ns`
// and that interface's MAC.
struct LinkEnd {
  std::unique_ptr<platform::ArpProbe> probe;
  platform::MacAddress mac{};
};
LinkEnd OpenLinkEnd(Topology& topo, const char* ns, const char* ifname) {
  LinkEnd e;
  auto g = topo.Enter(ns);
  EXPECT_TRUE(g.ok());
  const int ifindex = static_cast<int>(if_nametoindex(ifname));
  EXPECT_NE(ifindex, 0) << ns << ":" << ifname;
  e.probe = std::make_unique<platform::ArpProbe>(ifindex);
  EXPECT_TRUE(e.probe->ok()) << ns << ":" << ifname;
  auto m = platform::InterfaceMac(ifindex);
  EXPECT_TRUE(m.ok()) << ns << ":" << ifname;
  if (m.ok()) e.mac = *m;
  return e;
}
platform::MacAddress MacOf(Topology& topo, const char* ns, const char* ifname) {
  auto g = topo.Enter(ns);
  auto m = platform::InterfaceMac(static_cast<int>(if_nametoindex(ifname)));
  EXPECT_TRUE(m.ok()) << ns << ":" << ifname;
  return m.ok() ? *m : platform::MacAddress{};
}
// From `asker` (its MAC, a made-up address `asker_ip` of the link): "who
// has 10.1.0.10?"; the replies that came back from `mn_mac` (ARP Replies
// for the home address), and what was seen, for messages.
int AskForHome(LinkEnd& asker, Ipv4Address asker_ip, const platform::MacAddress& mn_mac,
               std::string* seen) {
  const Ipv4Address home = Ipv4Address::Parse("10.1.0.10").value();
  (void)asker.probe->Read(Duration::Zero());  // what queued before
  int replies = 0;
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(asker.probe->Request(asker.mac, asker_ip, home));
    for (const platform::ArpFrame& f : asker.probe->Read(Duration::Millis(400))) {
      *seen += platform::Describe(f) + "\n";
      if (f.incoming() && f.op == ARPOP_REPLY && f.spa == home && f.tpa == asker_ip &&
          f.sha == mn_mac) {
        ++replies;
      }
    }
  }
  return replies;
}

// Routing state of the MN and the HA, for failure messages.
std::string State(Topology& topo) {
  return "mn rules:\n" + Show(topo, {"ip", "-4", "rule"}) + "mn main:\n" +
         Show(topo, {"ip", "-4", "route"}) + "mn 2100:\n" +
         Show(topo, {"ip", "-4", "route", "show", "table", "2100"}) + "mn neigh:\n" +
         Show(topo, {"ip", "neigh"}) + "ha routes:\n" + ShowIn(topo, "ha", {"ip", "-4", "route"}) +
         "ha neigh:\n" + ShowIn(topo, "ha", {"ip", "neigh"});
}

TEST(MnDaemonRoot, HomeThenCThenFWithTrafficAndCleanup) {
  MIPSEC_REQUIRE_NETNS();
  auto topo_or = Topology::Create(R"(
    ns cn
    ns r router
    ns ha router
    ns mn
    link ha:home0 10.1.0.1/24 mn:h0
    link r:c0 10.2.0.1/24 mn:c0
    link r:f0 10.3.0.1/24 mn:f0
    link r:u0 10.4.0.1/24 mn:u0
    link ha:core0 10.10.0.1/24 r:core0 10.10.0.2/24
    link ha:cn0 10.20.0.1/24 cn:eth0 10.20.0.10/24
    route ha default via 10.10.0.2
    route r default via 10.10.0.1
    route cn default via 10.20.0.1
  )");
  ASSERT_TRUE(topo_or.ok()) << topo_or.error().ToString();
  Topology& topo = **topo_or;

  // Only the home link has carrier at first.
  SetLink(topo, "c0", false);
  SetLink(topo, "f0", false);
  SetLink(topo, "u0", false);
  // What the MN will send in clear on the untrusted link (step 4), seen from
  // the router; started now so that it surely runs by then.
  auto cap_or = topo.Spawn("r", {"tshark", "-i", "u0", "-l", "-n", "-T", "fields", "-e",
                                 "ip.src", "-e", "ip.dst", "-e", "_ws.col.Protocol"});
  ASSERT_TRUE(cap_or.ok());
  Child* cap = *cap_or;

  const TempFile ha_cfg(HaConfig());
  const TempFile fa_cfg(FaConfig());
  const TempFile mn_cfg(MnConfig());
  auto ha_or = topo.Spawn("ha", {MIPSEC_BINARY, "ha", "--config", ha_cfg.path, "--control-socket",
                                  ha_cfg.path + ".sock"});
  ASSERT_TRUE(ha_or.ok());
  Child* ha = *ha_or;
  ASSERT_TRUE(WaitLog(ha, "home agent 10.1.0.1", 0, 5000)) << ha->Stderr();
  auto fa_or = topo.Spawn("r", {MIPSEC_BINARY, "fa", "--config", fa_cfg.path, "--control-socket",
                                 fa_cfg.path + ".sock"});
  ASSERT_TRUE(fa_or.ok());
  Child* fa = *fa_or;
  auto dns_or = topo.Spawn(
      "r", {"/usr/sbin/dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0",
            "--interface=c0", "--interface=f0", "--interface=u0", "--leasefile-ro", "--no-ping", "--pid-file=",
            "--user=root", "--dhcp-authoritative",
            "--dhcp-range=10.2.0.100,10.2.0.150,255.255.255.0,2m",
            "--dhcp-range=10.3.0.100,10.3.0.150,255.255.255.0,2m",
            "--dhcp-range=10.4.0.100,10.4.0.150,255.255.255.0,2m"});
  ASSERT_TRUE(dns_or.ok());
  Child* dns = *dns_or;

  const CtlDir ctl;
  auto mn_or = topo.Spawn("mn", {MIPSEC_BINARY, "mn", "--config", mn_cfg.path,
                                 "--control-socket", ctl.socket()});
  ASSERT_TRUE(mn_or.ok());
  Child* mn = *mn_or;
  ASSERT_TRUE(WaitLog(mn, "mobile node 10.1.0.10", 0, 5000)) << mn->Stderr();

  // 1. At home (R18): the HA's advertisement (H) and our authenticated
  // deregistration with TNC.
  ASSERT_TRUE(WaitLog(mn, "mode home on h0", 0, 8000)) << mn->Stderr() << ha->Stderr();
  EXPECT_TRUE(Ping(topo, "cn", "10.1.0.10")) << mn->Stderr();
  EXPECT_TRUE(Ping(topo, "mn", "10.20.0.10")) << mn->Stderr();
  // RFC 5944 4.6: at home the MN answers ARP for its home address.
  LinkEnd home_link = OpenLinkEnd(topo, "ha", "home0");
  const platform::MacAddress mn_h0 = MacOf(topo, "mn", "h0");
  {
    std::string seen;
    EXPECT_GE(AskForHome(home_link, Ipv4Address::Parse("10.1.0.99").value(), mn_h0, &seen), 1)
        << "no ARP reply for the home address at home\n" << seen;
  }

  // 2. Move to the intranet subnet c: DHCP, direct co-located registration
  // answered with TNC, Mobile IPv4 with reverse tunnelling.
  std::size_t mark = mn->Stderr().size();
  SetLink(topo, "h0", false);
  SetLink(topo, "c0", true);
  ASSERT_TRUE(WaitLog(mn, "c0: address 10.2.0.", mark, 10000)) << mn->Stderr() << dns->Stderr();
  ASSERT_TRUE(WaitLog(mn, "mode c on c0", mark, 10000)) << mn->Stderr() << ha->Stderr();
  // (The HA logs its side a moment after the MN.)
  EXPECT_TRUE(WaitLog(ha, "binding added 10.1.0.10 coa 10.2.0.", 0, 2000)) << ha->Stderr();
  // The per-interface table and rule (R11: registrations leave c0 directly).
  const std::string rules = Show(topo, {"ip", "-4", "rule", "show"});
  EXPECT_NE(rules.find("from 10.2.0."), std::string::npos) << rules;
  EXPECT_NE(rules.find("lookup 2101"), std::string::npos) << rules;
  EXPECT_TRUE(Ping(topo, "cn", "10.1.0.10")) << mn->Stderr() << ha->Stderr();
  EXPECT_TRUE(Ping(topo, "mn", "10.20.0.10")) << mn->Stderr();
  // RFC 5944 4.6: away from home, no ARP reply for the home address (Linux
  // would give one: the address is local, on the TUN).
  {
    LinkEnd c_link = OpenLinkEnd(topo, "r", "c0");
    std::string seen;
    EXPECT_EQ(AskForHome(c_link, Ipv4Address::Parse("10.2.0.99").value(), MacOf(topo, "mn", "c0"),
                         &seen),
              0)
        << "the MN answered ARP for its home address away from home\n" << seen;
    EXPECT_EQ(Show(topo, {"sysctl", "-n", "net.ipv4.conf.c0.arp_ignore"}), "1\n");
  }

  // 2a. `mipsec ctl` on the MN's control socket.
  {
    nlohmann::json status = CtlJson(ctl.socket(), "status");
    EXPECT_EQ(status["daemon"], "mn");
    EXPECT_EQ(status["mode"], "c");
    EXPECT_EQ(status["active_interface"], "c0");
    EXPECT_EQ(status["home_address"], "10.1.0.10");
    EXPECT_EQ(status["home_agent"], "10.1.0.1");
    EXPECT_EQ(status["vpn_up"], false);
    nlohmann::json ifs = CtlJson(ctl.socket(), "interfaces")["interfaces"];
    ASSERT_EQ(ifs.size(), 4u) << ifs.dump();
    EXPECT_EQ(ifs[1]["name"], "c0");
    EXPECT_EQ(ifs[1]["carrier"], true);
    EXPECT_EQ(ifs[1]["state"], "c");
    EXPECT_EQ(ifs[1]["data_plane"], "mip");
    EXPECT_EQ(ifs[1]["dhcp"], "BOUND");
    EXPECT_EQ(ifs[1]["table"], 2101);
    EXPECT_EQ(ifs[1]["router"], "10.2.0.1");
    EXPECT_EQ(ifs[0]["state"], "down");  // h0
    nlohmann::json hist = CtlJson(ctl.socket(), "history");
    bool inside = false;
    for (const auto& e : hist["events"]) {
      inside = inside || (e["interface"] == "c0" && e["kind"] == "state" && e["to"] == "c");
    }
    EXPECT_TRUE(inside) << hist.dump(1);
    nlohmann::json last = CtlJson(ctl.socket(), "--limit 2 history");
    EXPECT_EQ(last["shown"], 2) << last.dump();
    EXPECT_EQ(last["events"].size(), 2u);
    nlohmann::json sas = CtlJson(ctl.socket(), "sas");
    EXPECT_EQ(sas["up"], false);
    EXPECT_EQ(sas["vpn_configured"], false);
    nlohmann::json counters = CtlJson(ctl.socket(), "counters");
    EXPECT_GE(counters["controller"]["probes"].get<int>(), 1);
    EXPECT_GE(counters["daemon"]["udp_out"].get<int>(), 1);
    // For people: the history one decision per line.
    CtlRun human = Ctl(ctl.socket(), "history");
    EXPECT_EQ(human.exit_code, 0) << human.out;
    EXPECT_NE(human.out.find("  c0  "), std::string::npos) << human.out;
    EXPECT_NE(human.out.find("detecting -> c"), std::string::npos) << human.out;
    // No answer carries the MN-HA key, in any spelling.
    std::string upper = kKey;
    for (char& ch : upper) ch = static_cast<char>(toupper(ch));
    for (const char* cmd : {"status", "interfaces", "history", "sas", "counters", "help"}) {
      for (const char* fmt : {"", "--json "}) {
        CtlRun r = Ctl(ctl.socket(), std::string(fmt) + cmd);
        EXPECT_EQ(r.exit_code, 0) << cmd << ": " << r.out;
        EXPECT_EQ(r.out.find(kKey), std::string::npos) << cmd;
        EXPECT_EQ(r.out.find(upper), std::string::npos) << cmd;
        EXPECT_EQ(r.out.find("0001020304"), std::string::npos) << cmd;
      }
    }
  }

  // 2b. SIGHUP: a broken file changes nothing; a good one applies t_monitor
  // live and names the restart-only key.
  {
    std::size_t at = mn->Stderr().size();
    { std::ofstream(mn_cfg.path) << MnConfig("t_monitor = \"5s\"\nmonitor_margin = \"9s\"\n"); }
    ASSERT_EQ(kill(mn->pid(), SIGHUP), 0);
    ASSERT_TRUE(WaitLog(mn, "reload failed, running configuration kept: " + mn_cfg.path + ":", at,
                        5000))
        << mn->Stderr();
    EXPECT_TRUE(WaitLog(mn, "monitor_margin", at, 100)) << mn->Stderr();
    EXPECT_EQ(CtlJson(ctl.socket(), "status")["mode"], "c");
    at = mn->Stderr().size();
    std::string text = MnConfig("t_monitor = \"50s\"\nmonitor_margin = \"5s\"\n");
    const std::string old_lifetime = "lifetime = \"120s\"";
    text.replace(text.find(old_lifetime), old_lifetime.size(), "lifetime = \"300s\"");
    { std::ofstream(mn_cfg.path) << text; }
    ASSERT_EQ(kill(mn->pid(), SIGHUP), 0);
    ASSERT_TRUE(WaitLog(mn, "reloaded " + mn_cfg.path + ": changed: t_monitor, monitor_margin",
                        at, 5000))
        << mn->Stderr();
    EXPECT_TRUE(WaitLog(mn, "not applied (needs a restart): lifetime", at, 100)) << mn->Stderr();
    EXPECT_EQ(mn->Stderr().find(kKey), std::string::npos);
    EXPECT_EQ(CtlJson(ctl.socket(), "status")["mode"], "c");
    { std::ofstream(mn_cfg.path) << MnConfig(); }
  }

  // 3. Move to the FA's subnet: c first (trust proven directly, R8), then f.
  // What the MN broadcasts there (RFC 5944 4.6: no gratuitous ARP for the
  // home address away from home, although it registers from it).
  LinkEnd f_link = OpenLinkEnd(topo, "r", "f0");
  mark = mn->Stderr().size();
  SetLink(topo, "c0", false);
  SetLink(topo, "f0", true);
  ASSERT_TRUE(WaitLog(mn, "f0: address 10.3.0.", mark, 10000)) << mn->Stderr();
  ASSERT_TRUE(WaitLog(mn, "mode f on f0", mark, 15000)) << mn->Stderr() << fa->Stderr()
                                                         << ha->Stderr();
  EXPECT_TRUE(WaitLog(ha, "10.1.0.10 coa 10.3.0.1 ip-in-ip", 0, 2000)) << ha->Stderr();
  EXPECT_TRUE(Ping(topo, "cn", "10.1.0.10")) << mn->Stderr() << fa->Stderr();
  EXPECT_TRUE(Ping(topo, "mn", "10.20.0.10")) << mn->Stderr() << fa->Stderr();
  {
    const platform::MacAddress mn_f0 = MacOf(topo, "mn", "f0");
    std::string seen;
    int gratuitous = 0;
    for (const platform::ArpFrame& f : f_link.probe->Read(Duration::Millis(100))) {
      seen += platform::Describe(f) + "\n";
      if (f.sha == mn_f0 && f.Gratuitous(Ipv4Address::Parse("10.1.0.10").value())) ++gratuitous;
    }
    EXPECT_EQ(gratuitous, 0) << seen;
  }

  // 4. An untrusted subnet (not in the HA's trusted_subnets, RFC 5265 4.3):
  // the direct probe gets no answer, and without a VPN no user data may
  // leave (R13, R21 while detecting; R24 after): the MN's ping fails and is
  // counted as blocked, and the HA learns nothing.
  ASSERT_TRUE(WaitLog(cap, "Capturing on", 0, 10000)) << cap->Stderr();
  mark = mn->Stderr().size();
  SetLink(topo, "f0", false);
  SetLink(topo, "u0", true);
  ASSERT_TRUE(WaitLog(mn, "u0: address 10.4.0.", mark, 10000)) << mn->Stderr();
  {
    auto r = topo.Exec("mn", {"ping", "-c", "2", "-i", "0.3", "-W", "1", "10.20.0.10"},
                       Duration::Seconds(5));
    ASSERT_TRUE(r.ok());
    EXPECT_NE(r->exit_code, 0) << "user data left an untrusted link:\n" << r->out;
  }
  EXPECT_EQ(mn->Stderr().find("mode c on u0", mark), std::string::npos) << mn->Stderr();
  EXPECT_EQ(ha->Stderr().find("coa 10.4.0."), std::string::npos) << ha->Stderr();
  EXPECT_FALSE(Ping(topo, "cn", "10.1.0.10"));
  usleep(500'000);
  mipsec::testing::ExecResult seen = cap->Stop(Duration::Seconds(3));
  std::printf("on u0:\n%s\n", seen.out.c_str());
  // RFC 2131 4.1: DHCP from 0.0.0.0 until bound; and nothing from the home
  // address in clear (RFC 5265 4.1); the probe (a Registration Request,
  // from the lease address) is the only Mobile IP.
  EXPECT_NE(seen.out.find("0.0.0.0\t255.255.255.255\tDHCP"), std::string::npos) << seen.out;
  EXPECT_EQ(seen.out.find("10.1.0.10\t"), std::string::npos) << seen.out;

  // 5. Back on the home link (R18): the FA route and the untrusted state are
  // left behind; the authenticated deregistration brings the MN home again.
  mark = mn->Stderr().size();
  SetLink(topo, "u0", false);
  SetLink(topo, "h0", true);
  ASSERT_TRUE(WaitLog(mn, "mode home on h0", mark, 8000)) << mn->Stderr();
  EXPECT_TRUE(Ping(topo, "cn", "10.1.0.10")) << State(topo) << ha->Stderr();
  EXPECT_TRUE(Ping(topo, "mn", "10.20.0.10")) << State(topo);
  {
    // Answered again at home; the HA's gratuitous ARP (RFC 5944 4.6) named
    // the MN's own address.
    std::string frames;
    EXPECT_GE(AskForHome(home_link, Ipv4Address::Parse("10.1.0.99").value(), mn_h0, &frames), 1)
        << "no ARP reply for the home address back home\n" << frames;
    EXPECT_NE(ha->Stderr().find("10.1.0.10 is home: gratuitous ARP on home0 with its link-layer "
                                "address " + platform::MacString(mn_h0)),
              std::string::npos)
        << ha->Stderr();
  }
  const std::string home_rules = Show(topo, {"ip", "-4", "rule", "show"});
  EXPECT_EQ(home_rules.find("lookup 2164"), std::string::npos) << home_rules;  // no FA next hop
  EXPECT_NE(home_rules.find("from 10.1.0.10 lookup 2100"), std::string::npos) << home_rules;

  // 6. Back in the FA's subnet (mode f), then SIGTERM: user data stops at
  // once, the binding is deregistered through the FA (RFC 5944 3.6.1.2) --
  // the HA removes it for a deregistration, not at expiry -- then exit 0,
  // and nothing of ours is left in the MN's namespace.
  mark = mn->Stderr().size();
  SetLink(topo, "h0", false);
  SetLink(topo, "f0", true);
  ASSERT_TRUE(WaitLog(mn, "mode f on f0", mark, 15000)) << mn->Stderr() << fa->Stderr();
  const std::size_t ha_mark = ha->Stderr().size();
  mark = mn->Stderr().size();
  mipsec::testing::ExecResult done = mn->Stop(Duration::Seconds(5));
  EXPECT_EQ(done.exit_code, 0) << done.Describe() << "\n" << done.err;
  EXPECT_NE(done.err.find("deregistering care-of 10.3.0.1 through the FA 10.3.0.1", mark),
            std::string::npos)
      << done.err;
  EXPECT_NE(done.err.find("the i-HA accepted the deregistration of care-of 10.3.0.1", mark),
            std::string::npos)
      << done.err;
  EXPECT_NE(done.err.find("deregistration done: stopping", mark), std::string::npos) << done.err;
  EXPECT_TRUE(WaitLog(ha, "deregistered 10.1.0.10 care-of 10.3.0.1, 1 binding(s) removed",
                      ha_mark, 2000))
      << ha->Stderr();
  EXPECT_NE(ha->Stderr().find("binding removed 10.1.0.10 (deregistration)", ha_mark),
            std::string::npos)
      << ha->Stderr();
  EXPECT_EQ(ha->Stderr().find("(expiry)", ha_mark), std::string::npos) << ha->Stderr();
  {
    struct stat gone {};
    EXPECT_NE(stat(ctl.socket().c_str(), &gone), 0) << "the control socket goes with the daemon";
  }
  EXPECT_NE(done.err.find("counters at exit: mode"), std::string::npos) << done.err;
  std::printf("%s\n", done.err.substr(done.err.find("counters at exit")).c_str());
  // The pings of steps 2-3 went through the controller (tunnelled and
  // delivered), step 4's were blocked.
  const std::size_t at = done.err.find("counters at exit");
  const std::string line = done.err.substr(at, done.err.find('\n', at) - at);
  auto count = [&](const std::string& key) {
    const std::size_t p = line.find(" " + key + " ");
    return p == std::string::npos ? -1 : std::atoi(line.c_str() + p + key.size() + 2);
  };
  EXPECT_GE(count("sent"), 6) << line;
  EXPECT_GE(count("delivered"), 6) << line;
  EXPECT_GE(count("blocked"), 2) << line;
  for (const char* ifname : {"h0", "c0", "f0", "u0"}) {
    EXPECT_EQ(Show(topo, {"sysctl", "-n", std::string("net.ipv4.conf.") + ifname + ".arp_ignore"}),
              "0\n")
        << ifname << ": arp_ignore restored";
  }
  const std::string links = Show(topo, {"ip", "-4", "link", "show"});
  EXPECT_EQ(links.find("mipmn0"), std::string::npos) << links;
  const std::string rules_after = Show(topo, {"ip", "-4", "rule", "show"});
  EXPECT_EQ(rules_after.find("lookup 210"), std::string::npos) << rules_after;
  const std::string addrs = Show(topo, {"ip", "-4", "addr", "show"});
  EXPECT_EQ(addrs.find("10.4.0.1"), std::string::npos) << addrs;  // the lease is gone
  EXPECT_EQ(addrs.find("10.1.0.10"), std::string::npos) << addrs;
  for (const char* t : {"2100", "2101", "2102", "2103", "2164"}) {
    const std::string routes = Show(topo, {"ip", "-4", "route", "show", "table", t});
    EXPECT_TRUE(routes.empty()) << "table " << t << ": " << routes;
  }
}

}  // namespace
}  // namespace mipsec
