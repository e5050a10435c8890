#include "lab/figure1/figure1_net.h"

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <iostream>
#include <sstream>
#include <thread>

#include "lab/figure1/files.h"

namespace mipsec::lab {
namespace {

// The segments that are bridges in `air`, and their ports there (the peers
// of the routers' and hosts' interfaces named in figure1.topo).
struct Segment {
  std::string_view bridge;
  std::vector<std::string_view> ports;
};
const std::vector<Segment>& Segments() {
  static const std::vector<Segment> kSegments = {
      {"br_home", {"home_iha", "home_r"}},
      {"br_core", {"core_r", "core_rhome", "core_rc", "core_ifa", "core_cn", "core_fw"}},
      {"br_c", {"c_r"}},
      {"br_f", {"f_r"}},
      {"br_pub", {"pub_r"}},
      {"br_natnet", {"natnet_r"}},
  };
  return kSegments;
}

std::string_view BridgeOf(Access a) {
  switch (a) {
    case Access::kHome: return "br_home";
    case Access::kC: return "br_c";
    case Access::kF: return "br_f";
    case Access::kPub: return "br_pub";
    case Access::kNatNet: return "br_natnet";
  }
  return "br_home";
}

std::string Tail(const std::string& s, std::size_t lines) {
  std::size_t pos = s.size();
  for (std::size_t n = 0; n <= lines && pos > 0; ++n) {
    pos = s.rfind('\n', pos - 1);
    if (pos == std::string::npos) return s;
  }
  return s.substr(pos + 1);
}

std::string Str(std::string_view v) { return std::string(v); }

}  // namespace

std::string_view AccessName(Access a) {
  switch (a) {
    case Access::kHome: return "home";
    case Access::kC: return "c";
    case Access::kF: return "f";
    case Access::kPub: return "pub";
    case Access::kNatNet: return "natnet";
  }
  return "?";
}

Result<std::string> Figure1Net::ReadSource(std::string_view name) {
  std::optional<std::string_view> text = Figure1File(name);
  if (!text) return Error(Errc::kNotFound, "no Figure 1 lab file " + Str(name));
  return Str(*text);
}

std::vector<std::string> Figure1Net::MissingTools(
    const Figure1Options& options, const std::function<bool(std::string_view)>& have) {
  auto exists = [&](std::string_view tool) {
    return have ? have(tool) : FindExecutable(tool).ok();
  };
  struct Tool {
    std::string_view name;
    std::string_view package;
  };
  std::vector<Tool> tools = {{"ip", "iproute2"}, {"nft", "nftables"}, {"ss", "iproute2"}};
  if (options.start_dhcp) tools.push_back({"dnsmasq", "dnsmasq-base"});
  if (options.mvpn == Mvpn::kStrongswan) {
    tools.push_back({"charon-systemd", "charon-systemd"});
    tools.push_back({"swanctl", "strongswan-swanctl"});
  }
  std::vector<std::string> missing;
  for (const Tool& t : tools) {
    if (!exists(t.name)) {
      missing.push_back(Str(t.name) + " (Debian package " + Str(t.package) + ")");
    }
  }
  return missing;
}

Result<std::unique_ptr<Figure1Net>> Figure1Net::Create(const Figure1Options& options) {
  std::unique_ptr<Figure1Net> net(new Figure1Net);
  char tmpl[] = "/tmp/mipsec-figure1-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return Error(Errc::kSystem, "mkdtemp failed");
  net->run_dir_ = tmpl;
  if (options.mipsec_binary.empty()) {
    MIPSEC_ASSIGN_OR_RETURN(net->mipsec_binary_, SelfExecutable());
  } else {
    net->mipsec_binary_ = options.mipsec_binary;
  }
  Status st = net->Build(options);
  if (!st.ok()) {
    std::string why = st.error().ToString() + "\n" + net->Describe();
    return Error(st.error().code(), "figure1: " + why);
  }
  return net;
}

Figure1Net::~Figure1Net() {
  // Programs first (SIGTERM: the daemons undo their routes), then the
  // namespaces with everything left in them.
  for (auto& [name, child] : programs_) child->Stop(Duration::Seconds(3));
  swan_.reset();
  if (topo_) (void)topo_->Destroy();
  const bool keep = keep_run_dir_ || getenv("MIPSEC_KEEP_FIGURE1") != nullptr;
  if (keep) {
    std::cerr << "figure1: run directory kept: " << run_dir_ << "\n";
  } else if (!run_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(run_dir_, ec);
  }
}

Status Figure1Net::Build(const Figure1Options& options) {
  mvpn_ = options.mvpn;
  MIPSEC_ASSIGN_OR_RETURN(std::string topo_text, ReadSource("figure1.topo"));
  MIPSEC_ASSIGN_OR_RETURN(topo_, Topology::Create(topo_text));
  MIPSEC_TRY(MakeBridges());
  MIPSEC_ASSIGN_OR_RETURN(std::string rules, ReadSource("firewall.nft"));
  MIPSEC_ASSIGN_OR_RETURN(std::string rules_path, WriteConfig("firewall.nft", rules));
  MIPSEC_TRY(topo_->Run("fw", {"nft", "-f", rules_path}));
  if (options.start_dhcp) {
    MIPSEC_TRY(StartDhcp("dnsmasq-c", "rc", "eth0", "10.2.0.100", "10.2.0.199", "10.2.0.1",
                         "10.0.0.53", "corp.example"));
    MIPSEC_TRY(StartDhcp("dnsmasq-f", "ifa", "eth0", "10.4.0.100", "10.4.0.199", "10.4.0.1",
                         "10.0.0.53", "corp.example"));
    MIPSEC_TRY(StartDhcp("dnsmasq-pub", "rext", "eth1", "203.0.113.100", "203.0.113.120",
                         "203.0.113.1", "203.0.113.53", "hotspot.example"));
    MIPSEC_TRY(StartDhcp("dnsmasq-natnet", "nat", "eth0", "192.168.1.100", "192.168.1.199",
                         "192.168.1.1", "192.168.1.1", "home.example"));
  }
  if (options.start_ha) MIPSEC_TRY(StartAgent("ha", "iha", "10.1.0.2:434"));
  if (options.start_fa) MIPSEC_TRY(StartAgent("fa", "ifa", ":434"));
  switch (options.mvpn) {
    case Mvpn::kNone: break;
    case Mvpn::kMipsec: MIPSEC_TRY(StartAgent("gw", "mvpn", "192.0.2.2:500")); break;
    case Mvpn::kStrongswan: {
      MIPSEC_ASSIGN_OR_RETURN(std::string policy, ReadSource("mvpn-policy.nft"));
      MIPSEC_ASSIGN_OR_RETURN(std::string policy_path, WriteConfig("mvpn-policy.nft", policy));
      MIPSEC_TRY(topo_->Run("mvpn", {"nft", "-f", policy_path}));
      MIPSEC_ASSIGN_OR_RETURN(swan_, StrongswanPeer::Start(*topo_, "mvpn", StrongswanMvpn()));
      break;
    }
  }
  return Ok{};
}

Status Figure1Net::MakeBridges() {
  for (const Segment& s : Segments()) {
    // No STP (ports forward at once) and no multicast snooping (Agent
    // Advertisements go to 224.0.0.1 and must reach every port).
    MIPSEC_TRY(topo_->Run("air", {"ip", "link", "add", Str(s.bridge), "type", "bridge",
                                  "stp_state", "0", "forward_delay", "0", "mcast_snooping",
                                  "0"}));
    for (std::string_view port : s.ports) {
      MIPSEC_TRY(topo_->Run("air", {"ip", "link", "set", Str(port), "master", Str(s.bridge)}));
    }
    MIPSEC_TRY(topo_->Run("air", {"ip", "link", "set", Str(s.bridge), "up"}));
  }
  // The radio starts out of range.
  return topo_->Run("air", {"ip", "link", "set", "radio", "down"});
}

Status Figure1Net::Attach(Access a) {
  MIPSEC_TRY(Detach());
  MIPSEC_TRY(topo_->Run("air", {"ip", "link", "set", "radio", "master", Str(BridgeOf(a))}));
  return topo_->Run("air", {"ip", "link", "set", "radio", "up"});
}

Status Figure1Net::Detach() {
  MIPSEC_TRY(topo_->Run("air", {"ip", "link", "set", "radio", "down"}));
  MIPSEC_TRY(topo_->Run("air", {"ip", "link", "set", "radio", "nomaster"}));
  // The kernel reports carrier changes through its link watch, which
  // handles a device that went down only up to a second later. Raising the
  // radio again before both ends were reported down would (a) leave the new
  // bridge port disabled until that late report while the MN already sees
  // its carrier and sends (its first DHCP request was lost at every move),
  // and (b) let the MN miss the carrier loss altogether under load (the two
  // reports fold into one "up"), so that it keeps a stale address on the
  // new network. A laptop leaving a WLAN is off the air longer than this.
  const auto down = [&](std::string_view ns, std::string_view dev) {
    Result<ExecResult> r = topo_->Exec(ns, {"ip", "-o", "link", "show", std::string(dev)});
    return r.ok() && r->Success() && r->out.find("state UP") == std::string::npos &&
           r->out.find("LOWER_UP") == std::string::npos;
  };
  for (int i = 0; i < 300; ++i) {
    if (down("air", "radio") && down("mn", "eth0")) return Ok{};
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Error(Errc::kTimeout, "the radio's carrier loss was not reported within 3 s");
}

Result<std::uint64_t> Figure1Net::FirewallRejects() {
  MIPSEC_ASSIGN_OR_RETURN(ExecResult r,
                          topo_->Exec("fw", {"nft", "list", "counter", "inet", "mipsec_fw",
                                             "ext_to_intranet"}));
  if (!r.Success()) return Error(Errc::kSystem, "nft list counter: " + r.err);
  std::size_t at = r.out.find("packets ");
  if (at == std::string::npos) return Error(Errc::kMalformed, "no packet count in: " + r.out);
  return std::stoull(r.out.substr(at + 8));
}

StrongswanConfig Figure1Net::StrongswanMvpn() {
  StrongswanConfig cfg;
  cfg.interfaces_use = "eth0";
  // kernel-libipsec routes each TIA into its TUN with a source address from
  // the local traffic selector, so the mVPN holds one intranet address
  // (10.255.255.1 on lo, figure1.topo) and offers the intranet; which
  // traffic may really pass is mvpn-policy.nft's business.
  SwanConnection& rw = cfg.AddConnection("rw");
  rw.local_addrs = {Str(kGateway)};
  rw.local.id = Str(kGatewayId.substr(5));  // "fqdn:" off: strongSwan takes the bare name
  rw.remote.id = "%any";
  rw.psk = "mipsec figure 1!";  // the bytes of kPsk
  rw.pool_addrs = "10.10.0.0/24";
  rw.unique = "never";
  rw.mobike = true;
  rw.dpd_delay_s = 30;
  // RFC 5265 4.2 / R25: clients reach only the i-HA, with Mobile IPv4
  // (mvpn-policy.nft).
  SwanChild& ha = rw.AddChild("intranet");
  ha.local_ts = {"10.0.0.0/8"};
  ha.esp_proposals = "aes128gcm16";
  return cfg;
}

Child* Figure1Net::program(std::string_view name) {
  auto it = programs_.find(name);
  return it == programs_.end() ? nullptr : it->second;
}

std::string Figure1Net::Log(std::string_view name) {
  Child* c = program(name);
  return c ? c->Stderr() : std::string();
}

std::string Figure1Net::Describe() {
  std::ostringstream out;
  for (auto& [name, child] : programs_) {
    out << "---- " << name << (child->Running() ? " (running)" : " (exited)") << " ----\n"
        << Tail(child->Stderr(), 40) << "\n";
  }
  return out.str();
}

Result<std::string> Figure1Net::WriteConfig(std::string_view name, std::string_view text) {
  std::string body(text);
  for (std::size_t at = body.find("@RUN@"); at != std::string::npos;
       at = body.find("@RUN@", at + run_dir_.size())) {
    body.replace(at, 5, run_dir_);
  }
  const std::string path = run_dir_ + "/" + Str(name);
  std::ofstream out(path);
  out << body;
  if (!out.good()) return Error(Errc::kSystem, "cannot write " + path);
  return path;
}

Status Figure1Net::StartDhcp(std::string_view name, std::string_view ns,
                             std::string_view interface, std::string_view first,
                             std::string_view last, std::string_view router, std::string_view dns,
                             std::string_view domain) {
  MIPSEC_ASSIGN_OR_RETURN(std::string dnsmasq, FindExecutable("dnsmasq"));
  const std::string base = run_dir_ + "/" + Str(name);
  // DHCP only (no DNS: port 0), on that one interface, from no config file,
  // in the foreground with its log on stderr; as root (the default user
  // `dnsmasq` need not exist where only dnsmasq-base is installed). No ping
  // before an offer: dnsmasq would otherwise wait up to 3 s for an echo
  // reply from the address it is about to offer, which would count in every
  // move's gap (the simulated DHCP servers do not probe either).
  Result<Child*> c = topo_->Spawn(
      ns, {dnsmasq, "--no-daemon", "--conf-file=/dev/null", "--port=0", "--user=root",
           "--group=root", "--interface=" + Str(interface), "--bind-interfaces",
           "--dhcp-authoritative", "--no-ping", "--log-dhcp", "--log-facility=-",
           "--dhcp-range=" + Str(first) + "," + Str(last) + ",255.255.255.0,10m",
           "--dhcp-option=option:router," + Str(router),
           "--dhcp-option=option:dns-server," + Str(dns),
           "--dhcp-option=option:domain-name," + Str(domain),
           "--dhcp-leasefile=" + base + ".leases", "--pid-file=" + base + ".pid"});
  if (!c.ok()) return c.error();
  programs_.emplace(Str(name), *c);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!(*c)->Running()) return Error(Errc::kState, Str(name) + " exited at start");
    auto ss = topo_->Exec(ns, {"ss", "-Hlun", "sport = :67"});
    if (ss.ok() && ss->out.find(":67") != std::string::npos) return Ok{};
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Error(Errc::kTimeout, Str(name) + " does not listen on UDP 67 after 5 s");
}

Status Figure1Net::StartAgent(std::string_view kind, std::string_view ns,
                              std::string_view listen) {
  MIPSEC_ASSIGN_OR_RETURN(std::string text, ReadSource(Str(kind) + ".toml"));
  MIPSEC_ASSIGN_OR_RETURN(std::string config, WriteConfig(Str(kind) + ".toml", text));
  Result<Child*> c = topo_->Spawn(ns, {mipsec_binary_, Str(kind), "--config", config});
  if (!c.ok()) return c.error();
  programs_.emplace(Str(kind), *c);
  const std::string port = Str(listen.substr(listen.find(':')));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!(*c)->Running()) return Error(Errc::kState, "mipsec " + Str(kind) + " exited at start");
    auto ss = topo_->Exec(ns, {"ss", "-Hlun", "sport = " + port});
    if (ss.ok() && ss->out.find(port + " ") != std::string::npos) return Ok{};
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Error(Errc::kTimeout, "mipsec " + Str(kind) + " does not listen on " + Str(listen) +
                                   " after 10 s");
}

}  // namespace mipsec::lab
