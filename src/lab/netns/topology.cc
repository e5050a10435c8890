#include "lab/netns/topology.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "common/bug.h"

namespace mipsec::lab {
namespace {

constexpr const char kNetnsDir[] = "/run/netns";

Error SysError(std::string_view what, int err) {
  return Error(Errc::kSystem, std::string(what) + ": " + std::strerror(err));
}

// Four hex digits, fixed for the life of the process.
const std::string& ProcessSalt() {
  static const std::string salt = [] {
    unsigned short v = 0;
    if (::getrandom(&v, sizeof v, 0) != static_cast<ssize_t>(sizeof v)) {
      v = static_cast<unsigned short>(::getpid() * 2654435761u >> 16);
    }
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04x", static_cast<unsigned>(v));
    return std::string(buf);
  }();
  return salt;
}

std::string NewPrefix() {
  static std::atomic<int> counter{0};
  return "mipsec-" + std::to_string(::getpid()) + "-" + ProcessSalt() + "-" +
         std::to_string(++counter) + "-";
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

Result<std::string> FindTool(std::string_view name, std::string_view package) {
  auto path = FindExecutable(name);
  if (!path.ok()) {
    return Error(Errc::kNotFound,
                 "`" + std::string(name) + "` not found; install the Debian package " +
                     std::string(package) + " (apt-get install " + std::string(package) + ")");
  }
  return path;
}

Status CheckRun(const std::string& where, const std::vector<std::string>& argv,
                const Result<ExecResult>& r) {
  if (!r.ok()) return r.error().WithContext(where);
  if (r->Success()) return Ok{};
  std::string detail = where + ": " + JoinArgv(argv) + ": " + r->Describe();
  std::string err = Trimmed(r->err.empty() ? r->out : r->err);
  if (!err.empty()) detail += ": " + err;
  return Error(Errc::kSystem, detail);
}

// Writes a sysctl of the calling thread's network namespace.
Status WriteSysctl(const std::string& key, std::string_view value, bool may_be_missing) {
  std::string path = "/proc/sys/net/" + key;
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    if (may_be_missing && errno == ENOENT) return Ok{};
    return SysError("open " + path, errno);
  }
  ssize_t n = ::write(fd, value.data(), value.size());
  int e = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(value.size())) return SysError("write " + path, e);
  return Ok{};
}

bool IsPid(const char* s) {
  if (*s == '\0') return false;
  for (; *s; ++s) {
    if (*s < '0' || *s > '9') return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> ListNetns() {
  std::vector<std::string> out;
  DIR* d = ::opendir(kNetnsDir);
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

Result<int> KillProcessesInNetns(int netns_fd) {
  struct stat target {};
  if (::fstat(netns_fd, &target) != 0) return SysError("fstat of a namespace fd", errno);
  const pid_t self = ::getpid();
  int total = 0;
  for (int round = 0; round < 5; ++round) {
    DIR* d = ::opendir("/proc");
    if (d == nullptr) return SysError("opendir /proc", errno);
    int killed = 0;
    while (dirent* e = ::readdir(d)) {
      if (!IsPid(e->d_name)) continue;
      pid_t pid = static_cast<pid_t>(std::atol(e->d_name));
      if (pid == self) continue;
      struct stat st {};
      std::string path = std::string("/proc/") + e->d_name + "/ns/net";
      if (::stat(path.c_str(), &st) != 0) continue;  // gone, or a kernel thread
      if (st.st_ino == target.st_ino && st.st_dev == target.st_dev) {
        if (::kill(pid, SIGKILL) == 0) ++killed;
      }
    }
    ::closedir(d);
    total += killed;
    if (killed == 0) break;
  }
  return total;
}

Topology::Topology(TopologySpec spec) : spec_(std::move(spec)), prefix_(NewPrefix()) {
  for (const auto& n : spec_.namespaces) ns_.push_back(Ns{n.name, prefix_ + n.name, -1, false});
}

Result<std::unique_ptr<Topology>> Topology::Create(std::string_view description) {
  MIPSEC_ASSIGN_OR_RETURN(TopologySpec spec, ParseTopology(description));
  return Create(spec);
}

Result<std::unique_ptr<Topology>> Topology::Create(const TopologySpec& spec) {
  MIPSEC_TRY(spec.Validate());
  if (::geteuid() != 0) {
    return Error(Errc::kState, "creating network namespaces needs root (euid " +
                                   std::to_string(::geteuid()) + ")");
  }
  std::unique_ptr<Topology> topo(new Topology(spec));
  MIPSEC_ASSIGN_OR_RETURN(topo->ip_, FindTool("ip", "iproute2"));
  if (spec.UsesNftables()) {
    MIPSEC_ASSIGN_OR_RETURN(topo->nft_, FindTool("nft", "nftables"));
  }
  MIPSEC_ASSIGN_OR_RETURN(topo->reaper_, NetnsReaper::Start(topo->ip_));
  Status built = topo->Build();
  if (!built.ok()) {
    Error e = std::move(built).error().WithContext("building topology " + topo->prefix_ + "*");
    Status torn = topo->Destroy();
    if (!torn.ok()) {
      return Error(e.code(), e.detail() + "; teardown: " + torn.error().detail());
    }
    return e;
  }
  return topo;
}

Status Topology::Build() {
  for (auto& ns : ns_) {
    MIPSEC_TRY(reaper_->Register(ns.real));
    std::vector<std::string> add = {ip_, "netns", "add", ns.real};
    MIPSEC_TRY(CheckRun("host", add, ExecInNetns(-1, add)));
    ns.created = true;
    std::string path = std::string(kNetnsDir) + "/" + ns.real;
    ns.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns.fd < 0) return SysError("open " + path, errno);
  }
  for (size_t i = 0; i < ns_.size(); ++i) {
    MIPSEC_TRY(ConfigureNamespace(ns_[i], spec_.namespaces[i].router));
  }
  for (const auto& link : spec_.links) MIPSEC_TRY(CreateLink(link));
  for (const auto& a : spec_.addresses) {
    MIPSEC_TRY(Run(a.ns, {ip_, "addr", "add", a.address, "dev", a.ifname}));
  }
  for (const auto& r : spec_.routes) {
    std::vector<std::string> argv = {ip_, "route", "add", r.dest};
    if (!r.via.empty()) argv.insert(argv.end(), {"via", r.via});
    if (!r.dev.empty()) argv.insert(argv.end(), {"dev", r.dev});
    if (!r.src.empty()) argv.insert(argv.end(), {"src", r.src});
    if (r.metric) argv.insert(argv.end(), {"metric", std::to_string(*r.metric)});
    if (r.mtu) argv.insert(argv.end(), {"mtu", std::to_string(*r.mtu)});
    MIPSEC_TRY(Run(r.ns, argv));
  }
  for (const auto& ns : ns_) MIPSEC_TRY(ApplyNftables(ns));
  return Ok{};
}

Status Topology::ConfigureNamespace(const Ns& ns, bool router) {
  Status sysctls = Ok{};
  MIPSEC_TRY(RunInNetns(ns.fd, [&] {
    // Set "default" before any veth exists, so new interfaces inherit it.
    const std::pair<const char*, const char*> kSettings[] = {
        {"ipv6/conf/all/disable_ipv6", "1"}, {"ipv6/conf/default/disable_ipv6", "1"},
        {"ipv4/conf/all/rp_filter", "0"},    {"ipv4/conf/default/rp_filter", "0"},
        {"ipv4/conf/lo/rp_filter", "0"},     {"ipv4/ip_forward", router ? "1" : "0"},
    };
    for (const auto& [key, value] : kSettings) {
      // A kernel booted without IPv6 has no ipv6 sysctls; nothing to disable.
      bool ipv6 = std::string_view(key).substr(0, 5) == "ipv6/";
      Status s = WriteSysctl(key, value, ipv6);
      if (!s.ok()) {
        sysctls = s;
        return;
      }
    }
  }));
  MIPSEC_TRY(sysctls);
  return Run(ns.name, {ip_, "link", "set", "dev", "lo", "up"});
}

Status Topology::CreateLink(const LinkSpec& link) {
  // Created from inside a's namespace with the peer placed straight into b's:
  // the pair never exists in the host namespace.
  std::vector<std::string> add = {ip_,    "link", "add",  link.a.ifname, "type",
                                  "veth", "peer", "name", link.b.ifname};
  if (link.b.ns != link.a.ns) add.insert(add.end(), {"netns", NsName(link.b.ns)});
  MIPSEC_TRY(Run(link.a.ns, add));
  for (const EndpointSpec* ep : {&link.a, &link.b}) {
    if (!ep->address.empty()) {
      MIPSEC_TRY(Run(ep->ns, {ip_, "addr", "add", ep->address, "dev", ep->ifname}));
    }
    std::vector<std::string> up = {ip_, "link", "set", "dev", ep->ifname};
    if (link.mtu) up.insert(up.end(), {"mtu", std::to_string(*link.mtu)});
    up.push_back("up");
    MIPSEC_TRY(Run(ep->ns, up));
  }
  return Ok{};
}

Status Topology::ApplyNftables(const Ns& ns) {
  std::string rules;
  std::string nat_rules;
  for (const auto& n : spec_.nats) {
    if (n.ns != ns.name) continue;
    std::string flags;
    for (auto [on, name] :
         {std::pair{n.random, "random"}, std::pair{n.fully_random, "fully-random"},
          std::pair{n.persistent, "persistent"}}) {
      if (!on) continue;
      flags += flags.empty() ? " " : ",";
      flags += name;
    }
    nat_rules += "    oifname \"" + n.oif + "\" masquerade" + flags + "\n";
  }
  if (!nat_rules.empty()) {
    rules +=
        "table ip mipsec_nat {\n  chain postrouting {\n"
        "    type nat hook postrouting priority srcnat; policy accept;\n" +
        nat_rules + "  }\n}\n";
  }
  for (const auto& n : spec_.nfts) {
    if (n.ns == ns.name) rules += n.command + "\n";
  }
  if (rules.empty()) return Ok{};
  ExecOptions opts;
  opts.stdin_data = rules;
  std::vector<std::string> argv = {nft_, "-f", "-"};
  Status s = CheckRun("in " + ns.name, argv, ExecInNetns(ns.fd, argv, opts));
  if (!s.ok()) return Error(s.error().code(), s.error().detail() + "\nruleset:\n" + rules);
  return Ok{};
}

Topology::~Topology() {
  Status s = Destroy();
  if (!s.ok()) {
    std::fprintf(stderr, "mipsec netns harness: teardown of %s*: %s\n", prefix_.c_str(),
                 s.error().ToString().c_str());
  }
}

Status Topology::Destroy() {
  if (destroyed_) return Ok{};
  destroyed_ = true;
  std::string problems;
  auto note = [&problems](const std::string& p) {
    if (!problems.empty()) problems += "; ";
    problems += p;
  };
  {
    std::lock_guard<std::mutex> lock(children_mu_);
    for (auto& c : children_) c->Stop(Duration::Zero());
    children_.clear();
  }
  for (auto it = ns_.rbegin(); it != ns_.rend(); ++it) {
    if (it->fd < 0) continue;
    auto killed = KillProcessesInNetns(it->fd);
    if (!killed.ok()) note(it->real + ": " + killed.error().detail());
  }
  for (auto it = ns_.rbegin(); it != ns_.rend(); ++it) {
    if (it->fd >= 0) ::close(it->fd);
    it->fd = -1;
    if (!it->created) continue;
    std::vector<std::string> del = {ip_, "netns", "del", it->real};
    Status s = CheckRun("host", del, ExecInNetns(-1, del));
    if (s.ok()) {
      it->created = false;
    } else {
      note(s.error().detail());
    }
  }
  if (!problems.empty()) {
    reaper_.reset();  // EOF without "done": the watchdog retries now
    return Error(Errc::kSystem, problems);
  }
  if (reaper_) reaper_->Disarm();
  reaper_.reset();
  return Ok{};
}

const Topology::Ns* Topology::Find(std::string_view name) const {
  for (const auto& ns : ns_) {
    if (ns.name == name) return &ns;
  }
  return nullptr;
}

Result<const Topology::Ns*> Topology::Lookup(std::string_view name) const {
  const Ns* ns = Find(name);
  if (ns == nullptr) {
    return Error(Errc::kNotFound, "topology has no namespace '" + std::string(name) + "'");
  }
  if (ns->fd < 0) {
    return Error(Errc::kState, "namespace '" + std::string(name) + "' is not there (torn down?)");
  }
  return ns;
}

std::string Topology::NsName(std::string_view name) const {
  const Ns* ns = Find(name);
  if (MIPSEC_BUG_IF(ns == nullptr, "Topology::NsName: unknown namespace")) return "";
  return ns->real;
}

int Topology::NsFd(std::string_view name) const {
  const Ns* ns = Find(name);
  if (MIPSEC_BUG_IF(ns == nullptr, "Topology::NsFd: unknown namespace")) return -1;
  return ns->fd;
}

std::vector<std::string> Topology::NsNames() const {
  std::vector<std::string> out;
  for (const auto& ns : ns_) out.push_back(ns.real);
  return out;
}

std::string Topology::Describe() const {
  std::string out;
  for (const auto& ns : ns_) out += ns.name + " = " + ns.real + "\n";
  return out;
}

Result<ExecResult> Topology::Exec(std::string_view ns, const std::vector<std::string>& argv,
                                  const ExecOptions& options) const {
  MIPSEC_ASSIGN_OR_RETURN(const Ns* n, Lookup(ns));
  return ExecInNetns(n->fd, argv, options);
}

Result<ExecResult> Topology::Exec(std::string_view ns, const std::vector<std::string>& argv,
                                  Duration timeout) const {
  ExecOptions options;
  options.timeout = timeout;
  return Exec(ns, argv, options);
}

Status Topology::Run(std::string_view ns, const std::vector<std::string>& argv,
                     Duration timeout) const {
  return CheckRun("in " + std::string(ns), argv, Exec(ns, argv, timeout));
}

Result<Child*> Topology::Spawn(std::string_view ns, const std::vector<std::string>& argv) {
  MIPSEC_ASSIGN_OR_RETURN(const Ns* n, Lookup(ns));
  MIPSEC_ASSIGN_OR_RETURN(std::unique_ptr<Child> child, SpawnInNetns(n->fd, argv));
  std::lock_guard<std::mutex> lock(children_mu_);
  children_.push_back(std::move(child));
  return children_.back().get();
}

Status Topology::RunIn(std::string_view ns, const std::function<void()>& fn) const {
  MIPSEC_ASSIGN_OR_RETURN(const Ns* n, Lookup(ns));
  return RunInNetns(n->fd, fn);
}

Result<NetnsGuard> Topology::Enter(std::string_view ns) const {
  MIPSEC_ASSIGN_OR_RETURN(const Ns* n, Lookup(ns));
  return NetnsGuard::Enter(n->fd);
}

}  // namespace mipsec::lab
