// ControlServer and the `mipsec ctl` client library over real Unix sockets
// in a private temp directory (mkdtemp): file mode, round trips, limits, the
// stale / live / non-socket path rules, the deadline, clean-up, formatting.
#include "platform/linux/control_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "platform/linux/control_client.h"
#include "platform/linux/epoll_event_loop.h"

namespace mipsec::platform {
namespace {

using json = nlohmann::ordered_json;

class TempDir {
 public:
  TempDir() {
    char t[] = "/tmp/mipsec-ctl-test-XXXXXX";
    const char* d = ::mkdtemp(t);
    EXPECT_NE(d, nullptr);
    path_ = d ? d : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs `client` on a thread while the loop turns on this one.
template <typename F>
auto WithLoop(EpollEventLoop& loop, F client) {
  std::atomic<bool> done{false};
  std::optional<decltype(client())> out;
  std::thread t([&] {
    out.emplace(client());
    done = true;
  });
  while (!done) (void)loop.RunOnce(Duration::Millis(5));
  t.join();
  return std::move(*out);
}

// A raw client: sends `bytes` as they are, reads until EOF.
std::string RawExchange(const std::string& path, const std::string& bytes) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return "connect failed";
  }
  (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::string in;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return in;
}

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = EpollEventLoop::Create();
    ASSERT_TRUE(l.ok());
    loop_ = std::move(l).value();
    path_ = dir_.path() + "/run/test.sock";
  }

  std::unique_ptr<ControlServer> MakeServer(ControlServerOptions o = {}) {
    o.path = path_;
    auto s = ControlServer::Create(*loop_, o, Logger());
    EXPECT_TRUE(s.ok()) << s.error().ToString();
    if (!s.ok()) return nullptr;
    EXPECT_TRUE((*s)->Register("echo", "returns the request",
                               [](const json& req) -> Result<json> {
                                 return json{{"request", req}, {"n", 1}};
                               })
                    .ok());
    EXPECT_TRUE((*s)->Register("fail", "always fails",
                               [](const json&) -> Result<json> {
                                 return Error(Errc::kState, "nothing to show");
                               })
                    .ok());
    return std::move(s).value();
  }

  Result<json> Query(const std::string& command) {
    return WithLoop(*loop_, [&] { return ControlQuery(path_, json{{"command", command}}); });
  }

  TempDir dir_;
  std::unique_ptr<EpollEventLoop> loop_;
  std::string path_;
};

TEST_F(ControlServerTest, SocketIs0600InA0700DirectoryAndAnswers) {
  auto s = MakeServer();
  ASSERT_NE(s, nullptr);
  struct stat st {};
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(::stat((dir_.path() + "/run").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);

  Result<json> r = Query("echo");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ((*r)["ok"], true);
  EXPECT_EQ((*r)["command"], "echo");
  EXPECT_EQ((*r)["data"]["n"], 1);
  EXPECT_EQ((*r)["data"]["request"]["command"], "echo");
  EXPECT_EQ(s->requests(), 1u);
  EXPECT_EQ(s->open_connections(), 0u);
}

TEST_F(ControlServerTest, UnknownCommandListsTheAvailableOnes) {
  auto s = MakeServer();
  ASSERT_NE(s, nullptr);
  Result<json> r = Query("frobnicate");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ((*r)["ok"], false);
  EXPECT_EQ((*r)["error"], "unknown command 'frobnicate'");
  EXPECT_EQ((*r)["commands"], json({"echo", "fail", "help"}));

  Result<json> help = Query("help");
  ASSERT_TRUE(help.ok());
  EXPECT_EQ((*help)["ok"], true);
  EXPECT_EQ((*help)["data"]["commands"].size(), 3u);
}

TEST_F(ControlServerTest, HandlerErrorIsAnErrorResponse) {
  auto s = MakeServer();
  ASSERT_NE(s, nullptr);
  Result<json> r = Query("fail");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["ok"], false);
  EXPECT_EQ((*r)["error"], "fail: nothing to show");
  EXPECT_EQ(s->errors(), 1u);
}

TEST_F(ControlServerTest, MalformedRequestsGetClearErrors) {
  auto s = MakeServer();
  ASSERT_NE(s, nullptr);
  std::string a = WithLoop(*loop_, [&] { return RawExchange(path_, "this is not json\n"); });
  json ja = json::parse(a);
  EXPECT_EQ(ja["ok"], false);
  EXPECT_NE(ja["error"].get<std::string>().find("malformed request: not JSON"), std::string::npos);

  std::string b = WithLoop(*loop_, [&] { return RawExchange(path_, "[1,2]\n"); });
  EXPECT_NE(json::parse(b)["error"].get<std::string>().find("not a JSON object"),
            std::string::npos);

  std::string c = WithLoop(*loop_, [&] { return RawExchange(path_, "{\"cmd\":\"echo\"}\n"); });
  json jc = json::parse(c);
  EXPECT_EQ(jc["error"], "malformed request: no \"command\" string");
  EXPECT_EQ(jc["commands"], json({"echo", "fail", "help"}));

  // Without a newline: EOF ends the request.
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string req = "{\"command\":\"echo\"}";
  ASSERT_EQ(::send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
  ::shutdown(fd, SHUT_WR);
  std::string d = WithLoop(*loop_, [&] {
    std::string in;
    char buf[1024];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof(buf))) > 0) in.append(buf, static_cast<std::size_t>(n));
    return in;
  });
  ::close(fd);
  EXPECT_EQ(json::parse(d)["ok"], true);
  EXPECT_EQ(s->errors(), 3u);
  EXPECT_EQ(s->requests(), 1u);
}

TEST_F(ControlServerTest, OversizeRequestRefused) {
  ControlServerOptions o;
  o.max_request_bytes = 256;
  auto s = MakeServer(o);
  ASSERT_NE(s, nullptr);
  std::string big = "{\"command\":\"echo\",\"pad\":\"" + std::string(4000, 'x') + "\"}\n";
  std::string a = WithLoop(*loop_, [&] { return RawExchange(path_, big); });
  json j = json::parse(a);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["error"], "request too large (at most 256 bytes)");
  EXPECT_EQ(s->counters().too_large, 1u);
  EXPECT_EQ(s->open_connections(), 0u);
  // The daemon still answers.
  Result<json> r = Query("echo");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["ok"], true);
}

TEST_F(ControlServerTest, SilentClientClosedAtDeadlineOthersStillServed) {
  ControlServerOptions o;
  o.connection_timeout = Duration::Millis(150);
  auto s = MakeServer(o);
  ASSERT_NE(s, nullptr);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::send(fd, "{\"comm", 6, 0), 6);  // and then nothing
  (void)loop_->RunOnce(Duration::Millis(20));
  EXPECT_EQ(s->open_connections(), 1u);
  // Another client is answered while the first one hangs.
  Result<json> r = Query("echo");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["ok"], true);
  const Timestamp end = MonotonicNow() + Duration::Millis(600);
  while (s->open_connections() > 0 && MonotonicNow() < end) {
    (void)loop_->RunOnce(Duration::Millis(20));
  }
  EXPECT_EQ(s->open_connections(), 0u);
  EXPECT_EQ(s->counters().timeouts, 1u);
  char c;
  EXPECT_EQ(::read(fd, &c, 1), 0);  // closed by the server
  ::close(fd);
}

TEST_F(ControlServerTest, StaleSocketIsReplaced) {
  ASSERT_EQ(::mkdir((dir_.path() + "/run").c_str(), 0700), 0);
  {
    // A dead daemon's socket: bound, never listening, closed.
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ::close(fd);
  }
  Result<json> stale = ControlQuery(path_, json{{"command", "echo"}});
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code(), Errc::kState);
  EXPECT_NE(stale.error().detail().find("stale socket"), std::string::npos);

  auto s = MakeServer();
  ASSERT_NE(s, nullptr);
  Result<json> r = Query("echo");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ((*r)["ok"], true);
}

TEST_F(ControlServerTest, LiveSocketIsNotTakenOver) {
  auto first = MakeServer();
  ASSERT_NE(first, nullptr);
  ControlServerOptions o;
  o.path = path_;
  auto second = ControlServer::Create(*loop_, o, Logger());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), Errc::kAlreadyExists);
  EXPECT_NE(second.error().detail().find(path_), std::string::npos);
  EXPECT_NE(second.error().detail().find("another process is listening"), std::string::npos);
  // The first one is untouched.
  Result<json> r = Query("echo");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ((*r)["ok"], true);
}

TEST_F(ControlServerTest, NonSocketFileIsAnError) {
  ASSERT_EQ(::mkdir((dir_.path() + "/run").c_str(), 0700), 0);
  { std::ofstream(path_) << "precious"; }
  ControlServerOptions o;
  o.path = path_;
  auto s = ControlServer::Create(*loop_, o, Logger());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().detail(), "control socket " + path_ +
                                    ": exists and is not a socket (remove it or choose another "
                                    "path)");
  std::ifstream f(path_);
  std::string content;
  f >> content;
  EXPECT_EQ(content, "precious");
}

TEST_F(ControlServerTest, FileRemovedOnDestruction) {
  auto s = MakeServer();
  ASSERT_NE(s, nullptr);
  struct stat st {};
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  s.reset();
  EXPECT_NE(::lstat(path_.c_str(), &st), 0);
  Result<json> r = ControlQuery(path_, json{{"command", "echo"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kNotFound);
  EXPECT_NE(r.error().detail().find("no control socket at " + path_), std::string::npos);
}

TEST_F(ControlServerTest, RegisterRejectsDuplicatesAndBadPaths) {
  auto s = MakeServer();
  ASSERT_NE(s, nullptr);
  auto h = [](const json&) -> Result<json> { return json::object(); };
  EXPECT_EQ(s->Register("echo", "", h).error().code(), Errc::kAlreadyExists);
  EXPECT_EQ(s->Register("help", "", h).error().code(), Errc::kAlreadyExists);
  EXPECT_EQ(s->Register("", "", h).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(s->Commands(), (std::vector<std::string>{"echo", "fail", "help"}));
  ControlServerOptions o;
  o.path = dir_.path() + "/" + std::string(120, 'a');
  auto bad = ControlServer::Create(*loop_, o, Logger());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().detail().find("must be 1 to 107 bytes"), std::string::npos);
}

TEST(ControlFormatTest, TablesAndKeyValues) {
  json data = {{"home_agent", "192.0.2.1"},
               {"bindings_total", 2},
               {"bindings",
                {{{"home_address", "192.0.2.10"}, {"care_of_address", "10.10.0.20"},
                  {"flags", "T"}},
                 {{"home_address", "192.0.2.11"}, {"care_of_address", "198.51.100.7"},
                  {"flags", ""}}}}};
  EXPECT_EQ(FormatHuman(data),
            "home agent      192.0.2.1\n"
            "bindings total  2\n"
            "bindings:\n"
            "  home address  care of address  flags\n"
            "  192.0.2.10    10.10.0.20       T\n"
            "  192.0.2.11    198.51.100.7     \n");
  json nested = {{"ike", {{"up", true}, {"spis", json::array({"1a", "2b"})}}}, {"n", nullptr}};
  EXPECT_EQ(FormatHuman(nested),
            "n  -\n"
            "ike:\n"
            "  up    yes\n"
            "  spis  1a, 2b\n");
}

TEST(ControlFormatTest, SasLikeSwanctl) {
  json child = {{"spi_in", "43c92b39"},
                {"spi_out", "7deda2f5"},
                {"state", "INSTALLED"},
                {"suite", "aes128gcm16-noesn"},
                {"encap", "udp"},
                {"local_ts", json::array({"192.0.2.0/25"})},
                {"remote_ts", json::array({"192.0.2.129/32"})},
                {"bytes_in", 4200},
                {"packets_in", 50},
                {"bytes_out", 420},
                {"packets_out", 5},
                {"age_s", 12}};
  json ike = {{"id", 1},
              {"state", "ESTABLISHED"},
              {"spi_i", "251decc44d03e204"},
              {"spi_r", "6898ebbe0e1027c6"},
              {"initiator", false},
              {"local", "203.0.113.2:4500"},
              {"remote", "198.51.100.10:4500"},
              {"remote_id", "email:client@example.org"},
              {"suite", "aes128gcm16-prfsha256-curve25519"},
              {"nat_local", false},
              {"nat_remote", true},
              {"mobike", true},
              {"tia", "192.0.2.129"},
              {"child_sas", json::array({child})}};
  json data = {{"ike_sas", 1}, {"sas", json::array({ike})}};
  EXPECT_EQ(FormatHuman("sas", data),
            "#1: ESTABLISHED, responder, SPIs 251decc44d03e204_i 6898ebbe0e1027c6_r*\n"
            "  local  203.0.113.2:4500\n"
            "  remote 198.51.100.10:4500 [NAT] email:client@example.org\n"
            "  aes128gcm16-prfsha256-curve25519, MOBIKE, TIA 192.0.2.129\n"
            "  child: INSTALLED, aes128gcm16-noesn, ESP in UDP, 12 s\n"
            "    in   43c92b39  4200 bytes  50 packets  192.0.2.0/25 <- 192.0.2.129/32\n"
            "    out  7deda2f5   420 bytes   5 packets  192.0.2.0/25 -> 192.0.2.129/32\n");
  EXPECT_EQ(FormatHuman("sas", json{{"ike_sas", 0}, {"sas", json::array()}}), "no IKE SAs\n");
  // Other commands: the generic rendering.
  EXPECT_EQ(FormatHuman("status", json{{"a", 1}}), "a  1\n");
}

TEST(ControlClientTest, DefaultPathsAndBadPath) {
  EXPECT_EQ(DefaultControlSocket("ha"), "/run/mipsec/ha.sock");
  Result<json> r = ControlQuery(std::string(200, 'x'), json{{"command", "status"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kInvalidArgument);
}

}  // namespace
}  // namespace mipsec::platform
