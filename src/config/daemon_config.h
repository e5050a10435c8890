// Configuration of the `mipsec ha` and `mipsec fa` daemons, parsed from TOML
// (format and every key: docs/configuration.md; commented examples:
// examples/ha.toml, examples/fa.toml).
//
// Parsing is all or nothing: ParseHaConfig/ParseFaConfig return a complete,
// validated config or one Error naming the file, the line, the key path and
// the reason, e.g.
//   "ha.toml:12: mobile_node[2].spi: 200 is reserved (SPIs 0-255, RFC 5944 1.6)"
// Unknown keys are errors. Cross-field rules (a mobile node's home address
// inside the home network, no home address or NAI twice, reverse tunnelling
// mandatory only if allowed, ...) are checked here too, so a config that
// parses can be started.
//
// Keys are SecretBytes and can never be printed or logged; errors about a key
// never quote it. A key is given inline as hex (`key = "..."`) or as the path
// of a file holding it in hex (`key_file = "..."`, relative paths are relative
// to the config file's directory), read through the FileReader passed in (the
// real file system by default; tests inject one).
//
// The structs are plain data with the protocol's vocabulary types
// (Ipv4Address, Duration, ...); the daemons map them into the cores'
// configurations. This library deliberately depends on common only: the
// algorithm and replay enums mirror mip4/security's.
#ifndef MIPSEC_CONFIG_DAEMON_CONFIG_H_
#define MIPSEC_CONFIG_DAEMON_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip/address.h"
#include "common/log.h"
#include "common/result.h"
#include "common/secret.h"
#include "common/time.h"

namespace mipsec::config {

// Mirrors mip4::AuthAlgorithm ("hmac-md5"; RFC 5944 5.1).
enum class AuthAlgorithm : std::uint8_t { kHmacMd5 };
// Mirrors mip4::ReplayMethod ("timestamp", "nonce"; RFC 5944 5.7).
enum class ReplayMethod : std::uint8_t { kTimestamp, kNonce };

// One Mobility Security Association's parameters.
struct SaConfig {
  std::uint32_t spi = 0;  // 256..2^32-1 (0-255 reserved, RFC 5944 1.6)
  AuthAlgorithm algorithm = AuthAlgorithm::kHmacMd5;
  SecretBytes key;        // at least 16 bytes for hmac-md5 (RFC 5944 5.1)
  int line = 0;           // where it was configured (for later messages)
};

// A mobile node the HA serves (MN-HA SA) or the FA knows (MN-FA SA).
struct MobileNodeConfig {
  std::optional<Ipv4Address> home_address;
  std::string nai;  // RFC 2794; empty: none. At least one of the two is set.
  SaConfig sa;
  // HA only (the FA file has no replay keys).
  ReplayMethod replay = ReplayMethod::kTimestamp;
  Duration tolerance = Duration::Seconds(7);  // RFC 5944 5.7.1 default
};

// A peer agent with an FA-HA SA (RFC 5944 3.5.4).
struct PeerConfig {
  Ipv4Address address;
  SaConfig sa;
};

struct HaConfig {
  // [home_agent]
  Ipv4Address address;        // the HA's address on the home network
  Ipv4Prefix home_network;    // contains `address`
  std::string interface;      // the home network interface
  std::uint16_t port = 434;   // registration UDP port (RFC 5944 3.1)
  Duration max_lifetime = Duration::Seconds(1800);  // whole seconds, 1..65534
  // RFC 5265 4.3: sources allowed to register through the trusted path
  // (none by default).
  std::vector<Ipv4Prefix> trusted_subnets;
  bool require_fa_ha_auth = false;
  // Agent Advertisements on the home link (RFC 5944 2.3), so that mobile
  // nodes can tell they are at home. Zero interval: none (a virtual home
  // network). Lifetime: the ICMP lifetime, default three intervals.
  Duration advertisement_interval = Duration::Seconds(1);
  Duration advertisement_lifetime = Duration::Seconds(3);
  LogLevel log_level = LogLevel::kInfo;
  std::string control_socket = "/run/mipsec/ha.sock";
  // [reverse_tunnel] (RFC 3024)
  bool reverse_tunnel_allowed = true;
  bool reverse_tunnel_mandatory = false;  // requires allowed
  // [udp_tunnel] (RFC 3519)
  bool udp_tunnel_enabled = true;
  bool udp_tunnel_accept_forcing = true;  // honour the F flag
  Duration udp_keepalive_interval = Duration::Seconds(110);  // whole seconds
  // [[mobile_node]] and [[fa_peer]]
  std::vector<MobileNodeConfig> mobile_nodes;
  std::vector<PeerConfig> fa_peers;
};

struct FaInterfaceConfig {
  std::string name;
  Ipv4Address address;   // the FA's address on this (visited) link
  int prefix_length = 0;
  // Care-of addresses advertised on this link (RFC 5944 2.1.1), at least one.
  std::vector<Ipv4Address> care_of_addresses;
};

struct FaConfig {
  // [foreign_agent]
  std::uint16_t port = 434;
  Duration advertisement_interval = Duration::Seconds(1);
  Duration advertisement_lifetime = Duration::Seconds(3);  // ICMP lifetime; >= interval
  Duration max_lifetime = Duration::Seconds(1800);         // registration lifetime offered
  bool registration_required = true;   // R flag
  bool reverse_tunnel = true;          // T flag (RFC 3024)
  bool udp_tunnel = false;             // RFC 3519 support
  bool behind_nat = false;             // U flag in advertisements (RFC 3519 3.4)
  std::uint32_t max_visitors = 4096;
  Duration pending_timeout = Duration::Seconds(7);
  LogLevel log_level = LogLevel::kInfo;
  std::string control_socket = "/run/mipsec/fa.sock";
  // [[interface]], [[ha_peer]], [[mobile_node]] (MN-FA keys, optional)
  std::vector<FaInterfaceConfig> interfaces;
  std::vector<PeerConfig> ha_peers;
  std::vector<MobileNodeConfig> mobile_nodes;
};

// Reads a whole file (key files). The default reads the file system.
using FileReader = std::function<Result<std::string>(const std::string& path)>;
Result<std::string> ReadFileToString(const std::string& path);

// Parses `text`; `file` names it in errors and is where relative key_file
// paths start from.
Result<HaConfig> ParseHaConfig(std::string_view text, std::string_view file,
                               const FileReader& read_file = ReadFileToString);
Result<FaConfig> ParseFaConfig(std::string_view text, std::string_view file,
                               const FileReader& read_file = ReadFileToString);
// Reads `path` with `read_file`, then parses it.
Result<HaConfig> LoadHaConfig(const std::string& path,
                              const FileReader& read_file = ReadFileToString);
Result<FaConfig> LoadFaConfig(const std::string& path,
                              const FileReader& read_file = ReadFileToString);

std::string_view AuthAlgorithmName(AuthAlgorithm a);  // "hmac-md5"
std::string_view ReplayMethodName(ReplayMethod m);     // "timestamp", "nonce"

}  // namespace mipsec::config

#endif  // MIPSEC_CONFIG_DAEMON_CONFIG_H_
