// Who may use the control socket, against a real unprivileged client: a
// child forked and setuid(65534) ("nobody").
//   1. mode 0600: the kernel refuses its connect() (EACCES);
//   2. even with the file opened up to 0666 (an admin's chmod, a wider
//      directory), SO_PEERCRED refuses it: it gets "permission denied", the
//      daemon logs a warning and counts it, and no handler runs.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "common/log.h"
#include "platform/linux/control_server.h"
#include "platform/linux/epoll_event_loop.h"
#include "testing/require_root.h"

namespace mipsec::platform {
namespace {

constexpr int kNobody = 65534;

// Exit codes of the child.
constexpr int kConnectRefused = 10;  // EACCES
constexpr int kConnected = 11;       // and the answer said "permission denied"
constexpr int kOther = 12;

// Forks a child that drops to uid 65534 and asks for "secret"; the loop
// turns here until it exits. Returns its exit code.
int RunUnprivilegedClient(EpollEventLoop& loop, const std::string& path) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) ::_exit(kOther);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      ::_exit(errno == EACCES ? kConnectRefused : kOther);
    }
    const char req[] = "{\"command\":\"secret\"}\n";
    (void)::send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL);
    std::string in;
    char buf[512];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof(buf))) > 0) in.append(buf, static_cast<std::size_t>(n));
    const bool denied = in.find("\"ok\":false") != std::string::npos &&
                        in.find("permission denied: uid 65534") != std::string::npos &&
                        in.find("the secret") == std::string::npos;
    ::_exit(denied ? kConnected : kOther);
  }
  EXPECT_GT(pid, 0);
  int status = 0;
  for (;;) {
    (void)loop.RunOnce(Duration::Millis(10));
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ControlServerRootTest, OtherUsersAreRefusedByModeAndByPeerCredentials) {
  MIPSEC_REQUIRE_ROOT();
  char t[] = "/tmp/mipsec-ctl-root-XXXXXX";
  ASSERT_NE(::mkdtemp(t), nullptr);
  const std::string dir = t;
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{dir};
  // The directory is traversable by others, so only the socket's own
  // protections are tested.
  ASSERT_EQ(::chmod(dir.c_str(), 0711), 0);
  const std::string path = dir + "/d.sock";

  auto loop = EpollEventLoop::Create();
  ASSERT_TRUE(loop.ok());
  MemorySink sink;
  ControlServerOptions o;
  o.path = path;
  auto server = ControlServer::Create(**loop, o, Logger(&sink, "ctl", LogLevel::kInfo));
  ASSERT_TRUE(server.ok()) << server.error().ToString();
  int handler_calls = 0;
  ASSERT_TRUE((*server)
                  ->Register("secret", "",
                             [&](const ControlJson&) -> Result<ControlJson> {
                               ++handler_calls;
                               return ControlJson{{"value", "the secret"}};
                             })
                  .ok());

  EXPECT_EQ(RunUnprivilegedClient(**loop, path), kConnectRefused);
  EXPECT_EQ((*server)->counters().accepted, 0u);

  ASSERT_EQ(::chmod(path.c_str(), 0666), 0);
  EXPECT_EQ(RunUnprivilegedClient(**loop, path), kConnected);
  EXPECT_EQ((*server)->counters().refused_peer, 1u);
  EXPECT_EQ(handler_calls, 0);
  EXPECT_TRUE(sink.Contains("refused a client with uid 65534"));
}

}  // namespace
}  // namespace mipsec::platform
