// The TCP probe (tcp_probe.h): serve and connect.
#include "lab/figure1/tcp_probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace mipsec::lab {
namespace {

double Now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

int SignalFd() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  return signalfd(-1, &set, SFD_CLOEXEC);
}

bool ParseAddress(const std::string& text, std::uint16_t port, sockaddr_in* out) {
  *out = {};
  out->sin_family = AF_INET;
  out->sin_port = htons(port);
  return inet_pton(AF_INET, text.c_str(), &out->sin_addr) == 1;
}

}  // namespace

int TcpProbeServe(const std::string& bind_to, std::uint16_t port) {
  sockaddr_in addr;
  if (!ParseAddress(bind_to, port, &addr)) {
    std::fprintf(stderr, "mipsec probe: bad address %s\n", bind_to.c_str());
    return 2;
  }
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // The home address may not be on an interface yet (it lives on the MN's
  // TUN once the daemon runs): bind anyway.
  setsockopt(lfd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
  if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(lfd, 8) != 0) {
    std::fprintf(stderr, "mipsec probe: bind/listen %s:%u: %s\n", bind_to.c_str(), port,
                 strerror(errno));
    return 2;
  }
  std::printf("{\"event\":\"listening\",\"t\":%.6f}\n", Now());
  std::fflush(stdout);
  int sfd = SignalFd();
  std::vector<pollfd> fds = {{sfd, POLLIN, 0}, {lfd, POLLIN, 0}};
  for (;;) {
    if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return 2;
    if (fds[0].revents & POLLIN) return 0;
    if (fds[1].revents & POLLIN) {
      int c = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) {
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fds.push_back({c, POLLIN, 0});
      }
    }
    for (std::size_t i = 2; i < fds.size();) {
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        char buf[4096];
        ssize_t n = read(fds[i].fd, buf, sizeof buf);
        if (n <= 0 || write(fds[i].fd, buf, static_cast<std::size_t>(n)) != n) {
          close(fds[i].fd);
          fds.erase(fds.begin() + static_cast<std::ptrdiff_t>(i));
          continue;
        }
      }
      ++i;
    }
  }
}

int TcpProbeConnect(const std::string& to, std::uint16_t port, int interval_ms, double gap_ms,
                    int connect_timeout_ms) {
  sockaddr_in addr;
  if (!ParseAddress(to, port, &addr)) {
    std::fprintf(stderr, "mipsec probe: bad address %s\n", to.c_str());
    return 2;
  }
  int sfd = SignalFd();
  const double give_up = Now() + connect_timeout_ms / 1000.0;
  int fd = -1;
  while (fd < 0) {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) break;
    close(fd);
    fd = -1;
    if (Now() > give_up) {
      std::printf("{\"event\":\"summary\",\"sent\":0,\"echoed\":0,\"max_gap_ms\":0,"
                  "\"alive\":false,\"error\":\"connect: %s\"}\n",
                  strerror(errno));
      return 1;
    }
    usleep(100 * 1000);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  double last = Now();
  std::printf("{\"event\":\"connected\",\"t\":%.6f}\n", last);
  std::fflush(stdout);
  std::uint64_t sent = 0, echoed = 0;
  double max_gap = 0;
  std::string error;
  double next_send = last;
  std::size_t partial = 0;  // bytes of an incomplete echo record read so far
  for (;;) {
    const double now = Now();
    if (now >= next_send) {
      std::uint64_t rec[2] = {sent, static_cast<std::uint64_t>(now * 1e9)};
      ssize_t n = send(fd, rec, sizeof rec, MSG_NOSIGNAL);
      if (n == static_cast<ssize_t>(sizeof rec)) {
        ++sent;
      } else if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        error = n < 0 ? std::string("send: ") + strerror(errno) : "short send";
        break;
      }
      next_send += interval_ms / 1000.0;
      if (next_send < now) next_send = now + interval_ms / 1000.0;
    }
    pollfd p[2] = {{sfd, POLLIN, 0}, {fd, POLLIN, 0}};
    int wait_ms = static_cast<int>((next_send - Now()) * 1000) + 1;
    if (poll(p, 2, wait_ms < 0 ? 0 : wait_ms) < 0 && errno != EINTR) break;
    if (p[0].revents & POLLIN) break;
    if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[4096];
      ssize_t n = read(fd, buf, sizeof buf);
      if (n == 0) {
        error = "connection closed by the peer";
        break;
      }
      if (n < 0 && errno != EAGAIN) {
        error = std::string("read: ") + strerror(errno);
        break;
      }
      if (n > 0) {
        const double at = Now();
        partial += static_cast<std::size_t>(n);
        echoed += partial / 16;
        partial %= 16;
        const double gap = (at - last) * 1000.0;
        if (gap > max_gap) max_gap = gap;
        if (gap > gap_ms) {
          std::printf("{\"event\":\"gap\",\"from\":%.6f,\"to\":%.6f,\"ms\":%.3f}\n", last, at, gap);
          std::fflush(stdout);
        }
        last = at;
      }
    }
  }
  const bool alive = error.empty();
  std::printf("{\"event\":\"summary\",\"sent\":%llu,\"echoed\":%llu,\"max_gap_ms\":%.3f,"
              "\"alive\":%s,\"error\":\"%s\"}\n",
              static_cast<unsigned long long>(sent), static_cast<unsigned long long>(echoed),
              max_gap, alive ? "true" : "false", error.c_str());
  std::fflush(stdout);
  close(fd);
  return alive ? 0 : 1;
}

}  // namespace mipsec::lab
