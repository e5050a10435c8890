#include "platform/linux/ikev2/gw_daemon.h"


#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <utility>

#include "platform/linux/ikev2/ike_sas_json.h"
#include "platform/linux/reload_report.h"
#include "platform/linux/sysctl.h"
#include "platform/linux/udp_socket.h"

namespace mipsec::ikev2d {
namespace {

struct NftResult {
  int status = -1;
  std::string out;
};

// Runs `nft <args>` with `input` on stdin; stdout (and stderr) captured.
Result<NftResult> RunNft(const std::vector<std::string>& args, const std::string& input) {
  int in_pipe[2];
  int out_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) return Error(Errc::kSystem, "nft: pipe failed");
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    close(in_pipe[0]);
    close(in_pipe[1]);
    return Error(Errc::kSystem, "nft: pipe failed");
  }
  std::vector<std::string> argv_s = {"nft"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1]}) close(fd);
    return Error(Errc::kSystem, std::string("nft: fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(out_pipe[1], 2);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, nullptr);
    execvp("nft", argv.data());
    execv("/usr/sbin/nft", argv.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  std::size_t off = 0;
  while (off < input.size()) {
    ssize_t n = write(in_pipe[1], input.data() + off, input.size() - off);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  close(in_pipe[1]);
  NftResult r;
  char buf[4096];
  for (;;) {
    ssize_t n = read(out_pipe[0], buf, sizeof(buf));
    if (n <= 0) break;
    r.out.append(buf, static_cast<std::size_t>(n));
  }
  close(out_pipe[0]);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  if (r.status == 127) return Error(Errc::kNotFound, "nft: not installed (package nftables)");
  return r;
}

std::string RuleMatch(const config::AllowRule& r) {
  std::ostringstream o;
  o << "ip daddr " << r.destination.ToString();
  const bool ports = r.port_first != 0 || r.port_last != 0xffff;
  if ((r.protocol == 17 || r.protocol == 6) && ports) {
    o << (r.protocol == 17 ? " udp dport " : " tcp dport ") << r.port_first;
    if (r.port_last != r.port_first) o << "-" << r.port_last;
  } else if (r.protocol != 0) {
    o << " meta l4proto " << static_cast<int>(r.protocol);
  }
  return o.str();
}

}  // namespace

bool OutsideOnlyPolicy::Acceptable(const Ipv4Endpoint& /*local*/,
                                   const Ipv4Endpoint& remote) const {
  return std::none_of(inside_.begin(), inside_.end(),
                      [&](const Ipv4Prefix& p) { return p.Contains(remote.address); });
}

std::string PolicyNftScript(const config::GwPolicy& policy, const std::string& tun,
                            const std::string& table) {
  std::ostringstream o;
  // Create-then-flush makes the script idempotent (a table left by a killed
  // daemon is replaced).
  o << "table ip " << table << " {}\n";
  o << "flush table ip " << table << "\n";
  o << "table ip " << table << " {\n";
  o << "  counter policy_drops {}\n";
  for (const char* hook : {"forward", "input"}) {
    o << "  chain " << hook << " {\n";
    o << "    type filter hook " << hook << " priority filter; policy accept;\n";
    for (const config::AllowRule& r : policy.rules) {
      o << "    iifname \"" << tun << "\" " << RuleMatch(r) << " accept\n";
    }
    o << "    iifname \"" << tun << "\" counter name policy_drops drop\n";
    o << "  }\n";
  }
  o << "}\n";
  return o.str();
}

GwDaemon::GwDaemon(const config::GwConfig& config, const GwDaemonOptions& options, LogSink* sink)
    : config_(config),
      options_(options),
      log_(sink, "gw", options.log_level.value_or(config.log_level)) {}

Result<std::unique_ptr<GwDaemon>> GwDaemon::Create(const config::GwConfig& config,
                                                   const GwDaemonOptions& options,
                                                   LogSink* sink) {
  std::unique_ptr<GwDaemon> d(new GwDaemon(config, options, sink));
  Status st = d->Init();
  if (!st.ok()) return st.error();  // the destructor undoes what Init did
  return d;
}

Status GwDaemon::Init() {
  // The pool and the responder config first: nothing opens for a config
  // the SA layer cannot use.
  auto pool = config::MakeTiaPool(config_);
  if (!pool.ok()) return Error(pool.error().code(), "tia_pool: " + pool.error().detail());
  pool_ = std::make_unique<ikev2::TiaPool>(std::move(*pool));
  psks_ = std::make_unique<config::GwPskTable>(config_);
  auto peer = config::ToResponderPeerConfig(config_, pool_.get(), psks_.get());
  if (!peer.ok()) return peer.error();
  // The userspace data path carries ESP-in-UDP only (RFC 3948).
  peer->force_encapsulation = true;
  peer->natt_port = config_.natt_port;
  std::vector<Ipv4Prefix> inside = config_.intranet;
  for (const Ipv4Prefix& p : RangeToPrefixes(pool_->first(), pool_->last())) inside.push_back(p);
  path_policy_ = std::make_unique<OutsideOnlyPolicy>(std::move(inside));
  peer->mobike.path_policy = path_policy_.get();
  ikev2::IkeSaManagerConfig mc;
  mc.responder = std::move(*peer);
  mc.cookie_threshold = config_.cookie_threshold;

  MIPSEC_ASSIGN_OR_RETURN(loop_, platform::EpollEventLoop::Create());
  MIPSEC_TRY(loop_->HandleSignal(SIGINT, [this](int) {
    MIPSEC_LOG(log_, kInfo) << "SIGINT: shutting down";
    loop_->Stop();
  }));
  MIPSEC_TRY(loop_->HandleSignal(SIGTERM, [this](int) {
    MIPSEC_LOG(log_, kInfo) << "SIGTERM: shutting down";
    loop_->Stop();
  }));
  MIPSEC_TRY(loop_->HandleSignal(SIGUSR1, [this](int) {
    MIPSEC_LOG(log_, kNotice) << "counters: " << CountersLine();
  }));
  MIPSEC_TRY(loop_->HandleSignal(SIGHUP, [this](int) { (void)Reload(); }));
  // Before anything on the host changes: a second gateway with the same
  // socket stops here. (The handlers run only once the loop runs.)
  started_ = loop_->Now();
  MIPSEC_TRY(OpenControlSocket());
  MIPSEC_ASSIGN_OR_RETURN(netlink_, platform::LinuxNetlink::Open());

  const Ipv4Address bind =
      config_.listen.size() == 1 ? config_.listen[0] : Ipv4Address::Any();
  platform::UdpOptions uo;
  uo.bind = Ipv4Endpoint{bind, config_.ike_port};
  auto ike = platform::LinuxUdpSocket::Open(uo);
  if (!ike.ok()) return ike.error();

  auto dp = OpenTunnelDataPath(*netlink_, config_.tun_name, Ipv4Endpoint{bind, config_.natt_port}, config_.tun_mtu);
  if (!dp.ok()) return dp.error();
  tun_name_ = (*dp)->tun().name();
  tun_ifindex_ = (*dp)->tun().ifindex();
  // The TIA pool is routed into the TUN: replies reach the data path.
  for (const Ipv4Prefix& p : RangeToPrefixes(pool_->first(), pool_->last())) {
    platform::Route r;
    r.destination = p;
    r.oif = tun_ifindex_;
    Status st = netlink_->ReplaceRoute(r);
    if (!st.ok()) return Error(st.error().code(), "route " + p.ToString() + " dev " + tun_name_ +
                                                      ": " + st.error().detail());
    routes_.push_back(r);
  }
  auto fwd = platform::ReadSysctl("/proc/sys/net/ipv4/ip_forward");
  if (!fwd.ok() || *fwd != "1") {
    MIPSEC_LOG(log_, kWarning) << "net.ipv4.ip_forward is not 1: clients' traffic will not be "
                                  "forwarded into the intranet (sysctl -w net.ipv4.ip_forward=1)";
  }
  if (config_.policy) MIPSEC_TRY(InstallPolicy());

  IkeRuntimeOptions ro;
  MIPSEC_ASSIGN_OR_RETURN(
      runtime_, IkeRuntime::Create(*loop_, std::move(*ike), std::move(*dp), std::move(mc),
                                   random_, log_.Child("ike"), ro));

  std::string intranet;
  for (const auto& p : config_.intranet) intranet += " " + p.ToString();
  MIPSEC_LOG(log_, kInfo) << "gateway " << bind.ToString() << " ports " << config_.ike_port << "/"
                          << config_.natt_port << " tun " << tun_name_ << " tia pool "
                          << pool_->first().ToString() << "-" << pool_->last().ToString()
                          << " intranet" << intranet
                          << (config_.policy ? " policy: RFC 5265 4.2 allow list"
                                             : " policy: none (traffic selectors only)");
  return Ok{};
}

Status GwDaemon::OpenControlSocket() {
  platform::ControlServerOptions co;
  co.path = options_.control_socket.empty() ? config_.control_socket : options_.control_socket;
  MIPSEC_ASSIGN_OR_RETURN(control_,
                          platform::ControlServer::Create(*loop_, co, log_.Child("ctl")));
  using platform::ControlJson;
  MIPSEC_TRY(control_->Register("status", "the gateway: addresses, ports, TIA pool, IKE SA count",
                                [this](const ControlJson&) -> Result<ControlJson> {
                                  return StatusJson();
                                }));
  MIPSEC_TRY(control_->Register(
      "sas",
      "IKE SAs (SPIs, peer, NAT, MOBIKE, TIA) with their CHILD SAs (SPIs, traffic selectors, "
      "bytes and packets)",
      [this](const ControlJson&) -> Result<ControlJson> { return SasJson(); }));
  MIPSEC_TRY(control_->Register("counters", "IKE, ESP data path, TIA pool, policy drops",
                                [this](const ControlJson&) -> Result<ControlJson> {
                                  return CountersJson();
                                }));
  return Ok{};
}


platform::ControlJson GwDaemon::StatusJson() const {
  using platform::ControlJson;
  ControlJson listen = ControlJson::array();
  for (Ipv4Address a : config_.listen) listen.push_back(a.ToString());
  ControlJson intranet = ControlJson::array();
  for (const Ipv4Prefix& p : config_.intranet) intranet.push_back(p.ToString());
  return ControlJson{
      {"daemon", "gw"},
      {"listen", listen},
      {"ike_port", config_.ike_port},
      {"natt_port", config_.natt_port},
      {"local_id", config::IdentityToString(config_.ike.local_id)},
      {"mobike", config_.ike.mobike},
      {"tun", tun_name_},
      {"tia_pool", pool_->first().ToString() + "-" + pool_->last().ToString()},
      {"tia_in_use", pool_->in_use()},
      {"intranet", intranet},
      {"policy", config_.policy ? "RFC 5265 4.2 allow list (nft table " + nft_table_ + ")"
                                : std::string("none (traffic selectors only)")},
      {"ike_sas", runtime_->ike_sa_ids().size()},
      {"child_sas", runtime_->installed_children()},
      {"uptime_s", (loop_->Now() - started_).seconds()},
  };
}

platform::ControlJson GwDaemon::SasJson() { return IkeSasJson(*runtime_, loop_->Now()); }

platform::ControlJson GwDaemon::CountersJson() const {
  using platform::ControlJson;
  const IkeRuntimeCounters& k = runtime_->counters();
  const platform::EspDataPathStats es = runtime_->datapath().Stats();
  const ikev2::IkeSaManagerStats& ms = runtime_->manager().stats();
  return ControlJson{
      {"ike",
       {{"ike_in", k.ike_in},
        {"ike_in_natt", k.ike_in_natt},
        {"ike_out", k.ike_out},
        {"keepalives_out", k.keepalives_out},
        {"send_errors", k.send_errors},
        {"mailbox_drops", k.mailbox_drops},
        {"ike_up", k.ike_up},
        {"ike_down", k.ike_down},
        {"children_up", k.children_up},
        {"children_down", k.children_down},
        {"rekeys_installed", k.rekeys_installed},
        {"install_errors", k.install_errors},
        {"esp_soft_expiries", k.esp_soft_expiries},
        {"esp_hard_expiries", k.esp_hard_expiries},
        {"cookies_sent", ms.cookies_sent},
        {"cookies_refused", ms.cookies_refused},
        {"dropped", ms.dropped}}},
      {"esp_tx",
       {{"tun_packets", es.tx.tun_packets},
        {"tun_bytes", es.tx.tun_bytes},
        {"sent_packets", es.tx.sent_packets},
        {"sent_bytes", es.tx.sent_bytes},
        {"no_policy", es.tx.no_policy},
        {"send_errors", es.tx.send_errors}}},
      {"esp_rx",
       {{"datagrams", es.rx.datagrams},
        {"bytes", es.rx.bytes},
        {"delivered", es.rx.delivered},
        {"delivered_bytes", es.rx.delivered_bytes},
        {"ike", es.rx.ike},
        {"keepalives", es.rx.keepalives},
        {"tun_write_errors", es.rx.tun_write_errors}}},
      {"tia", {{"in_use", pool_->in_use()}, {"exhausted", pool_->stats().exhausted}}},
      {"policy_drops", config_.policy ? ControlJson(PolicyDrops()) : ControlJson(nullptr)},
  };
}

Status GwDaemon::InstallPolicy() {
  std::string table = "mipsec_" + tun_name_;
  for (char& c : table) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  auto r = RunNft({"-f", "-"}, PolicyNftScript(*config_.policy, tun_name_, table));
  if (!r.ok()) return Error(r.error().code(), "policy: " + r.error().detail());
  if (r->status != 0) return Error(Errc::kSystem, "policy: nft -f: " + r->out);
  nft_table_ = table;
  MIPSEC_LOG(log_, kInfo) << "policy: nft table ip " << table << " with "
                          << config_.policy->rules.size() << " allow rules on " << tun_name_;
  return Ok{};
}

void GwDaemon::RemovePolicy() {
  if (nft_table_.empty()) return;
  auto r = RunNft({"delete", "table", "ip", nft_table_}, "");
  if (!r.ok() || r->status != 0) {
    MIPSEC_LOG(log_, kWarning) << "policy: could not delete nft table " << nft_table_;
  }
  nft_table_.clear();
}

void GwDaemon::RemoveRoutes() {
  if (!netlink_) return;
  for (const platform::Route& r : routes_) (void)netlink_->DeleteRoute(r);
  routes_.clear();
}

std::uint64_t GwDaemon::PolicyDrops() const {
  if (nft_table_.empty()) return 0;
  auto r = RunNft({"list", "counter", "ip", nft_table_, "policy_drops"}, "");
  if (!r.ok() || r->status != 0) return 0;
  std::smatch m;
  static const std::regex kPackets("packets ([0-9]+)");
  if (!std::regex_search(r->out, m, kPackets)) return 0;
  return std::stoull(m[1].str());
}

std::string GwDaemon::CountersLine() const {
  std::ostringstream o;
  o << runtime_->CountersLine() << " | tia in_use " << pool_->in_use() << " exhausted "
    << pool_->stats().exhausted;
  if (config_.policy) o << " | policy_drops " << PolicyDrops();
  return o.str();
}

Status GwDaemon::Run() {
  Status st = loop_->Run();
  // Tell the clients (INFORMATIONAL Delete) and wait briefly for answers.
  runtime_->DeleteAll();
  const Timestamp end = loop_->Now() + options_.shutdown_grace;
  while (runtime_->size() > 0 && loop_->Now() < end) {
    (void)loop_->RunOnce(Duration::Millis(50));
  }
  runtime_->TerminateAll();
  MIPSEC_LOG(log_, kInfo) << "counters: " << CountersLine();
  return st;
}

Status GwDaemon::Reload() {
  const std::string& path = options_.config_path;
  const platform::ReloadReport report(log_, path);
  MIPSEC_TRY(report.CheckPath());
  Result<config::GwConfig> loaded = config::LoadGwConfig(path);
  if (!loaded.ok()) return report.Failed(loaded.error());
  if (options_.log_level) loaded->log_level = *options_.log_level;
  const config::ReloadDiff diff = config::DiffGwConfig(config_, *loaded);
  config::GwConfig next = config::MergeGwReload(config_, *loaded);
  // Every IKE_AUTH from now on finds the new keys (IKE SAs already up keep
  // theirs: they never look a PSK up again).
  psks_->Replace(next);
  config_ = std::move(next);
  log_.set_min_level(config_.log_level);
  runtime_->set_log_level(config_.log_level);
  report.RestartOnly(diff.RestartKeys());
  if (config_.ike.auth.kind == ikev2::AuthKind::kCertificate) {
    MIPSEC_LOG(log_, kNotice) << "reload " << path
                              << ": certificates and keys are not reloaded (restart to change "
                                 "them)";
  }
  MIPSEC_LOG(log_, kNotice) << "reloaded " << path << ": " << diff.Summary("client") << " ("
                            << runtime_->size() << " IKE SAs kept)";
  return Ok{};
}

GwDaemon::~GwDaemon() {
  control_.reset();  // socket file removed
  runtime_.reset();  // data path stopped, TUN closed
  RemovePolicy();
  RemoveRoutes();
}

}  // namespace mipsec::ikev2d
