#include "platform/linux/control_server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "platform/linux/sys_error.h"

namespace mipsec::platform {
namespace {

Result<sockaddr_un> UnixAddress(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(a.sun_path)) {
    return Error(Errc::kInvalidArgument, "control socket '" + path + "': must be 1 to " +
                                             std::to_string(sizeof(a.sun_path) - 1) + " bytes");
  }
  std::memcpy(a.sun_path, path.data(), path.size());
  return a;
}

std::string ParentOf(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

ControlServer::ControlServer(EventLoop& loop, ControlServerOptions options, Logger log)
    : loop_(loop), options_(std::move(options)), log_(std::move(log)) {}

Result<std::unique_ptr<ControlServer>> ControlServer::Create(EventLoop& loop,
                                                             ControlServerOptions options,
                                                             Logger log) {
  if (options.max_request_bytes == 0 || options.max_connections == 0) {
    return Error(Errc::kInvalidArgument, "control socket: limits must be positive");
  }
  std::unique_ptr<ControlServer> s(new ControlServer(loop, std::move(options), std::move(log)));
  MIPSEC_TRY(s->Open());
  return s;
}

Status ControlServer::Open() {
  const std::string& path = options_.path;
  MIPSEC_ASSIGN_OR_RETURN(sockaddr_un addr, UnixAddress(path));
  const std::string what = "control socket " + path;

  // The directory: created 0700 when missing (one level).
  const std::string dir = ParentOf(path);
  struct stat ds {};
  if (::stat(dir.c_str(), &ds) != 0) {
    if (errno != ENOENT) return SysError(what + ": directory " + dir);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return SysError(what + ": mkdir " + dir);
    }
    MIPSEC_LOG(log_, kInfo) << "created directory " << dir << " (mode 0700)";
  } else if (!S_ISDIR(ds.st_mode)) {
    return Error(Errc::kInvalidArgument, what + ": " + dir + " is not a directory");
  }

  // Whatever is at the path: a live daemon's socket and non-sockets are
  // errors; a stale socket (nobody accepts) is replaced.
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Error(Errc::kAlreadyExists,
                   what + ": exists and is not a socket (remove it or choose another path)");
    }
    ScopedFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!probe.valid()) return SysError(what + ": socket");
    if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) {
      return Error(Errc::kAlreadyExists,
                   what + ": another process is listening on it (is the daemon already running?)");
    }
    const int err = errno;
    if (err != ECONNREFUSED) return SysError(what + ": probing the existing socket", err);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return SysError(what + ": removing the stale socket");
    }
    MIPSEC_LOG(log_, kInfo) << "replaced stale control socket " << path;
  } else if (errno != ENOENT) {
    return SysError(what);
  }

  listen_fd_.Reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!listen_fd_.valid()) return SysError(what + ": socket");
  // bind() creates the file with mode 0777 & ~umask: 0600 from the first
  // instant. (umask is per process; the daemons call this at start-up.)
  const mode_t old_mask = ::umask(0177);
  const int rc = ::bind(listen_fd_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  const int bind_err = errno;
  ::umask(old_mask);
  if (rc != 0) return SysError(what + ": bind", bind_err);
  bound_ = true;
  if (::lstat(path.c_str(), &st) != 0) return SysError(what + ": stat after bind");
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  if ((st.st_mode & 07777) != 0600 && ::chmod(path.c_str(), 0600) != 0) {
    return SysError(what + ": chmod 0600");
  }
  if (::listen(listen_fd_.get(), 16) != 0) return SysError(what + ": listen");
  MIPSEC_TRY(loop_.RegisterFd(listen_fd_.get(), kReadable, [this](std::uint32_t) {
    OnAcceptable();
  }));
  registered_ = true;
  MIPSEC_LOG(log_, kInfo) << "control socket " << path << " (mode 0600, uid " << ::geteuid()
                          << " and root)";
  return Ok{};
}

ControlServer::~ControlServer() {
  while (!conns_.empty()) Close(conns_.begin()->first);
  if (registered_) (void)loop_.UnregisterFd(listen_fd_.get());
  listen_fd_.Reset();
  if (bound_) {
    // Only our own file: a successor daemon may have replaced it.
    struct stat st {};
    if (::lstat(options_.path.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) {
      ::unlink(options_.path.c_str());
    }
  }
}

Status ControlServer::Register(const std::string& command, const std::string& description,
                               Handler handler) {
  return dispatcher_.Register(command, description, std::move(handler));
}

std::vector<std::string> ControlServer::Commands() const { return dispatcher_.Commands(); }

std::string ControlServer::Respond(const std::string& request_text) {
  return dispatcher_.Respond(request_text);
}

void ControlServer::OnAcceptable() {
  for (;;) {
    int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        MIPSEC_LOG(log_, kWarning) << "control socket accept: " << ErrnoString(errno);
      }
      return;
    }
    ScopedFd owned(fd);
    ++counters_.accepted;
    if (conns_.size() >= options_.max_connections) {
      ++counters_.over_limit;
      MIPSEC_LOG(log_, kWarning) << "control socket: " << conns_.size()
                                 << " connections open, refusing another";
      continue;  // closed
    }
    ucred cred{};
    socklen_t len = sizeof(cred);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
      MIPSEC_LOG(log_, kWarning) << "control socket: SO_PEERCRED: " << ErrnoString(errno);
      continue;
    }
    auto c = std::make_unique<Connection>();
    c->fd = std::move(owned);
    Connection& conn = *c;
    conns_[fd] = std::move(c);
    Status st = loop_.RegisterFd(fd, kReadable, [this, fd](std::uint32_t ev) {
      OnConnection(fd, ev);
    });
    if (!st.ok()) {
      MIPSEC_LOG(log_, kWarning) << "control socket: " << st.error().ToString();
      conns_.erase(fd);
      continue;
    }
    conn.timer = loop_.CreateTimer([this, fd](Timestamp) {
      ++counters_.timeouts;
      MIPSEC_LOG(log_, kInfo) << "control connection closed at its deadline ("
                              << options_.connection_timeout.millis() << " ms)";
      Close(fd);
    });
    loop_.SetDeadline(conn.timer, loop_.Now() + options_.connection_timeout);
    const uid_t self = ::geteuid();
    if (cred.uid != self && cred.uid != 0) {
      ++counters_.refused_peer;
      MIPSEC_LOG(log_, kWarning) << "control socket: refused a client with uid " << cred.uid
                                 << " (pid " << cred.pid << "): only uid " << self
                                 << " and root may use it";
      dispatcher_.CountError();
      StartResponse(conn, dispatcher_.ErrorLine("permission denied: uid " +
                                                std::to_string(cred.uid) +
                                                " may not use this control socket (only uid " +
                                                std::to_string(self) + " and root)"));
      WriteSome(fd, conn);  // may close it
    }
  }
}

void ControlServer::OnConnection(int fd, std::uint32_t events) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  Connection& c = *it->second;
  if (c.responding) {
    if (events & (kWritable | kIoError | kHangup)) WriteSome(fd, c);
    return;
  }
  char buf[1024];
  for (;;) {
    const std::size_t room = options_.max_request_bytes + 1 - c.in.size();
    ssize_t n = ::read(fd, buf, std::min(sizeof(buf), room));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      Close(fd);
      return;
    }
    const bool eof = n == 0;
    c.in.append(buf, static_cast<std::size_t>(n));
    const std::size_t nl = c.in.find('\n');
    if (nl == std::string::npos && c.in.size() > options_.max_request_bytes) {
      ++counters_.too_large;
      dispatcher_.CountError();
      MIPSEC_LOG(log_, kInfo) << "control request over " << options_.max_request_bytes
                              << " bytes refused";
      StartResponse(c, dispatcher_.ErrorLine("request too large (at most " +
                                             std::to_string(options_.max_request_bytes) +
                                             " bytes)"));
      WriteSome(fd, c);
      return;
    }
    if (nl != std::string::npos || eof) {
      if (eof && c.in.empty()) {
        Close(fd);  // connected and left
        return;
      }
      std::string request = c.in.substr(0, nl == std::string::npos ? c.in.size() : nl);
      StartResponse(c, Respond(request));
      WriteSome(fd, c);
      return;
    }
  }
}

void ControlServer::StartResponse(Connection& c, std::string line) {
  c.responding = true;
  c.out = std::move(line);
  c.out.push_back('\n');
  c.written = 0;
}

void ControlServer::WriteSome(int fd, Connection& c) {
  while (c.written < c.out.size()) {
    ssize_t n = ::send(fd, c.out.data() + c.written, c.out.size() - c.written, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        (void)loop_.ModifyFd(fd, kWritable);
        return;  // the deadline still applies
      }
      Close(fd);
      return;
    }
    c.written += static_cast<std::size_t>(n);
  }
  Close(fd);
}

void ControlServer::Close(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  (void)loop_.UnregisterFd(fd);
  if (it->second->timer != EventLoop::kNoTimer) loop_.DestroyTimer(it->second->timer);
  conns_.erase(it);  // closes the fd
}

}  // namespace mipsec::platform
