// ControlServer: the daemons' control socket, the server side of `mipsec ctl`
// (issue 8 item 3). A Unix SOCK_STREAM listener on the daemon's EventLoop;
// one JSON request per connection, one JSON response, then close:
//
//   client -> {"command":"bindings"}\n        (a newline or EOF ends it)
//   server -> {"ok":true,"command":"bindings","data":{...}}\n
//          or {"ok":false,"error":"unknown command 'x'","commands":["bindings",...]}\n
//
// Handlers are registered by command name and return the "data" object (or
// an Error, sent as {"ok":false,"error":...}). "help" is built in: it lists
// every command with its one-line description.
//
// Security (the socket is the daemon's whole management plane):
//   - the socket file is created 0600 (umask 0177 around bind(), then chmod
//     and a check: there is no window in which it is wider); a missing
//     parent directory is created 0700 (one level, e.g. /run/mipsec);
//   - every connection's SO_PEERCRED uid must be the daemon's effective uid
//     or root; anyone else gets {"ok":false,"error":"permission denied..."}
//     and a warning in the log, whatever the file mode says;
//   - a stale socket file (connect() refused: its daemon is dead) is
//     replaced; a live one (connect() succeeds) or a file that is not a
//     socket is an error naming the path, and nothing is touched;
//   - bounded: a request longer than max_request_bytes is answered with an
//     error and the connection closed; each connection has a deadline
//     (connection_timeout) after which it is closed whatever its state; at
//     most max_connections at once (more are closed at once, counted). A
//     slow or hostile client cannot wedge the daemon: all I/O is
//     non-blocking on the loop thread.
//   - handlers must never put key material in their data (no keys, no
//     SK_* values): responses are for operators and scripts.
// The socket file is removed by the destructor (only if it is still ours:
// same device and inode as the one we bound).
//
// Adding commands to a daemon (e.g. the mobile node, `mipsec mn`):
//
//   ControlServerOptions co;
//   co.path = config.control_socket;                      // or --control-socket
//   MIPSEC_ASSIGN_OR_RETURN(control_, ControlServer::Create(*loop_, co, log_.Child("ctl")));
//   control_->Register("status", "mode, interfaces, home address",
//                      [this](const ControlJson&) -> Result<ControlJson> {
//                        return StatusJson();
//                      });
//   // ... "interfaces", "history", "sas", "counters" the same way.
//
// Keep the data flat where it can be (objects of scalars, arrays of flat
// objects): `mipsec ctl` prints those as aligned key/value lists and tables
// without knowing the command (src/platform/linux/control_client.h).
//
// Threading: the loop thread only (Create, Register, the destructor too).
#ifndef MIPSEC_PLATFORM_LINUX_CONTROL_SERVER_H_
#define MIPSEC_PLATFORM_LINUX_CONTROL_SERVER_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "common/time.h"
#include "platform/event_loop.h"
#include "platform/linux/control_dispatch.h"
#include "platform/linux/fd.h"

namespace mipsec::platform {

struct ControlServerOptions {
  std::string path;                        // socket file (at most 107 bytes)
  std::size_t max_request_bytes = 4096;    // a request longer than this is refused
  Duration connection_timeout = Duration::Seconds(5);  // per connection, whole exchange
  std::size_t max_connections = 16;        // at once
};

struct ControlServerCounters {
  std::uint64_t accepted = 0;
  std::uint64_t refused_peer = 0;       // SO_PEERCRED: not our uid, not root
  std::uint64_t too_large = 0;
  std::uint64_t timeouts = 0;           // closed at the deadline
  std::uint64_t over_limit = 0;         // closed: max_connections reached
};

class ControlServer {
 public:
  // The "data" of a successful response; an Error is sent as ok:false.
  // `request` is the whole request object (handlers may read options from
  // it, e.g. "limit").
  using Handler = ControlDispatcher::Handler;

  // Creates the socket (see the file comment) and registers it with `loop`,
  // which must outlive the server. Errors name the path:
  //   "control socket /run/mipsec/ha.sock: another process is listening on it"
  //   "control socket /tmp/x: exists and is not a socket"
  static Result<std::unique_ptr<ControlServer>> Create(EventLoop& loop,
                                                       ControlServerOptions options, Logger log);
  // Closes every connection, unregisters, removes the socket file.
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // kAlreadyExists for a name already registered (and "help"); kInvalidArgument
  // for an empty one.
  Status Register(const std::string& command, const std::string& description, Handler handler);

  // Registered command names, sorted ("help" included).
  std::vector<std::string> Commands() const;
  const std::string& path() const { return options_.path; }
  const ControlServerCounters& counters() const { return counters_; }
  // Answered with ok:true / ok:false (bad request, refused, handler error).
  std::uint64_t requests() const { return dispatcher_.requests(); }
  std::uint64_t errors() const { return dispatcher_.errors(); }
  std::size_t open_connections() const { return conns_.size(); }

  // The response line (without the newline) for a request text; what a
  // connection gets. Public for tests.
  std::string Respond(const std::string& request_text);

 private:
  struct Connection {
    ScopedFd fd;
    std::string in;
    std::string out;
    std::size_t written = 0;
    bool responding = false;
    EventLoop::TimerId timer = EventLoop::kNoTimer;
  };
  ControlServer(EventLoop& loop, ControlServerOptions options, Logger log);
  Status Open();
  void OnAcceptable();
  void OnConnection(int fd, std::uint32_t events);
  void StartResponse(Connection& c, std::string line);
  void WriteSome(int fd, Connection& c);
  void Close(int fd);

  EventLoop& loop_;
  ControlServerOptions options_;
  Logger log_;
  ScopedFd listen_fd_;
  bool registered_ = false;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  bool bound_ = false;
  ControlDispatcher dispatcher_;
  std::map<int, std::unique_ptr<Connection>> conns_;
  ControlServerCounters counters_;
};

}  // namespace mipsec::platform

#endif  // MIPSEC_PLATFORM_LINUX_CONTROL_SERVER_H_
