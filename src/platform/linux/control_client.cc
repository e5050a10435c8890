#include "platform/linux/control_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <vector>

#include "platform/linux/epoll_event_loop.h"
#include "platform/linux/fd.h"
#include "platform/linux/sys_error.h"

namespace mipsec::platform {
namespace {

using json = nlohmann::ordered_json;

constexpr std::size_t kMaxResponseBytes = 64u << 20;

// Waits for `events` on fd until `deadline` (CLOCK_MONOTONIC).
Status WaitFor(int fd, short events, Timestamp deadline, const std::string& path) {
  for (;;) {
    const Duration left = deadline - MonotonicNow();
    if (left <= Duration::Zero()) {
      return Error(Errc::kTimeout, "control socket " + path + ": no answer in time");
    }
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(1, left.millis())));
    if (n > 0) return Ok{};
    if (n < 0 && errno != EINTR) return SysError("control socket " + path + ": poll");
  }
}

std::string Scalar(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "-";
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_array()) {
    std::string s;
    for (const json& e : v) s += (s.empty() ? "" : ", ") + Scalar(e);
    return s.empty() ? "-" : s;
  }
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool IsFlat(const json& v) {
  if (v.is_object()) return false;
  if (v.is_array()) {
    return std::all_of(v.begin(), v.end(),
                       [](const json& e) { return !e.is_object() && !e.is_array(); });
  }
  return true;
}

bool IsTable(const json& v) {
  return v.is_array() && !v.empty() && std::all_of(v.begin(), v.end(), [](const json& e) {
           if (!e.is_object()) return false;
           for (const auto& [k, x] : e.items()) {
             if (!IsFlat(x)) return false;
           }
           return true;
         });
}

std::string Label(const std::string& key) {
  std::string s = key;
  std::replace(s.begin(), s.end(), '_', ' ');
  return s;
}

void Table(const json& rows, const std::string& indent, std::ostringstream& o) {
  std::vector<std::string> cols;
  for (const json& r : rows) {
    for (const auto& [k, v] : r.items()) {
      if (std::find(cols.begin(), cols.end(), k) == cols.end()) cols.push_back(k);
    }
  }
  std::vector<std::size_t> width(cols.size());
  std::vector<std::vector<std::string>> cells;
  for (std::size_t c = 0; c < cols.size(); ++c) width[c] = Label(cols[c]).size();
  for (const json& r : rows) {
    std::vector<std::string> line;
    for (std::size_t c = 0; c < cols.size(); ++c) {
      auto it = r.find(cols[c]);
      line.push_back(it == r.end() ? "-" : Scalar(*it));
      width[c] = std::max(width[c], line.back().size());
    }
    cells.push_back(std::move(line));
  }
  auto emit = [&](const std::vector<std::string>& line) {
    std::string s = indent;
    for (std::size_t c = 0; c < line.size(); ++c) {
      s += line[c];
      if (c + 1 < line.size()) s += std::string(width[c] - line[c].size() + 2, ' ');
    }
    o << s << "\n";
  };
  std::vector<std::string> header;
  for (const std::string& c : cols) header.push_back(Label(c));
  emit(header);
  for (const auto& line : cells) emit(line);
}

void Render(const json& obj, const std::string& indent, std::ostringstream& o) {
  if (!obj.is_object()) {
    if (IsTable(obj)) {
      Table(obj, indent, o);
    } else {
      o << indent << Scalar(obj) << "\n";
    }
    return;
  }
  std::size_t w = 0;
  for (const auto& [k, v] : obj.items()) {
    if (IsFlat(v)) w = std::max(w, Label(k).size());
  }
  // Scalars first (aligned), then sections and tables in key order.
  for (const auto& [k, v] : obj.items()) {
    if (!IsFlat(v)) continue;
    o << indent << Label(k) << std::string(w - Label(k).size() + 2, ' ') << Scalar(v) << "\n";
  }
  for (const auto& [k, v] : obj.items()) {
    if (IsFlat(v)) continue;
    if (v.is_array() && v.empty()) continue;
    o << indent << Label(k) << ":\n";
    if (IsTable(v)) {
      Table(v, indent + "  ", o);
    } else if (v.is_array()) {
      std::size_t i = 0;
      for (const json& e : v) {
        o << indent << "  [" << i++ << "]\n";
        Render(e, indent + "    ", o);
      }
    } else {
      Render(v, indent + "  ", o);
    }
  }
}

}  // namespace

std::string DefaultControlSocket(const std::string& daemon) {
  return "/run/mipsec/" + daemon + ".sock";
}

Result<json> ControlQuery(const std::string& path, const json& request, Duration timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return Error(Errc::kInvalidArgument, "control socket path '" + path + "': must be 1 to " +
                                             std::to_string(sizeof(addr.sun_path) - 1) +
                                             " bytes");
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  const Timestamp deadline = MonotonicNow() + timeout;
  ScopedFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return SysError("socket");
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    switch (err) {
      case ENOENT:
        return Error(Errc::kNotFound,
                     "no control socket at " + path + " (is the daemon running? see its "
                     "control_socket setting, or pass --socket)");
      case EACCES:
      case EPERM:
        return Error(Errc::kAuthFailed, "permission denied on " + path +
                                            " (run as root or as the daemon's user)");
      case ECONNREFUSED:
        return Error(Errc::kState, "nobody is listening on " + path +
                                       " (stale socket: the daemon is not running)");
      case ENOTSOCK:
        return Error(Errc::kInvalidArgument, path + " is not a socket");
      case EAGAIN:
        return Error(Errc::kResource, "control socket " + path + ": the daemon's backlog is full");
      default:
        return SysError("connect " + path, err);
    }
  }
  std::string out = request.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  std::size_t off = 0;
  while (off < out.size()) {
    ssize_t n = ::send(fd.get(), out.data() + off, out.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        MIPSEC_TRY(WaitFor(fd.get(), POLLOUT, deadline, path));
        continue;
      }
      return SysError("control socket " + path + ": send");
    }
    off += static_cast<std::size_t>(n);
  }
  std::string in;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        MIPSEC_TRY(WaitFor(fd.get(), POLLIN, deadline, path));
        continue;
      }
      if (errno == ECONNRESET && !in.empty()) break;
      return SysError("control socket " + path + ": read");
    }
    if (n == 0) break;
    in.append(buf, static_cast<std::size_t>(n));
    if (in.size() > kMaxResponseBytes) {
      return Error(Errc::kResource, "control socket " + path + ": response over 64 MiB");
    }
  }
  if (in.empty()) {
    return Error(Errc::kMalformed, "control socket " + path + ": the daemon closed the "
                                                              "connection without an answer");
  }
  json reply = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (reply.is_discarded() || !reply.is_object() || !reply.contains("ok")) {
    return Error(Errc::kMalformed, "control socket " + path + ": the answer is not a control "
                                                              "response");
  }
  return reply;
}

std::string FormatHuman(const json& data) {
  std::ostringstream o;
  Render(data, "", o);
  return o.str();
}

namespace {

std::string Field(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? "-" : Scalar(*it);
}

bool Flag(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_boolean() && it->get<bool>();
}

// `swanctl --list-sas` style:
//   #1: ESTABLISHED, responder, SPIs 251decc44d03e204_i 6898ebbe0e1027c6_r*
//     local  203.0.113.2:4500 [NAT]
//     remote 198.51.100.10:4500 [NAT] email:client@example.org
//     aes128gcm16-prfsha256-curve25519, MOBIKE, TIA 192.0.2.129
//     child: INSTALLED, aes128gcm16-noesn, ESP in UDP, 12 s
//       in   43c92b39  420 bytes  5 packets  192.0.2.129/32
//       out  7deda2f5  420 bytes  5 packets  192.0.2.0/25
void RenderSas(const json& data, std::ostringstream& o) {
  // The mobile node's view of its VPN first (mipsec mn).
  if (auto up = data.find("up"); up != data.end() && up->is_boolean()) {
    if (up->get<bool>()) {
      o << "VPN up: TIA " << Field(data, "tia") << ", gateway " << Field(data, "gateway")
        << ", from " << Field(data, "local") << "\n";
    } else {
      o << (Flag(data, "vpn_configured") ? "VPN down\n" : "no VPN configured\n");
    }
    if (data.find("sas") == data.end()) return;
  }
  auto sas = data.find("sas");
  if (sas == data.end() || !sas->is_array()) {
    Render(data, "", o);
    return;
  }
  if (sas->empty()) {
    o << "no IKE SAs\n";
    return;
  }
  for (const json& ike : *sas) {
    if (!ike.is_object()) continue;
    const bool initiator = Flag(ike, "initiator");
    o << "#" << Field(ike, "id") << ": " << Field(ike, "state") << ", "
      << (initiator ? "initiator" : "responder") << ", SPIs " << Field(ike, "spi_i") << "_i"
      << (initiator ? "*" : "") << " " << Field(ike, "spi_r") << "_r" << (initiator ? "" : "*")
      << "\n";
    o << "  local  " << Field(ike, "local") << (Flag(ike, "nat_local") ? " [NAT]" : "") << "\n";
    o << "  remote " << Field(ike, "remote") << (Flag(ike, "nat_remote") ? " [NAT]" : "");
    if (auto id = ike.find("remote_id"); id != ike.end() && id->is_string()) {
      o << " " << id->get<std::string>();
    }
    o << "\n  " << Field(ike, "suite");
    if (Flag(ike, "mobike")) o << ", MOBIKE";
    if (auto tia = ike.find("tia"); tia != ike.end() && tia->is_string()) {
      o << ", TIA " << tia->get<std::string>();
    }
    if (auto vip = ike.find("virtual_ip"); vip != ike.end() && vip->is_string()) {
      o << ", virtual IP " << vip->get<std::string>();
    }
    o << "\n";
    auto children = ike.find("child_sas");
    if (children == ike.end() || !children->is_array()) continue;
    for (const json& c : *children) {
      if (!c.is_object()) continue;
      const std::string encap = Field(c, "encap");
      o << "  child: " << Field(c, "state") << ", " << Field(c, "suite") << ", "
        << (encap == "udp" ? "ESP in UDP" : "ESP") << ", " << Field(c, "age_s") << " s\n";
      // Inbound traffic comes from the remote selectors, outbound goes to them.
      const std::string in_bytes = Field(c, "bytes_in");
      const std::string out_bytes = Field(c, "bytes_out");
      const std::size_t w = std::max(in_bytes.size(), out_bytes.size());
      const std::string in_pk = Field(c, "packets_in");
      const std::string out_pk = Field(c, "packets_out");
      const std::size_t wp = std::max(in_pk.size(), out_pk.size());
      o << "    in   " << Field(c, "spi_in") << "  " << std::string(w - in_bytes.size(), ' ')
        << in_bytes << " bytes  " << std::string(wp - in_pk.size(), ' ') << in_pk
        << " packets  " << Field(c, "local_ts") << " <- " << Field(c, "remote_ts") << "\n";
      o << "    out  " << Field(c, "spi_out") << "  " << std::string(w - out_bytes.size(), ' ')
        << out_bytes << " bytes  " << std::string(wp - out_pk.size(), ' ') << out_pk
        << " packets  " << Field(c, "local_ts") << " -> " << Field(c, "remote_ts") << "\n";
    }
  }
}

// The mobile node's `history`, one decision per line, oldest first:
//   2026-12-01T02:50:44.123Z  eth0  state       detecting -> c  [R11 R22 R24]  authenticated...
//   2026-12-01T02:50:44.125Z  eth0  data-plane  mip             [R2 R10 R11]   inside on eth0
void RenderHistory(const json& data, std::ostringstream& o) {
  auto events = data.find("events");
  if (events == data.end() || !events->is_array()) {
    Render(data, "", o);
    return;
  }
  if (events->empty()) {
    o << "no events\n";
    return;
  }
  std::vector<std::array<std::string, 6>> lines;
  std::array<std::size_t, 6> width{};
  for (const json& e : *events) {
    if (!e.is_object()) continue;
    std::string detail;
    if (auto f = e.find("from"); f != e.end() && f->is_string()) {
      detail = f->get<std::string>() + " -> " + Field(e, "to");
    } else if (auto p = e.find("data_plane"); p != e.end() && p->is_string()) {
      detail = p->get<std::string>();
    }
    const std::string req = Field(e, "requirement");
    std::array<std::string, 6> l = {Field(e, "time"), Field(e, "interface"), Field(e, "kind"),
                                    detail, req.empty() || req == "-" ? "" : "[" + req + "]",
                                    Field(e, "text")};
    for (std::size_t c = 0; c < l.size(); ++c) width[c] = std::max(width[c], l[c].size());
    lines.push_back(std::move(l));
  }
  for (const auto& l : lines) {
    std::string s;
    for (std::size_t c = 0; c < l.size(); ++c) {
      s += l[c];
      if (c + 1 < l.size()) s += std::string(width[c] - l[c].size() + 2, ' ');
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    o << s << "\n";
  }
}

}  // namespace

std::string FormatHuman(const std::string& command, const json& data) {
  if (!data.is_object() || (command != "sas" && command != "history")) return FormatHuman(data);
  std::ostringstream o;
  if (command == "history") {
    RenderHistory(data, o);
  } else {
    RenderSas(data, o);
  }
  return o.str();
}

}  // namespace mipsec::platform
