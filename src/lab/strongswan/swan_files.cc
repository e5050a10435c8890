#include "lab/strongswan/swan_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

namespace mipsec::lab {
namespace {

// The vici socket goes in these directories, and sun_path has 108 bytes:
// leave room for "/mipsec-swan-<pid>-<kind>-XXXXXX/charon.vici".
constexpr size_t kMaxTmpLen = 48;

std::string TmpRoot() {
  const char* t = std::getenv("TMPDIR");
  if (t != nullptr && t[0] == '/' && std::strlen(t) <= kMaxTmpLen) {
    std::string s(t);
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    struct stat st {};
    if (::stat(s.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return s;
  }
  return "/tmp";
}

bool PidAlive(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

}  // namespace

std::string SwanDirPrefix() {
  return TmpRoot() + "/mipsec-swan-" + std::to_string(::getpid()) + "-";
}

Result<std::string> MakeSwanTempDir(std::string_view kind) {
  for (char c : kind) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return Error(Errc::kInvalidArgument, "temp dir kind '" + std::string(kind) + "'");
    }
  }
  std::string tmpl = SwanDirPrefix() + std::string(kind) + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Error(Errc::kSystem, "mkdtemp " + tmpl + ": " + std::strerror(errno));
  }
  return tmpl;  // mkdtemp makes it 0700
}

int SweepStaleSwanDirs() {
  const std::string root = TmpRoot();
  const std::string head = "mipsec-swan-";
  int removed = 0;
  DIR* d = ::opendir(root.c_str());
  if (d == nullptr) return 0;
  std::vector<std::string> stale;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.rfind(head, 0) != 0) continue;
    char* end = nullptr;
    long pid = std::strtol(n.c_str() + head.size(), &end, 10);
    if (end == nullptr || *end != '-' || PidAlive(pid)) continue;
    stale.push_back(root + "/" + n);
  }
  ::closedir(d);
  for (const auto& p : stale) {
    std::error_code ec;
    if (std::filesystem::remove_all(p, ec) > 0 && !ec) ++removed;
  }
  return removed;
}

void RemoveTree(const std::string& path) {
  if (path.empty() || path == "/") return;
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

Status WriteTextFile(const std::string& path, std::string_view content, unsigned mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Error(Errc::kSystem, "open " + path + ": " + std::strerror(errno));
  while (!content.empty()) {
    ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      ::close(fd);
      return Error(Errc::kSystem, "write " + path + ": " + std::strerror(e));
    }
    content.remove_prefix(static_cast<size_t>(n));
  }
  ::close(fd);
  return Ok{};
}

Result<std::string> ReadTextFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error(Errc::kNotFound, "open " + path + ": " + std::strerror(errno));
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string TailOfFile(const std::string& path, size_t lines) {
  auto text = ReadTextFile(path);
  if (!text.ok()) return "";
  const std::string& t = *text;
  size_t pos = t.size();
  if (pos > 0 && t[pos - 1] == '\n') --pos;
  size_t found = 0;
  while (pos > 0) {
    size_t nl = t.rfind('\n', pos - 1);
    if (nl == std::string::npos) {
      pos = 0;
      break;
    }
    if (++found == lines) {
      pos = nl + 1;
      break;
    }
    pos = nl;
  }
  return t.substr(pos);
}

Result<ExecResult> RunSwanTool(const std::string& tool, const std::string& conf,
                               const std::vector<std::string>& args, Duration timeout) {
  std::vector<std::string> argv = {"env", "STRONGSWAN_CONF=" + conf, tool};
  argv.insert(argv.end(), args.begin(), args.end());
  ExecOptions opts;
  opts.timeout = timeout;
  return ExecInNetns(-1, argv, opts);
}

}  // namespace mipsec::lab
