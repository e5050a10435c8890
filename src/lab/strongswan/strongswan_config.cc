#include "lab/strongswan/strongswan_config.h"

#include <algorithm>
#include <set>
#include <sstream>

namespace mipsec::lab {
namespace {

bool IsValidName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
  });
}

// A value that cannot leave its line or section in either file.
bool IsSafeValue(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    return c == '\n' || c == '\r' || c == '{' || c == '}' || c == '"' || c == '\\' || c == '#' ||
           static_cast<unsigned char>(c) < 0x20;
  });
}

Error Bad(std::string_view where, std::string_view what) {
  return Error(Errc::kInvalidArgument, std::string(where) + ": " + std::string(what));
}

Status CheckValue(std::string_view where, std::string_view field, std::string_view v) {
  if (!IsSafeValue(v)) {
    return Bad(where, std::string(field) + " '" + std::string(v) +
                          "' contains a newline, brace, quote, backslash or '#'");
  }
  return Ok{};
}

Status CheckList(std::string_view where, std::string_view field,
                 const std::vector<std::string>& v) {
  for (const auto& s : v) {
    if (s.empty()) return Bad(where, std::string(field) + " has an empty entry");
    if (s.find(',') != std::string::npos) {
      return Bad(where, std::string(field) + " entry '" + s + "' contains ','; use one per entry");
    }
    MIPSEC_TRY(CheckValue(where, field, s));
  }
  return Ok{};
}

Status CheckExtra(std::string_view where, const std::vector<std::string>& extra) {
  for (const auto& line : extra) {
    if (line.find('\n') != std::string::npos || line.find('\r') != std::string::npos) {
      return Bad(where, "extra line '" + line + "' contains a newline");
    }
    if (std::count(line.begin(), line.end(), '{') != std::count(line.begin(), line.end(), '}')) {
      return Bad(where, "extra line '" + line + "' has unbalanced braces");
    }
  }
  return Ok{};
}

Status CheckSeconds(std::string_view where, std::string_view field, int v) {
  if (v < 0) return Bad(where, std::string(field) + " must be >= 0, got " + std::to_string(v));
  return Ok{};
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

std::string Secs(int s) { return std::to_string(s) + "s"; }

const char* YesNo(bool b) { return b ? "yes" : "no"; }

bool UsesPsk(const SwanConnection& c) {
  return c.local.auth == SwanAuth::kPsk || c.remote.auth == SwanAuth::kPsk;
}

void RenderAuth(std::ostringstream& o, const char* section, const SwanAuthRound& a, bool local) {
  o << "    " << section << " {\n";
  o << "      auth = " << (a.auth == SwanAuth::kPsk ? "psk" : "pubkey") << "\n";
  if (!a.id.empty()) o << "      id = \"" << a.id << "\"\n";
  if (a.auth == SwanAuth::kPubkey) {
    if (local && !a.cert.empty()) o << "      certs = " << a.cert << "\n";
    if (!local && !a.cacert.empty()) o << "      cacerts = " << a.cacert << "\n";
  }
  o << "    }\n";
}

}  // namespace

SwanChild& SwanConnection::AddChild(std::string child_name) {
  children.push_back(SwanChild{});
  children.back().name = std::move(child_name);
  return children.back();
}

SwanConnection& StrongswanConfig::AddConnection(std::string conn_name) {
  connections.push_back(SwanConnection{});
  connections.back().name = std::move(conn_name);
  return connections.back();
}

const SwanConnection* StrongswanConfig::FindConnection(std::string_view conn_name) const {
  for (const auto& c : connections) {
    if (c.name == conn_name) return &c;
  }
  return nullptr;
}

Status StrongswanConfig::Validate() const {
  if (connections.empty()) return Bad("strongswan config", "no connections");
  std::set<std::string> conn_names;
  std::set<std::string> child_names;
  for (const auto& c : connections) {
    std::string where = "connection '" + c.name + "'";
    if (!IsValidName(c.name)) return Bad(where, "name must be 1-64 of [A-Za-z0-9_-]");
    if (!conn_names.insert(c.name).second) return Bad(where, "defined twice");
    MIPSEC_TRY(CheckList(where, "local_addrs", c.local_addrs));
    MIPSEC_TRY(CheckList(where, "remote_addrs", c.remote_addrs));
    MIPSEC_TRY(CheckList(where, "pool_dns", c.pool_dns));
    if (c.proposals.empty()) return Bad(where, "proposals is empty");
    for (std::string_view f : {c.proposals, c.pool_addrs, c.unique, c.psk}) {
      MIPSEC_TRY(CheckValue(where, "value", f));
    }
    for (const SwanAuthRound* a : {&c.local, &c.remote}) {
      const char* side = a == &c.local ? "local" : "remote";
      MIPSEC_TRY(CheckValue(where, std::string(side) + ".id", a->id));
      MIPSEC_TRY(CheckValue(where, std::string(side) + ".cert", a->cert));
      MIPSEC_TRY(CheckValue(where, std::string(side) + ".key", a->key));
      MIPSEC_TRY(CheckValue(where, std::string(side) + ".cacert", a->cacert));
      for (const std::string* p : {&a->cert, &a->key, &a->cacert}) {
        if (!p->empty() && (*p)[0] != '/') {
          return Bad(where, std::string(side) + ": '" + *p + "' is not an absolute path");
        }
      }
    }
    if (UsesPsk(c) && c.psk.empty()) return Bad(where, "auth psk needs psk");
    if (c.local.auth == SwanAuth::kPubkey && (c.local.cert.empty() || c.local.key.empty())) {
      return Bad(where, "local auth pubkey needs local.cert and local.key");
    }
    MIPSEC_TRY(CheckSeconds(where, "rekey_time_s", c.rekey_time_s));
    MIPSEC_TRY(CheckSeconds(where, "reauth_time_s", c.reauth_time_s));
    MIPSEC_TRY(CheckSeconds(where, "over_time_s", c.over_time_s));
    MIPSEC_TRY(CheckSeconds(where, "dpd_delay_s", c.dpd_delay_s));
    if (c.keyingtries < 0) return Bad(where, "keyingtries must be >= 0");
    MIPSEC_TRY(CheckExtra(where, c.extra));
    if (c.children.empty()) return Bad(where, "no children");
    for (const auto& ch : c.children) {
      std::string cw = where + " child '" + ch.name + "'";
      if (!IsValidName(ch.name)) return Bad(cw, "name must be 1-64 of [A-Za-z0-9_-]");
      // vici identifies a CHILD_SA config by its name alone (--initiate --child).
      if (!child_names.insert(ch.name).second) return Bad(cw, "child name used twice");
      MIPSEC_TRY(CheckList(cw, "local_ts", ch.local_ts));
      MIPSEC_TRY(CheckList(cw, "remote_ts", ch.remote_ts));
      if (ch.esp_proposals.empty()) return Bad(cw, "esp_proposals is empty");
      for (std::string_view f :
           {ch.esp_proposals, ch.mode, ch.start_action, ch.dpd_action, ch.close_action}) {
        MIPSEC_TRY(CheckValue(cw, "value", f));
      }
      MIPSEC_TRY(CheckSeconds(cw, "rekey_time_s", ch.rekey_time_s));
      MIPSEC_TRY(CheckSeconds(cw, "life_time_s", ch.life_time_s));
      MIPSEC_TRY(CheckExtra(cw, ch.extra));
    }
  }
  for (const auto& [k, v] : log_levels) {
    if (!IsValidName(k)) return Bad("log_levels", "bad subsystem '" + k + "'");
    if (v < -1 || v > 4) return Bad("log_levels", k + " must be -1..4");
  }
  MIPSEC_TRY(CheckValue("strongswan config", "interfaces_use", interfaces_use));
  for (const auto& p : extra_plugins) {
    if (!IsValidName(p)) return Bad("extra_plugins", "bad plugin name '" + p + "'");
  }
  MIPSEC_TRY(CheckExtra("extra_charon", extra_charon));
  return Ok{};
}

SwanPaths SwanPaths::InDir(const std::string& run_dir) {
  SwanPaths p;
  p.run_dir = run_dir;
  p.log = run_dir + "/charon.log";
  p.vici_socket = run_dir + "/charon.vici";
  p.swanctl_dir = run_dir + "/swanctl";
  return p;
}

std::string SwanPrivateKeyFileName(std::string_view conn_name) {
  return std::string(conn_name) + ".pem";
}

Result<std::string> RenderStrongswanConf(const StrongswanConfig& config, const SwanPaths& paths) {
  MIPSEC_TRY(config.Validate());
  for (const std::string* p : {&paths.run_dir, &paths.log, &paths.vici_socket}) {
    MIPSEC_TRY(CheckValue("paths", "path", *p));
  }
  std::ostringstream o;
  o << "# Generated by src/lab/strongswan for one peer. Standalone: nothing\n"
       "# from /etc/strongswan.d is included.\n"
       "charon-systemd {\n"
       "  journal {\n"
       "    default = -1\n"
       "  }\n"
       "}\n"
       "charon {\n";
  o << "  load = " << kSwanPlugins;
  for (const auto& p : config.extra_plugins) o << " " << p;
  o << "\n";
  o << "  port = 500\n"
       "  port_nat_t = 4500\n"
       "  install_routes = yes\n"
       "  routing_table = 220\n"
       "  routing_table_prio = 220\n";
  if (!config.interfaces_use.empty()) o << "  interfaces_use = " << config.interfaces_use << "\n";
  for (const auto& line : config.extra_charon) o << "  " << line << "\n";
  o << "  filelog {\n"
       "    testlog {\n"
       "      path = "
    << paths.log
    << "\n"
       "      time_format = %F %T\n"
       "      time_add_ms = yes\n"
       "      ike_name = yes\n"
       "      append = no\n"
       "      flush_line = yes\n";
  for (const auto& [k, v] : config.log_levels) o << "      " << k << " = " << v << "\n";
  o << "    }\n"
       "  }\n"
       "  plugins {\n"
       "    vici {\n"
       "      socket = "
    << paths.vici_uri()
    << "\n"
       "    }\n"
       "    kernel-libipsec {\n"
       "      allow_peer_ts = no\n"
       "    }\n"
       "  }\n"
       "}\n"
       "swanctl {\n"
       "  socket = "
    << paths.vici_uri()
    << "\n"
       // swanctl parses the credentials it sends; without a list it tries
       // (and warns about) every plugin compiled into libstrongswan.
       "  load = random nonce openssl pem pkcs1 pkcs8 x509 pubkey\n"
       "}\n";
  return o.str();
}

Result<std::string> RenderSwanctlConf(const StrongswanConfig& config) {
  MIPSEC_TRY(config.Validate());
  std::ostringstream o;
  o << "# Generated by src/lab/strongswan for one peer.\n"
       "connections {\n";
  for (const auto& c : config.connections) {
    o << "  " << c.name << " {\n";
    o << "    version = 2\n";
    if (!c.local_addrs.empty()) o << "    local_addrs = " << Join(c.local_addrs) << "\n";
    if (!c.remote_addrs.empty()) o << "    remote_addrs = " << Join(c.remote_addrs) << "\n";
    o << "    proposals = " << c.proposals << "\n";
    if (c.request_virtual_ip) o << "    vips = 0.0.0.0\n";
    if (!c.pool_addrs.empty()) o << "    pools = " << c.name << "_pool\n";
    o << "    mobike = " << YesNo(c.mobike) << "\n";
    o << "    encap = " << YesNo(c.encap) << "\n";
    o << "    rekey_time = " << Secs(c.rekey_time_s) << "\n";
    o << "    reauth_time = " << Secs(c.reauth_time_s) << "\n";
    if (c.over_time_s > 0) o << "    over_time = " << Secs(c.over_time_s) << "\n";
    o << "    dpd_delay = " << Secs(c.dpd_delay_s) << "\n";
    o << "    keyingtries = " << c.keyingtries << "\n";
    o << "    unique = " << c.unique << "\n";
    o << "    send_certreq = " << YesNo(c.send_certreq) << "\n";
    // Without a CERTREQ (send_certreq = no) strongSwan would not send its
    // certificate ("ifasked"), and the peer has no public key to verify.
    if (c.local.auth == SwanAuth::kPubkey) o << "    send_cert = always\n";
    for (const auto& line : c.extra) o << "    " << line << "\n";
    RenderAuth(o, "local", c.local, true);
    RenderAuth(o, "remote", c.remote, false);
    o << "    children {\n";
    for (const auto& ch : c.children) {
      o << "      " << ch.name << " {\n";
      if (!ch.local_ts.empty()) o << "        local_ts = " << Join(ch.local_ts) << "\n";
      if (!ch.remote_ts.empty()) o << "        remote_ts = " << Join(ch.remote_ts) << "\n";
      o << "        mode = " << ch.mode << "\n";
      o << "        esp_proposals = " << ch.esp_proposals << "\n";
      o << "        rekey_time = " << Secs(ch.rekey_time_s) << "\n";
      if (ch.life_time_s > 0) o << "        life_time = " << Secs(ch.life_time_s) << "\n";
      o << "        start_action = " << ch.start_action << "\n";
      o << "        dpd_action = " << ch.dpd_action << "\n";
      if (!ch.close_action.empty()) o << "        close_action = " << ch.close_action << "\n";
      for (const auto& line : ch.extra) o << "        " << line << "\n";
      o << "      }\n";
    }
    o << "    }\n";
    o << "  }\n";
  }
  o << "}\n";

  o << "pools {\n";
  for (const auto& c : config.connections) {
    if (c.pool_addrs.empty()) continue;
    o << "  " << c.name << "_pool {\n";
    o << "    addrs = " << c.pool_addrs << "\n";
    if (!c.pool_dns.empty()) o << "    dns = " << Join(c.pool_dns) << "\n";
    o << "  }\n";
  }
  o << "}\n";

  // PSKs are bound to the identities of the connection, so several
  // connections with different keys can live in one daemon. A remote of
  // %any leaves the key bound to our identity only (matches any peer).
  o << "secrets {\n";
  for (const auto& c : config.connections) {
    if (!UsesPsk(c)) continue;
    o << "  ike-" << c.name << " {\n";
    int n = 0;
    if (!c.local.id.empty()) o << "    id-" << ++n << " = \"" << c.local.id << "\"\n";
    if (!c.remote.id.empty() && c.remote.id != "%any") {
      o << "    id-" << ++n << " = \"" << c.remote.id << "\"\n";
    }
    o << "    secret = \"" << c.psk << "\"\n";
    o << "  }\n";
  }
  o << "}\n";
  return o.str();
}

}  // namespace mipsec::lab
