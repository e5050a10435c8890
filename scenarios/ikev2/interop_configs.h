// The configurations the IKEv2 interop tests share: `mipsec gw` and
// `mipsec vpn` TOML, and strongSwan as the client and as the gateway, all on
// testing/strongswan's kInteropTopology with one PSK. Test-only (no
// GoogleTest here: the benchmarks use it too).
#ifndef MIPSEC_SCENARIOS_IKEV2_INTEROP_CONFIGS_H_
#define MIPSEC_SCENARIOS_IKEV2_INTEROP_CONFIGS_H_

#include <cstdio>
#include <sstream>
#include <string>
#include <string_view>

#include "testing/strongswan/interop_net.h"
#include "lab/strongswan/strongswan_config.h"
#include "testing/lab_names.h"

namespace mipsec::testing {

// Lower-case hex of `s` (PSKs in the TOML configs).
inline std::string Hex(std::string_view s) {
  std::string out;
  char b[3];
  for (unsigned char c : s) {
    std::snprintf(b, sizeof(b), "%02x", c);
    out += b;
  }
  return out;
}

inline constexpr const char kPsk[] = "mipsec-ikev2-interop-psk";

struct GwSettings {
  std::string ike_proposals = "aes128gcm16-prfsha256-x25519";
  std::string esp_proposals = "aes128gcm16";
  // Raw TOML appended (e.g. a [policy] section).
  std::string extra;
  // Certificates instead of the PSK: [gateway] auth lines.
  std::string auth = std::string("auth = \"psk\"\npsk = \"") + Hex(kPsk) + "\"\n";
  std::string lifetimes;  // raw [gateway] lifetime lines
  std::string log_level = "debug";
};

inline std::string GwToml(const GwSettings& s) {
  std::ostringstream o;
  o << "[gateway]\n"
    << "listen = \"" << kInteropGwExt << "\"\n"
    << "local_id = \"fqdn:gw.example.org\"\n"
    << s.auth << "ike_proposals = [\"" << s.ike_proposals << "\"]\n"
    << "esp_proposals = [\"" << s.esp_proposals << "\"]\n"
    << s.lifetimes << "log_level = \"" << s.log_level << "\"\n"
    << "\n[tia_pool]\nrange = \"" << kInteropPool << "\"\n"
    << "dns = [\"192.0.2.53\"]\n"
    << "\n[intranet]\nprefixes = [\"" << kInteropIntranet << "\"]\n"
    << "tun = \"mipsecgw0\"\n"
    << s.extra;
  return o.str();
}

inline StrongswanConfig ClientConfig(std::string_view proposals = "aes128gcm16-prfsha256-x25519",
                              std::string_view esp = "aes128gcm16") {
  StrongswanConfig cfg;
  SwanConnection& home = cfg.AddConnection("home");
  home.remote_addrs = {kInteropGwExt};
  home.proposals = proposals;
  home.local.id = "client@example.org";
  home.remote.id = "gw.example.org";
  home.psk = kPsk;
  home.request_virtual_ip = true;
  SwanChild& ch = home.AddChild("home");
  ch.remote_ts = {kInteropIntranet};
  ch.esp_proposals = esp;
  return cfg;
}

struct VpnSettings {
  std::string ike_proposals = "aes128gcm16-prfsha256-x25519";
  std::string esp_proposals = "aes128gcm16";
  std::string auth = std::string("auth = \"psk\"\npsk = \"") + Hex(kPsk) + "\"\n";
  std::string local_id = "email:client@example.org";
  std::string extra;  // raw [client] lines (lifetimes)
  std::string log_level = "debug";
};

inline std::string VpnToml(const VpnSettings& s) {
  std::ostringstream o;
  o << "[client]\n"
    << "gateway = \"" << kInteropGwExt << "\"\n"
    << "local_id = \"" << s.local_id << "\"\n"
    << "remote_id = \"fqdn:gw.example.org\"\n"
    << s.auth << "ike_proposals = [\"" << s.ike_proposals << "\"]\n"
    << "esp_proposals = [\"" << s.esp_proposals << "\"]\n"
    << "routes = [\"" << kInteropIntranet << "\"]\n"
    << "tun = \"mipsecvpn0\"\n"
    << s.extra << "log_level = \"" << s.log_level << "\"\n";
  return o.str();
}

// strongSwan as the gateway: connection "rw", child "net" (the intranet),
// virtual IPs from kInteropPool, only ext0 used and advertised.
inline StrongswanConfig SwanGateway(std::string_view proposals = "aes128gcm16-prfsha256-x25519",
                             std::string_view esp = "aes128gcm16") {
  StrongswanConfig cfg;
  cfg.interfaces_use = "ext0";
  SwanConnection& rw = cfg.AddConnection("rw");
  rw.local_addrs = {kInteropGwExt};
  rw.proposals = proposals;
  rw.local.id = "gw.example.org";
  rw.remote.id = "%any";
  rw.psk = kPsk;
  rw.pool_addrs = kInteropPool;
  rw.pool_dns = {"192.0.2.53"};
  rw.unique = "never";
  SwanChild& net = rw.AddChild("net");
  net.local_ts = {kInteropIntranet};
  net.esp_proposals = esp;
  return cfg;
}

}  // namespace mipsec::testing

#endif  // MIPSEC_SCENARIOS_IKEV2_INTEROP_CONFIGS_H_
