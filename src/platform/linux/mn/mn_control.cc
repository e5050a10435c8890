#include "platform/linux/mn/mn_control.h"

#include <cstdio>
#include <ctime>
#include <utility>

namespace mipsec::mnd {
namespace {

using platform::ControlJson;

ControlJson OptAddress(const std::optional<Ipv4Address>& a) {
  return a ? ControlJson(a->ToString()) : ControlJson(nullptr);
}

std::string_view KindName(mn::ControllerEvent::Kind k) {
  switch (k) {
    case mn::ControllerEvent::Kind::kState: return "state";
    case mn::ControllerEvent::Kind::kDataPlane: return "data-plane";
    case mn::ControllerEvent::Kind::kAction: return "action";
    case mn::ControllerEvent::Kind::kRejected: return "rejected";
  }
  return "?";
}

// "2026-12-01T02:50:44.123Z" for nanoseconds since the epoch.
std::string Utc(std::int64_t ns) {
  const std::time_t secs = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  const auto ms = static_cast<int>((ns / 1'000'000) % 1000);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, ms < 0 ? 0 : ms);
  return out;
}

std::string Where(const MnStatus& s, int ifindex) {
  if (ifindex == 0) return "-";
  if (ifindex == s.tun_ifindex) return "tunnel";
  for (const MnInterfaceStatus& i : s.interfaces) {
    if (i.ifindex == ifindex) return i.name;
  }
  return "if" + std::to_string(ifindex);
}

double Seconds(Duration d) { return static_cast<double>(d.millis()) / 1000.0; }

}  // namespace

ControlJson MnStatusJson(const MnStatus& s) {
  return ControlJson{
      {"daemon", "mn"},
      {"mode", s.mode.empty() ? std::string("blocked") : s.mode},
      {"active_interface", s.active ? ControlJson(*s.active) : ControlJson(nullptr)},
      {"home_address", s.home_address.ToString()},
      {"home_agent", s.home_agent.ToString()},
      {"tun", s.tun},
      {"interfaces", s.interfaces.size()},
      {"vpn_configured", s.vpn_configured},
      {"vpn_up", s.vpn.has_value()},
      {"vpn_tia", s.vpn ? ControlJson(s.vpn->tia.ToString()) : ControlJson(nullptr)},
      {"vpn_gateway", s.vpn ? ControlJson(s.vpn->gateway.ToString()) : ControlJson(nullptr)},
      {"shutting_down", s.shutting_down},
      {"uptime_s", (s.now - s.started).seconds()},
  };
}

ControlJson MnInterfacesJson(const MnStatus& s) {
  ControlJson rows = ControlJson::array();
  for (const MnInterfaceStatus& i : s.interfaces) {
    rows.push_back(ControlJson{
        {"name", i.name},
        {"ifindex", i.ifindex},
        {"carrier", i.running},
        {"state", std::string(mn::IfStateName(i.state))},
        {"data_plane", std::string(mn::DataPlaneName(i.plane))},
        {"address", i.address ? ControlJson(i.address->ToString() + "/" +
                                            std::to_string(i.prefix_length))
                              : ControlJson(nullptr)},
        {"router", OptAddress(i.router)},
        {"dhcp", i.dhcp},
        {"table", i.table},
    });
  }
  return ControlJson{{"interfaces", rows}};
}

ControlJson MnHistoryJson(const MnStatus& s, std::size_t limit) {
  ControlJson rows = ControlJson::array();
  const std::size_t n = s.recent.size();
  const std::size_t first = n > limit ? n - limit : 0;
  for (std::size_t k = first; k < n; ++k) {
    const mn::ControllerEvent& e = s.recent[k];
    const Duration age = s.now - e.at;
    const bool state = e.kind == mn::ControllerEvent::Kind::kState;
    const bool plane = e.kind == mn::ControllerEvent::Kind::kDataPlane;
    rows.push_back(ControlJson{
        {"time", Utc(s.realtime_ns - age.nanos())},
        {"age_s", Seconds(age)},
        {"interface", Where(s, e.ifindex)},
        {"kind", std::string(KindName(e.kind))},
        {"from", state ? ControlJson(std::string(mn::IfStateName(e.from))) : ControlJson(nullptr)},
        {"to", state ? ControlJson(std::string(mn::IfStateName(e.to))) : ControlJson(nullptr)},
        {"data_plane",
         plane ? ControlJson(std::string(mn::DataPlaneName(e.plane))) : ControlJson(nullptr)},
        {"requirement", e.requirement},
        {"text", e.text},
    });
  }
  return ControlJson{{"kept", n}, {"shown", rows.size()}, {"events", rows}};
}

ControlJson MnSasJson(const MnStatus& s) {
  return ControlJson{
      {"vpn_configured", s.vpn_configured},
      {"up", s.vpn.has_value()},
      {"tia", s.vpn ? ControlJson(s.vpn->tia.ToString()) : ControlJson(nullptr)},
      {"gateway", s.vpn ? ControlJson(s.vpn->gateway.ToString()) : ControlJson(nullptr)},
      {"local", s.vpn ? ControlJson(s.vpn->local.ToString()) : ControlJson(nullptr)},
  };
}

ControlJson MnCountersJson(const MnStatus& s) {
  const mn::ControllerCounters& c = s.controller;
  const MnDaemonCounters& d = s.daemon;
  return ControlJson{
      {"controller",
       {{"probes", c.probes},
        {"tunnel_registrations", c.tunnel_registrations},
        {"vpn_commands", c.vpn_commands},
        {"sent", c.sent},
        {"passed", c.passed},
        {"blocked", c.blocked},
        {"delivered", c.delivered},
        {"delivery_blocked", c.delivery_blocked},
        {"tnc_ignored", c.tnc_ignored}}},
      {"daemon",
       {{"tun_in", d.tun_in},
        {"tun_out", d.tun_out},
        {"tun_write_errors", d.tun_write_errors},
        {"user_passed", d.user_passed},
        {"user_tunnelled", d.user_tunnelled},
        {"user_blocked", d.user_blocked},
        {"udp_in", d.io.udp_received},
        {"udp_truncated", d.io.udp_truncated},
        {"udp_out", d.io.udp_sent},
        {"raw_in", d.io.raw_received},
        {"raw_out", d.io.raw_sent},
        {"send_errors", d.io.send_errors},
        {"dhcp_out", d.dhcp_sent},
        {"dhcp_in", d.dhcp_received},
        {"dhcp_send_errors", d.dhcp_send_errors},
        {"netlink_errors", d.netlink_errors}}},
  };
}

std::vector<MnControlCommand> MnControlCommands(std::function<MnStatus()> snapshot,
                                                std::function<ControlJson()> ike_sas) {
  auto simple = [snapshot](ControlJson (*f)(const MnStatus&)) {
    return [snapshot, f](const ControlJson&) -> Result<ControlJson> { return f(snapshot()); };
  };
  std::vector<MnControlCommand> v;
  v.push_back({"status",
               "the mobile node: mode (c, f, mc, home, blocked), active interface, home "
               "address, home agent, VPN",
               simple(&MnStatusJson)});
  v.push_back({"interfaces",
               "each configured interface: ifindex, carrier, state, data plane, address, "
               "router, DHCP, table",
               simple(&MnInterfacesJson)});
  v.push_back({"history",
               "the controller's recent decisions, oldest first: time, interface, kind, "
               "from -> to, requirement, text (\"limit\": the last N)",
               [snapshot](const ControlJson& req) -> Result<ControlJson> {
                 std::size_t limit = static_cast<std::size_t>(-1);
                 if (auto it = req.find("limit"); it != req.end()) {
                   if (!it->is_number_unsigned()) {
                     return Error(Errc::kInvalidArgument,
                                  "\"limit\" must be a non-negative integer");
                   }
                   limit = it->get<std::size_t>();
                 }
                 return MnHistoryJson(snapshot(), limit);
               }});
  v.push_back({"sas",
               "the VPN as the controller sees it (up, TIA, gateway, local address) and its "
               "IKE SAs with their CHILD SAs (SPIs, selectors, bytes and packets)",
               [snapshot, ike_sas](const ControlJson&) -> Result<ControlJson> {
                 ControlJson out = MnSasJson(snapshot());
                 if (ike_sas) {
                   const ControlJson sas = ike_sas();  // alive for the loop
                   for (auto& [key, value] : sas.items()) out[key] = value;
                 }
                 return out;
               }});
  v.push_back({"counters", "the controller's and the daemon's counters",
               simple(&MnCountersJson)});
  return v;
}

}  // namespace mipsec::mnd
