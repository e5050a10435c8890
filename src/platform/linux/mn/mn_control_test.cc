// The `mipsec mn` control-socket commands (mn_control.h) on a status
// snapshot, through a real ControlDispatcher as the control socket runs
// them, and their human rendering by `mipsec ctl` (control_client.h).
#include "platform/linux/mn/mn_control.h"

#include <gtest/gtest.h>

#include <string>

#include "platform/linux/control_client.h"
#include "platform/linux/control_dispatch.h"

namespace mipsec::mnd {
namespace {

using platform::ControlJson;

Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }

constexpr std::int64_t kRealtime = 1'764'557'444'123'000'000LL;  // 2025-12-01T02:50:44.123Z

MnStatus Snapshot() {
  MnStatus s;
  s.mode = "c";
  s.active = "eth0";
  s.home_address = A("10.1.0.10");
  s.home_agent = A("10.1.0.1");
  s.tun = "mipmn0";
  s.tun_ifindex = 9;
  s.vpn_configured = true;
  s.vpn = mn::VpnUp{A("10.10.0.5"), A("192.0.2.1"), A("10.2.0.100")};
  s.started = Timestamp::FromNanos(1'000'000'000);
  s.now = Timestamp::FromNanos(61'000'000'000);
  s.realtime_ns = kRealtime;
  MnInterfaceStatus eth0;
  eth0.name = "eth0";
  eth0.ifindex = 2;
  eth0.running = true;
  eth0.state = mn::IfState::kInsideC;
  eth0.plane = mn::DataPlane::kDirectMip;
  eth0.address = A("10.2.0.100");
  eth0.prefix_length = 24;
  eth0.router = A("10.2.0.1");
  eth0.dhcp = "bound";
  eth0.table = 2100;
  MnInterfaceStatus wlan0;
  wlan0.name = "wlan0";
  wlan0.dhcp = "stopped";
  wlan0.table = 2101;
  s.interfaces = {eth0, wlan0};
  s.controller.probes = 3;
  s.controller.sent = 7;
  s.daemon.tun_in = 9;
  s.daemon.io.udp_sent = 4;
  auto event = [&](double at_s, mn::ControllerEvent::Kind kind, int ifindex, std::string req,
                   std::string text) {
    mn::ControllerEvent e;
    e.at = Timestamp::FromNanos(static_cast<std::int64_t>(at_s * 1e9));
    e.kind = kind;
    e.ifindex = ifindex;
    e.requirement = std::move(req);
    e.text = std::move(text);
    return e;
  };
  mn::ControllerEvent st = event(60.0, mn::ControllerEvent::Kind::kState, 2, "R11 R22 R24",
                                 "authenticated TNC reply: inside");
  st.from = mn::IfState::kDetecting;
  st.to = mn::IfState::kInsideC;
  mn::ControllerEvent dp =
      event(60.5, mn::ControllerEvent::Kind::kDataPlane, 2, "R2", "inside on eth0");
  dp.plane = mn::DataPlane::kDirectMip;
  s.recent = {event(59.0, mn::ControllerEvent::Kind::kAction, 2, "R11", "probe"), st, dp,
              event(60.9, mn::ControllerEvent::Kind::kAction, 9, "R3", "through the tunnel")};
  return s;
}

// The dispatcher as the daemon registers the commands.
platform::ControlDispatcher Dispatcher(MnStatus s) {
  platform::ControlDispatcher d;
  for (MnControlCommand& c : MnControlCommands([s] { return s; })) {
    EXPECT_TRUE(d.Register(c.name, c.description, std::move(c.handler)).ok()) << c.name;
  }
  return d;
}

ControlJson Ask(platform::ControlDispatcher& d, const std::string& request) {
  ControlJson r = ControlJson::parse(d.Respond(request), nullptr, false);
  EXPECT_FALSE(r.is_discarded());
  return r;
}

TEST(MnControl, CommandsAreRegisteredWithHelp) {
  platform::ControlDispatcher d = Dispatcher(Snapshot());
  EXPECT_EQ(d.Commands(), (std::vector<std::string>{"counters", "help", "history", "interfaces",
                                                    "sas", "status"}));
  ControlJson r = Ask(d, R"({"command":"nope"})");
  EXPECT_FALSE(r["ok"].get<bool>());
}

TEST(MnControl, StatusNamesModeInterfaceHomeAgentAndVpn) {
  platform::ControlDispatcher d = Dispatcher(Snapshot());
  ControlJson r = Ask(d, R"({"command":"status"})");
  ASSERT_TRUE(r["ok"].get<bool>()) << r.dump();
  const ControlJson& s = r["data"];
  EXPECT_EQ(s["daemon"], "mn");
  EXPECT_EQ(s["mode"], "c");
  EXPECT_EQ(s["active_interface"], "eth0");
  EXPECT_EQ(s["home_address"], "10.1.0.10");
  EXPECT_EQ(s["home_agent"], "10.1.0.1");
  EXPECT_EQ(s["vpn_up"], true);
  EXPECT_EQ(s["vpn_tia"], "10.10.0.5");
  EXPECT_EQ(s["vpn_gateway"], "192.0.2.1");
  EXPECT_EQ(s["shutting_down"], false);
  EXPECT_EQ(s["uptime_s"], 60);
  // Nothing carries user data: "blocked", no interface, and no VPN.
  MnStatus b = Snapshot();
  b.mode.clear();
  b.active.reset();
  b.vpn.reset();
  ControlJson j = MnStatusJson(b);
  EXPECT_EQ(j["mode"], "blocked");
  EXPECT_TRUE(j["active_interface"].is_null());
  EXPECT_EQ(j["vpn_up"], false);
  EXPECT_TRUE(j["vpn_tia"].is_null());
  // People read it as aligned key/value lines.
  const std::string human = platform::FormatHuman("status", s);
  EXPECT_NE(human.find("mode              c\n"), std::string::npos) << human;
  EXPECT_NE(human.find("active interface  eth0\n"), std::string::npos) << human;
}

TEST(MnControl, InterfacesAreATable) {
  ControlJson j = MnInterfacesJson(Snapshot());
  ASSERT_EQ(j["interfaces"].size(), 2u);
  const ControlJson& e = j["interfaces"][0];
  EXPECT_EQ(e["name"], "eth0");
  EXPECT_EQ(e["ifindex"], 2);
  EXPECT_EQ(e["carrier"], true);
  EXPECT_EQ(e["state"], "c");
  EXPECT_EQ(e["data_plane"], "mip");
  EXPECT_EQ(e["address"], "10.2.0.100/24");
  EXPECT_EQ(e["router"], "10.2.0.1");
  EXPECT_EQ(e["dhcp"], "bound");
  EXPECT_EQ(e["table"], 2100);
  const ControlJson& w = j["interfaces"][1];
  EXPECT_EQ(w["state"], "down");
  EXPECT_TRUE(w["address"].is_null());
  const std::string human = platform::FormatHuman("interfaces", j);
  EXPECT_NE(human.find("name   ifindex  carrier  state  data plane  address        router"),
            std::string::npos)
      << human;
  EXPECT_NE(human.find("eth0   2        yes      c      mip         10.2.0.100/24  10.2.0.1"),
            std::string::npos)
      << human;
}

TEST(MnControl, HistoryOldestFirstWithTimesAndALimit) {
  platform::ControlDispatcher d = Dispatcher(Snapshot());
  ControlJson r = Ask(d, R"({"command":"history"})");
  ASSERT_TRUE(r["ok"].get<bool>()) << r.dump();
  const ControlJson h = r["data"];
  EXPECT_EQ(h["kept"], 4);
  ASSERT_EQ(h["events"].size(), 4u);
  const ControlJson& st = h["events"][1];
  // 1 s before the snapshot's wall clock.
  EXPECT_EQ(st["time"], "2025-12-01T02:50:43.123Z");
  EXPECT_DOUBLE_EQ(st["age_s"].get<double>(), 1.0);
  EXPECT_EQ(st["interface"], "eth0");
  EXPECT_EQ(st["kind"], "state");
  EXPECT_EQ(st["from"], "detecting");
  EXPECT_EQ(st["to"], "c");
  EXPECT_EQ(st["requirement"], "R11 R22 R24");
  EXPECT_EQ(h["events"][2]["data_plane"], "mip");
  EXPECT_TRUE(h["events"][2]["from"].is_null());
  EXPECT_EQ(h["events"][3]["interface"], "tunnel");

  r = Ask(d, R"({"command":"history","limit":2})");
  ASSERT_TRUE(r["ok"].get<bool>());
  ASSERT_EQ(r["data"]["events"].size(), 2u);
  EXPECT_EQ(r["data"]["events"][0]["kind"], "data-plane");  // the last two
  EXPECT_EQ(r["data"]["shown"], 2);
  r = Ask(d, R"({"command":"history","limit":0})");
  EXPECT_TRUE(r["data"]["events"].empty());
  for (const char* bad : {R"({"command":"history","limit":-1})",
                          R"({"command":"history","limit":"3"})",
                          R"({"command":"history","limit":1.5})"}) {
    r = Ask(d, bad);
    EXPECT_FALSE(r["ok"].get<bool>()) << bad;
    EXPECT_NE(r["error"].get<std::string>().find("\"limit\" must be a non-negative integer"),
              std::string::npos)
        << r.dump();
  }

  // One line per decision for people.
  const std::string human = platform::FormatHuman("history", h);
  EXPECT_NE(human.find("2025-12-01T02:50:43.123Z  eth0    state       detecting -> c  "
                       "[R11 R22 R24]  authenticated TNC reply: inside\n"),
            std::string::npos)
      << human;
  EXPECT_NE(human.find("data-plane  mip "), std::string::npos) << human;
  EXPECT_EQ(platform::FormatHuman("history", MnHistoryJson(Snapshot(), 0)), "no events\n");
}

TEST(MnControl, SasShowsTheVpnAsTheControllerSeesIt) {
  ControlJson j = MnSasJson(Snapshot());
  EXPECT_EQ(j["vpn_configured"], true);
  EXPECT_EQ(j["up"], true);
  EXPECT_EQ(j["tia"], "10.10.0.5");
  EXPECT_EQ(j["gateway"], "192.0.2.1");
  EXPECT_EQ(j["local"], "10.2.0.100");
  MnStatus none = Snapshot();
  none.vpn.reset();
  none.vpn_configured = false;
  j = MnSasJson(none);
  EXPECT_EQ(j["up"], false);
  EXPECT_TRUE(j["tia"].is_null());
  const std::string human = platform::FormatHuman("sas", j);
  EXPECT_EQ(human, "no VPN configured\n");
  none.vpn_configured = true;
  EXPECT_EQ(platform::FormatHuman("sas", MnSasJson(none)), "VPN down\n");
  EXPECT_EQ(platform::FormatHuman("sas", MnSasJson(Snapshot())),
            "VPN up: TIA 10.10.0.5, gateway 192.0.2.1, from 10.2.0.100\n");
}

TEST(MnControl, CountersOfTheControllerAndTheDaemon) {
  platform::ControlDispatcher d = Dispatcher(Snapshot());
  ControlJson r = Ask(d, R"({"command":"counters"})");
  ASSERT_TRUE(r["ok"].get<bool>());
  EXPECT_EQ(r["data"]["controller"]["probes"], 3);
  EXPECT_EQ(r["data"]["controller"]["sent"], 7);
  EXPECT_EQ(r["data"]["daemon"]["tun_in"], 9);
  EXPECT_EQ(r["data"]["daemon"]["udp_out"], 4);
}

}  // namespace
}  // namespace mipsec::mnd
