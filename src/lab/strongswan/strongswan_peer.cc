#include "lab/strongswan/strongswan_peer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <thread>

#include "lab/strongswan/swan_files.h"

namespace mipsec::lab {
namespace {

std::atomic<StrongswanFailureProbe> g_failure_probe{nullptr};

using Clock = std::chrono::steady_clock;

Error SysError(std::string_view what, int err) {
  return Error(Errc::kSystem, std::string(what) + ": " + std::strerror(err));
}

Clock::time_point After(Duration d) { return Clock::now() + std::chrono::nanoseconds(d.nanos()); }

bool KeepFilesFromEnv() {
  const char* v = std::getenv("MIPSEC_KEEP_STRONGSWAN");
  return v != nullptr && std::string_view(v) == "1";
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

bool IsSafeLabel(std::string_view s) {
  if (s.empty() || s.size() > 16) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

std::string RegexEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::strchr(".^$|()[]{}*+?\\", c) != nullptr) out += '\\';
    out += c;
  }
  return out;
}

// The fork child: async-signal-safe calls only (the test may have threads).
[[noreturn]] void ExecCharon(int netns_fd, int out_fd, int status_fd, const char* path,
                             char* const* argv, char* const* envp) {
  auto fail = [status_fd](int stage) {
    int msg[2] = {stage, errno};
    ssize_t n = ::write(status_fd, msg, sizeof msg);
    (void)n;
    ::_exit(127);
  };
  // Own session and process group: load-tester's shutdown does kill(0, ...).
  if (::setsid() < 0) fail(1);
  if (::setns(netns_fd, CLONE_NEWNET) != 0) fail(2);
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0) fail(3);
  if (::dup2(devnull, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(out_fd, 2) < 0) fail(3);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
  if (::chdir("/") != 0) fail(4);
  ::execve(path, argv, envp);
  fail(5);
  ::_exit(127);
}

}  // namespace

Result<std::string> FindCharon() {
  auto p = FindExecutable("charon-systemd");
  if (!p.ok()) {
    return Error(Errc::kNotFound,
                 "charon-systemd not found: install the Debian packages charon-systemd "
                 "strongswan-swanctl libstrongswan-standard-plugins libcharon-extra-plugins "
                 "(scripts/deps.sh)");
  }
  return p;
}

Result<std::unique_ptr<StrongswanPeer>> StrongswanPeer::Start(const Topology& topo,
                                                              std::string_view ns,
                                                              const StrongswanConfig& config,
                                                              const StrongswanPeerOptions& options,
                                                              std::string_view label) {
  if (topo.spec().FindNamespace(ns) == nullptr) {
    return Error(Errc::kNotFound, "strongswan peer: no namespace '" + std::string(ns) +
                                      "' in the topology");
  }
  std::string lbl(label.empty() ? ns : label);
  for (char& c : lbl) {
    if (c == '_') c = '-';
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (!IsSafeLabel(lbl)) {
    return Error(Errc::kInvalidArgument,
                 "strongswan peer label '" + lbl + "': 1-16 of [a-z0-9-] (after lowering)");
  }
  MIPSEC_TRY(config.Validate());
  std::unique_ptr<StrongswanPeer> peer(new StrongswanPeer());
  peer->label_ = lbl;
  peer->netns_ = topo.NsName(ns);
  peer->config_ = config;
  peer->options_ = options;
  if (KeepFilesFromEnv()) peer->options_.keep_files = true;
  MIPSEC_ASSIGN_OR_RETURN(peer->charon_, FindCharon());
  auto swanctl = FindExecutable("swanctl");
  if (!swanctl.ok()) {
    return Error(Errc::kNotFound, "swanctl not found: install the Debian package strongswan-swanctl");
  }
  peer->swanctl_ = *swanctl;

  SweepStaleSwanDirs();
  MIPSEC_ASSIGN_OR_RETURN(std::string dir, MakeSwanTempDir(lbl));
  peer->paths_ = SwanPaths::InDir(dir);
  // From here the destructor stops charon and removes the directory.
  auto where = [&](const Error& e) {
    return e.WithContext("strongswan peer '" + lbl + "' in " + peer->netns_);
  };
  if (Status s = peer->WriteFiles(); !s.ok()) return where(s.error());
  if (Status s = peer->Spawn(topo.NsFd(ns)); !s.ok()) return where(s.error());
  if (Status s = peer->WaitForVici(); !s.ok()) return where(s.error());
  if (Status s = peer->LoadAll(); !s.ok()) return where(s.error());
  return peer;
}

StrongswanPeer::~StrongswanPeer() {
  (void)Stop();
  const StrongswanFailureProbe probe = g_failure_probe.load();
  const bool failed = probe != nullptr && probe();
  if (failed && options_.dump_log_on_failure && !paths_.run_dir.empty()) {
    std::cerr << "---- strongswan peer '" << label_ << "' (" << netns_ << ", "
              << paths_.run_dir << ") ----\n"
              << Diagnostics() << "---- end of strongswan peer '" << label_ << "' ----\n";
  }
  if (pidfd_ >= 0) ::close(pidfd_);
  if (options_.keep_files) {
    if (!paths_.run_dir.empty()) std::cerr << "strongswan peer files kept: " << paths_.run_dir << "\n";
  } else {
    RemoveTree(paths_.run_dir);
  }
}

Status StrongswanPeer::WriteFiles() {
  MIPSEC_ASSIGN_OR_RETURN(std::string sconf, RenderStrongswanConf(config_, paths_));
  MIPSEC_ASSIGN_OR_RETURN(std::string cconf, RenderSwanctlConf(config_));
  MIPSEC_TRY(WriteTextFile(paths_.strongswan_conf(), sconf));
  // swanctl --file X loads credentials from directories next to X; they
  // exist (empty) so it does not warn about each.
  if (::mkdir(paths_.swanctl_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return SysError("mkdir " + paths_.swanctl_dir, errno);
  }
  for (const char* sub : {"x509", "x509ca", "x509ocsp", "x509aa", "x509ac", "x509crl", "pubkey",
                          "private", "rsa", "ecdsa", "bliss", "pkcs8", "pkcs12"}) {
    std::string d = paths_.swanctl_dir + "/" + sub;
    if (::mkdir(d.c_str(), 0700) != 0 && errno != EEXIST) return SysError("mkdir " + d, errno);
  }
  for (const auto& c : config_.connections) {
    if (c.local.auth != SwanAuth::kPubkey) continue;
    MIPSEC_ASSIGN_OR_RETURN(std::string key, ReadTextFile(c.local.key));
    MIPSEC_TRY(WriteTextFile(paths_.swanctl_dir + "/private/" + SwanPrivateKeyFileName(c.name),
                             key));
  }
  return WriteTextFile(paths_.swanctl_conf(), cconf);
}

Status StrongswanPeer::Spawn(int netns_fd) {
  std::string out_path = charon_out_path();
  int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out_fd < 0) return SysError("open " + out_path, errno);
  int status[2];
  if (::pipe2(status, O_CLOEXEC) != 0) {
    int e = errno;
    ::close(out_fd);
    return SysError("pipe2", e);
  }
  std::string arg0 = charon_;
  char* argv[] = {arg0.data(), nullptr};
  std::string env_conf = "STRONGSWAN_CONF=" + paths_.strongswan_conf();
  std::string env_path = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
  std::string env_lc = "LC_ALL=C";
  char* envp[] = {env_conf.data(), env_path.data(), env_lc.data(), nullptr};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(status[0]);
    ExecCharon(netns_fd, out_fd, status[1], arg0.c_str(), argv, envp);
  }
  int fork_errno = errno;
  ::close(status[1]);
  ::close(out_fd);
  if (pid < 0) {
    ::close(status[0]);
    return SysError("fork", fork_errno);
  }
  pid_ = pid;
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  int msg[2] = {0, 0};
  ssize_t n;
  do {
    n = ::read(status[0], msg, sizeof msg);
  } while (n < 0 && errno == EINTR);
  ::close(status[0]);
  if (n != 0) {  // the child reported a failure before exec
    Reap(true);
    static const char* const kStage[] = {"?", "setsid", "setns", "stdio", "chdir", "exec"};
    int stage = (msg[0] >= 1 && msg[0] <= 5) ? msg[0] : 0;
    return SysError(std::string("starting charon: ") + kStage[stage] + " " + charon_, msg[1]);
  }
  if (pidfd_ < 0) return SysError("pidfd_open", errno);
  return Ok{};
}

bool StrongswanPeer::Reap(bool block) {
  if (wait_status_) return true;
  if (pid_ <= 0) return true;
  int wst = 0;
  for (;;) {
    pid_t r = ::waitpid(pid_, &wst, block ? 0 : WNOHANG);
    if (r == pid_) {
      wait_status_ = wst;
      return true;
    }
    if (r == 0) return false;
    if (errno == EINTR) continue;
    wait_status_ = -1;  // not our child any more: treat as gone
    return true;
  }
}

bool StrongswanPeer::Running() { return pid_ > 0 && !Reap(false); }

std::string StrongswanPeer::Diagnostics() const {
  std::string out;
  std::string charon_out = TailOfFile(charon_out_path(), 20);
  if (!charon_out.empty()) out += "charon.out:\n" + charon_out;
  out += "charon.log (last " + std::to_string(options_.dump_lines) + " lines):\n" +
         LogTail(options_.dump_lines);
  if (!out.empty() && out.back() != '\n') out += '\n';
  return out;
}

Status StrongswanPeer::WaitForVici() {
  auto deadline = After(options_.start_timeout);
  std::string last;
  for (;;) {
    if (!Running()) {
      std::string how = "exited";
      if (wait_status_ && *wait_status_ != -1) {
        int w = *wait_status_;
        how = WIFEXITED(w) ? "exited with status " + std::to_string(WEXITSTATUS(w))
                           : "was killed by signal " + std::to_string(WTERMSIG(w));
      }
      return Error(Errc::kSystem, "charon " + how + " during start-up\n" + Diagnostics());
    }
    struct stat st {};
    if (::stat(paths_.vici_socket.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
      auto r = Swanctl("--stats", {}, Duration::Seconds(5));
      if (r.ok() && r->Success()) return Ok{};
      last = r.ok() ? Trimmed(r->err + r->out) : r.error().ToString();
    }
    if (Clock::now() >= deadline) {
      return Error(Errc::kTimeout, "vici socket " + paths_.vici_socket + " did not answer within " +
                                       options_.start_timeout.ToString() +
                                       (last.empty() ? "" : " (swanctl: " + last + ")") + "\n" +
                                       Diagnostics());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Status StrongswanPeer::LoadAll() {
  return SwanctlOk("--load-all", {"--file", paths_.swanctl_conf()});
}

Status StrongswanPeer::Reload(const StrongswanConfig& config) {
  MIPSEC_TRY(config.Validate());
  config_ = config;
  MIPSEC_TRY(WriteFiles());
  return LoadAll();
}

Result<ExecResult> StrongswanPeer::Swanctl(std::string_view command,
                                           const std::vector<std::string>& args,
                                           std::optional<Duration> timeout) {
  std::vector<std::string> all = {std::string(command), "--uri", paths_.vici_uri()};
  all.insert(all.end(), args.begin(), args.end());
  return RunSwanTool(swanctl_, paths_.strongswan_conf(), all,
                     timeout.value_or(options_.swanctl_timeout));
}

Status StrongswanPeer::SwanctlOk(std::string_view command, const std::vector<std::string>& args,
                                 std::optional<Duration> timeout) {
  MIPSEC_ASSIGN_OR_RETURN(ExecResult r, Swanctl(command, args, timeout));
  if (r.Success()) return Ok{};
  std::vector<std::string> argv = {"swanctl", std::string(command)};
  argv.insert(argv.end(), args.begin(), args.end());
  return Error(Errc::kSystem, "strongswan peer '" + label_ + "': " + JoinArgv(argv) + ": " +
                                  r.Describe() + ": " + Trimmed(r.out + r.err));
}

Status StrongswanPeer::Initiate(std::string_view child, int timeout_s) {
  return SwanctlOk("--initiate", {"--child", std::string(child), "--timeout",
                                  std::to_string(timeout_s)},
                   Duration::Seconds(timeout_s + 5));
}

Status StrongswanPeer::InitiateIke(std::string_view conn, int timeout_s) {
  return SwanctlOk("--initiate",
                   {"--ike", std::string(conn), "--timeout", std::to_string(timeout_s)},
                   Duration::Seconds(timeout_s + 5));
}

Status StrongswanPeer::TerminateChild(std::string_view child, int timeout_s) {
  return SwanctlOk("--terminate",
                   {"--child", std::string(child), "--timeout", std::to_string(timeout_s)},
                   Duration::Seconds(timeout_s + 5));
}

Status StrongswanPeer::TerminateIke(std::string_view conn, int timeout_s) {
  return SwanctlOk("--terminate",
                   {"--ike", std::string(conn), "--timeout", std::to_string(timeout_s)},
                   Duration::Seconds(timeout_s + 5));
}

Status StrongswanPeer::RekeyChild(std::string_view child) {
  return SwanctlOk("--rekey", {"--child", std::string(child)});
}

Status StrongswanPeer::RekeyIke(std::string_view conn) {
  return SwanctlOk("--rekey", {"--ike", std::string(conn)});
}

Result<std::vector<IkeSaInfo>> StrongswanPeer::ListSas(std::string_view conn) {
  std::vector<std::string> args = {"--pretty"};
  if (!conn.empty()) args.insert(args.end(), {"--ike", std::string(conn)});
  MIPSEC_ASSIGN_OR_RETURN(ExecResult r, Swanctl("--list-sas", args));
  if (!r.Success()) {
    return Error(Errc::kSystem, "strongswan peer '" + label_ + "': swanctl --list-sas: " +
                                    r.Describe() + ": " + Trimmed(r.err));
  }
  auto sas = ParseListSas(r.out);
  if (!sas.ok()) return sas.error().WithContext("strongswan peer '" + label_ + "'");
  return sas;
}

Result<IkeSaInfo> StrongswanPeer::EstablishedSa(std::string_view conn) {
  MIPSEC_ASSIGN_OR_RETURN(auto sas, ListSas(conn));
  for (auto& sa : sas) {
    if (sa.name == conn && sa.state == "ESTABLISHED") return std::move(sa);
  }
  return Error(Errc::kNotFound, "strongswan peer '" + label_ + "': no ESTABLISHED IKE_SA of '" +
                                    std::string(conn) + "' (" + std::to_string(sas.size()) +
                                    " IKE_SAs listed)");
}

Result<IkeSaInfo> StrongswanPeer::WaitForSa(std::string_view conn,
                                            const std::function<bool(const IkeSaInfo&)>& pred,
                                            Duration timeout) {
  auto deadline = After(timeout);
  std::string last;
  for (;;) {
    auto sas = ListSas(conn);
    if (sas.ok()) {
      last.clear();
      for (const auto& sa : *sas) {
        if (sa.name == conn && pred(sa)) return sa;
        last += " [" + sa.name + " #" + std::to_string(sa.unique_id) + " " + sa.state + " " +
                sa.local_host + ":" + std::to_string(sa.local_port) + " <-> " + sa.remote_host +
                ":" + std::to_string(sa.remote_port) + "]";
      }
    } else {
      last = sas.error().ToString();
    }
    if (Clock::now() >= deadline) {
      return Error(Errc::kTimeout, "strongswan peer '" + label_ + "': no IKE_SA of '" +
                                       std::string(conn) + "' as wanted within " +
                                       timeout.ToString() + "; last:" +
                                       (last.empty() ? std::string(" none") : last));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string StrongswanPeer::Log() const {
  auto t = ReadTextFile(paths_.log);
  return t.ok() ? *t : std::string();
}

std::string StrongswanPeer::LogTail(size_t lines) const { return TailOfFile(paths_.log, lines); }

int StrongswanPeer::CountLog(const std::regex& re) const {
  std::string log = Log();
  int n = 0;
  size_t pos = 0;
  while (pos < log.size()) {
    size_t nl = log.find('\n', pos);
    if (nl == std::string::npos) nl = log.size();
    if (std::regex_search(log.begin() + static_cast<std::ptrdiff_t>(pos),
                          log.begin() + static_cast<std::ptrdiff_t>(nl), re)) {
      ++n;
    }
    pos = nl + 1;
  }
  return n;
}

int StrongswanPeer::ChildRekeys(std::string_view child) const {
  return CountLog(std::regex("outbound CHILD_SA " + RegexEscape(child) + "\\{\\d+\\} established"));
}

int StrongswanPeer::IkeRekeys(std::string_view conn) const {
  return CountLog(std::regex("IKE_SA " + RegexEscape(conn) + "\\[\\d+\\] rekeyed between"));
}

Result<int> StrongswanPeer::WaitForLog(const std::regex& re, int n, Duration timeout) const {
  auto deadline = After(timeout);
  for (;;) {
    int c = CountLog(re);
    if (c >= n) return c;
    if (Clock::now() >= deadline) {
      return Error(Errc::kTimeout, "strongswan peer '" + label_ + "': " + std::to_string(c) +
                                       " of " + std::to_string(n) + " log lines within " +
                                       timeout.ToString());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void StrongswanPeer::RequestStop() {
  if (!Running() || term_sent_) return;
  ::kill(pid_, SIGTERM);
  term_sent_ = true;
}

Status StrongswanPeer::Stop(std::optional<Duration> grace) {
  if (pid_ <= 0) return Ok{};
  if (Running()) {
    RequestStop();
    bool exited = false;
    if (pidfd_ >= 0) {
      auto deadline = After(grace.value_or(options_.stop_grace));
      while (!exited) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) break;
        pollfd p{pidfd_, POLLIN, 0};
        int rc = ::poll(&p, 1, static_cast<int>(left));
        if (rc > 0) exited = true;
        if (rc < 0 && errno != EINTR) break;
      }
    }
    if (!exited) {
      ::kill(pid_, SIGKILL);
      killed_ = true;
    }
    Reap(true);
  }
  if (killed_) {
    return Error(Errc::kTimeout, "strongswan peer '" + label_ + "': charon ignored SIGTERM for " +
                                     grace.value_or(options_.stop_grace).ToString() +
                                     ", killed");
  }
  if (wait_status_ && *wait_status_ != -1 && !term_sent_) {
    int w = *wait_status_;
    if (!WIFEXITED(w) || WEXITSTATUS(w) != 0) {
      return Error(Errc::kState, "strongswan peer '" + label_ + "': charon had died before Stop()");
    }
  }
  return Ok{};
}

Status StopPeers(const std::vector<StrongswanPeer*>& peers) {
  for (auto* p : peers) {
    if (p != nullptr) p->RequestStop();
  }
  Status first = Ok{};
  for (auto* p : peers) {
    if (p == nullptr) continue;
    Status s = p->Stop();
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

void SetStrongswanFailureProbe(StrongswanFailureProbe probe) { g_failure_probe.store(probe); }

}  // namespace mipsec::lab
