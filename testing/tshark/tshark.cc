#include "testing/tshark/tshark.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace mipsec::testing {

namespace {

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  return out;
}

}  // namespace

bool TsharkAvailable() {
  return access("/usr/bin/tshark", X_OK) == 0 || std::system("command -v tshark >/dev/null 2>&1") == 0;
}

Result<std::string> RunTshark(const std::string& pcap_path, const std::vector<std::string>& args) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    return Error(Errc::kSystem, std::string("pipe: ") + std::strerror(errno));
  }
  std::vector<std::string> argv_s = {"tshark", "-n", "-r", pcap_path};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  pid_t pid = fork();
  if (pid < 0) return Error(Errc::kSystem, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    std::vector<char*> argv;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    execvp("tshark", argv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  // tshark's stderr is small; read stdout fully first, then stderr.
  std::string out = ReadAll(out_pipe[0]);
  std::string err = ReadAll(err_pipe[0]);
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Error(Errc::kSystem, "tshark failed (status " + std::to_string(status) + "): " + err);
  }
  return out;
}

std::vector<std::string> TsharkChecksumOptions() {
  return {"-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"};
}

Result<std::string> TsharkProblems(const std::string& pcap_path) {
  // 8388608 is PI_ERROR, Wireshark's error-level expert severity. A bad
  // checksum is only a warning-level item (a bad ICMP one, too), so the
  // checksum status fields (0: bad) are asked for explicitly.
  std::vector<std::string> args = TsharkChecksumOptions();
  args.insert(args.end(), {"-Y", "_ws.malformed || _ws.expert.severity >= 8388608 || "
                                 "ip.checksum.status == 0 || udp.checksum.status == 0 || "
                                 "icmp.checksum.status == 0"});
  return RunTshark(pcap_path, args);
}

Result<std::string> WriteTempFile(const std::string& stem, ByteSpan bytes) {
  const char* dir = std::getenv("TMPDIR");
  std::string path = std::string(dir && *dir ? dir : "/tmp") + "/" + stem + "-XXXXXX";
  std::vector<char> tmpl(path.begin(), path.end());
  tmpl.push_back('\0');
  int fd = mkstemp(tmpl.data());
  if (fd < 0) return Error(Errc::kSystem, "mkstemp " + path + ": " + std::strerror(errno));
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd);
      return Error(Errc::kSystem, std::string("write: ") + std::strerror(e));
    }
    off += static_cast<std::size_t>(n);
  }
  close(fd);
  return std::string(tmpl.data());
}

}  // namespace mipsec::testing
