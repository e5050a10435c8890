#include "config/daemon_config.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <unordered_map>
#include <utility>

#include "config/section_parsers.h"
#include "config/toml_reader.h"

namespace mipsec::config {

namespace {

constexpr std::int64_t kMaxU32 = 0xffffffffLL;
// RFC 5944 3.3: Lifetime 0xffff means infinity, so a finite maximum is at
// most 65534 s.
constexpr std::int64_t kMaxLifetimeSeconds = 65534;

struct Ctx {
  TomlReader L;
  const FileReader& read_file;
  std::string dir;  // of the config file, for relative key_file paths
};

// "a.b.c.d/len" (host bits allowed: an interface address).
Result<std::pair<Ipv4Address, int>> ParseAddressWithLength(std::string_view s) {
  auto slash = s.find('/');
  if (slash == std::string_view::npos) return Error(Errc::kMalformed, "no prefix length");
  MIPSEC_ASSIGN_OR_RETURN(Ipv4Address a, Ipv4Address::Parse(s.substr(0, slash)));
  std::string_view ls = s.substr(slash + 1);
  int len = -1;
  auto [ptr, ec] = std::from_chars(ls.data(), ls.data() + ls.size(), len);
  if (ls.empty() || ec != std::errc() || ptr != ls.data() + ls.size() || len < 0 || len > 32 ||
      (ls.size() > 1 && ls[0] == '0')) {
    return Error(Errc::kMalformed, "bad prefix length");
  }
  return std::make_pair(a, len);
}

std::string DirOf(std::string_view file) {
  auto slash = file.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(file.substr(0, slash + 1));
}

// A duration given in whole seconds within [min_s, max_s].
Result<std::optional<Duration>> OptSeconds(const Ctx& c, const toml::table& t,
                                           const std::string& path, std::string_view key,
                                           std::int64_t min_s, std::int64_t max_s) {
  MIPSEC_ASSIGN_OR_RETURN(auto d, c.L.OptDuration(t, path, key));
  if (!d) return d;
  const toml::node& n = *t.get(key);
  if (d->nanos() % 1'000'000'000 != 0) {
    return c.L.Err(n, TomlReader::Join(path, key), "must be a whole number of seconds");
  }
  if (d->seconds() < min_s || d->seconds() > max_s) {
    return c.L.Err(n, TomlReader::Join(path, key),
                   d->ToString() + " is outside " + std::to_string(min_s) + "s.." +
                       std::to_string(max_s) + "s");
  }
  return d;
}

// The key in hex, inline or from a file. Errors never quote key material.
Result<SecretBytes> ParseKey(const Ctx& c, const toml::table& t, const std::string& path,
                             std::size_t min_size) {
  const toml::node* inline_key = t.get("key");
  const toml::node* file_key = t.get("key_file");
  if (inline_key && file_key) {
    return c.L.Err(*file_key, TomlReader::Join(path, "key_file"),
                   "give either key or key_file, not both");
  }
  if (!inline_key && !file_key) {
    return c.L.Err(t, TomlReader::Join(path, "key"), "missing (required: key or key_file)");
  }
  std::string key_path = TomlReader::Join(path, inline_key ? "key" : "key_file");
  const toml::node& n = inline_key ? *inline_key : *file_key;
  if (!n.is_string()) return c.L.Err(n, key_path, "must be a string");
  std::string hex;
  if (inline_key) {
    hex = n.as_string()->get();
  } else {
    std::string file = n.as_string()->get();
    if (file.empty()) return c.L.Err(n, key_path, "must not be empty");
    if (file[0] != '/') file = c.dir + file;
    Result<std::string> content = c.read_file(file);
    if (!content.ok()) return c.L.Err(n, key_path, content.error().detail());
    hex = std::move(content).value();
    // Surrounding whitespace (a trailing newline) is not part of the key.
    const auto first = hex.find_first_not_of(" \t\r\n");
    const auto last = hex.find_last_not_of(" \t\r\n");
    hex = first == std::string::npos ? std::string() : hex.substr(first, last - first + 1);
    key_path += " '" + file + "'";
  }
  Result<Bytes> bytes = FromHex(hex);
  std::fill(hex.begin(), hex.end(), '\0');
  if (!bytes.ok()) {
    return c.L.Err(n, key_path, "is not hexadecimal (the value is not shown)");
  }
  SecretBytes key(*bytes);
  std::fill(bytes->begin(), bytes->end(), 0);
  if (key.size() < min_size) {
    return c.L.Err(n, key_path,
                   std::to_string(key.size()) + " bytes; hmac-md5 needs at least " +
                       std::to_string(min_size) + " (128 bits, RFC 5944 5.1)");
  }
  return key;
}

// spi, algorithm, key | key_file.
Result<SaConfig> ParseSa(const Ctx& c, const toml::table& t, const std::string& path) {
  SaConfig sa;
  sa.line = TomlReader::Line(t);
  MIPSEC_ASSIGN_OR_RETURN(auto spi, c.L.OptInt(t, path, "spi", 0, kMaxU32));
  if (!spi) return c.L.Err(t, TomlReader::Join(path, "spi"), "missing (required)");
  if (*spi < 256) {
    // RFC 5944 1.6: SPI values 0 through 255 are reserved.
    return c.L.Err(*t.get("spi"), TomlReader::Join(path, "spi"),
                   std::to_string(*spi) + " is reserved (SPIs 0-255, RFC 5944 1.6)");
  }
  sa.spi = static_cast<std::uint32_t>(*spi);
  MIPSEC_ASSIGN_OR_RETURN(auto alg, c.L.OptString(t, path, "algorithm"));
  if (alg && *alg != "hmac-md5") {
    return c.L.Err(*t.get("algorithm"), TomlReader::Join(path, "algorithm"),
                   "'" + *alg + "' is not supported (supported: hmac-md5)");
  }
  sa.algorithm = AuthAlgorithm::kHmacMd5;
  MIPSEC_ASSIGN_OR_RETURN(sa.key, ParseKey(c, t, path, 16));
  return sa;
}

// An NAI (RFC 2794 2): at most 255 bytes (one-byte extension length),
// printable, no spaces.
Result<std::optional<std::string>> OptNai(const Ctx& c, const toml::table& t,
                                          const std::string& path) {
  MIPSEC_ASSIGN_OR_RETURN(auto nai, c.L.OptString(t, path, "nai"));
  if (!nai) return nai;
  const std::string p = TomlReader::Join(path, "nai");
  if (nai->empty() || nai->size() > 255) {
    return c.L.Err(*t.get("nai"), p, "must be 1 to 255 bytes");
  }
  for (unsigned char ch : *nai) {
    if (ch <= 0x20 || ch == 0x7f) {
      return c.L.Err(*t.get("nai"), p, "must not contain spaces or control characters");
    }
  }
  return nai;
}

Result<std::vector<MobileNodeConfig>> ParseMobileNodes(const Ctx& c, const toml::table& root,
                                                       bool ha) {
  std::vector<MobileNodeConfig> out;
  // Index of the entry holding each home address and NAI: a file may list
  // a million mobile nodes, so duplicates are found by lookup, not by pairs.
  std::unordered_map<Ipv4Address, std::size_t> by_home;
  std::unordered_map<std::string, std::size_t> by_nai;
  MIPSEC_ASSIGN_OR_RETURN(auto tables, c.L.Tables(root, "", "mobile_node"));
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const toml::table& t = *tables[i];
    const std::string path = Indexed("mobile_node", i);
    if (ha) {
      MIPSEC_TRY(c.L.CheckKeys(t, path, {"home_address", "nai", "spi", "algorithm", "key",
                                         "key_file", "replay", "tolerance"}));
    } else {
      MIPSEC_TRY(c.L.CheckKeys(t, path, {"home_address", "nai", "spi", "algorithm", "key",
                                         "key_file"}));
    }
    MobileNodeConfig mn;
    MIPSEC_ASSIGN_OR_RETURN(mn.home_address, c.L.OptUnicast(t, path, "home_address"));
    MIPSEC_ASSIGN_OR_RETURN(auto nai, OptNai(c, t, path));
    mn.nai = nai.value_or("");
    if (!mn.home_address && mn.nai.empty()) {
      return c.L.Err(t, path, "needs home_address, nai or both");
    }
    if (mn.home_address) {
      auto [it, fresh] = by_home.emplace(*mn.home_address, i);
      if (!fresh) {
        const std::size_t j = it->second;
        return c.L.Err(*t.get("home_address"), path + ".home_address",
                       mn.home_address->ToString() + " is already mobile_node[" +
                           std::to_string(j) + "] (line " + std::to_string(out[j].sa.line) +
                           ")");
      }
    }
    if (!mn.nai.empty()) {
      auto [it, fresh] = by_nai.emplace(mn.nai, i);
      if (!fresh) {
        const std::size_t j = it->second;
        return c.L.Err(*t.get("nai"), path + ".nai",
                       "'" + mn.nai + "' is already mobile_node[" + std::to_string(j) +
                           "] (line " + std::to_string(out[j].sa.line) + ")");
      }
    }
    MIPSEC_ASSIGN_OR_RETURN(mn.sa, ParseSa(c, t, path));
    if (ha) {
      MIPSEC_ASSIGN_OR_RETURN(auto replay, c.L.OptString(t, path, "replay"));
      if (replay) {
        if (*replay == "timestamp") {
          mn.replay = ReplayMethod::kTimestamp;
        } else if (*replay == "nonce") {
          mn.replay = ReplayMethod::kNonce;
        } else {
          return c.L.Err(*t.get("replay"), path + ".replay",
                         "'" + *replay + "' is not \"timestamp\" or \"nonce\" (RFC 5944 5.7)");
        }
      }
      MIPSEC_ASSIGN_OR_RETURN(auto tol, c.L.OptDuration(t, path, "tolerance"));
      if (tol) {
        if (mn.replay != ReplayMethod::kTimestamp) {
          return c.L.Err(*t.get("tolerance"), path + ".tolerance",
                         "only applies to replay = \"timestamp\"");
        }
        if (*tol < Duration::Seconds(1) || *tol > Duration::Seconds(3600)) {
          return c.L.Err(*t.get("tolerance"), path + ".tolerance",
                         tol->ToString() + " is outside 1s..1h");
        }
        mn.tolerance = *tol;
      }
    }
    out.push_back(std::move(mn));
  }
  return out;
}

Result<std::vector<PeerConfig>> ParsePeers(const Ctx& c, const toml::table& root,
                                           std::string_view key) {
  std::vector<PeerConfig> out;
  MIPSEC_ASSIGN_OR_RETURN(auto tables, c.L.Tables(root, "", key));
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const toml::table& t = *tables[i];
    const std::string path = Indexed(key, i);
    MIPSEC_TRY(c.L.CheckKeys(t, path, {"address", "spi", "algorithm", "key", "key_file"}));
    PeerConfig p;
    MIPSEC_ASSIGN_OR_RETURN(p.address, c.L.Unicast(t, path, "address"));
    MIPSEC_ASSIGN_OR_RETURN(p.sa, ParseSa(c, t, path));
    for (std::size_t j = 0; j < out.size(); ++j) {
      if (out[j].address == p.address && out[j].sa.spi == p.sa.spi) {
        return c.L.Err(*t.get("spi"), path + ".spi",
                       "peer " + p.address.ToString() + " already has SPI " +
                           std::to_string(p.sa.spi) + " (" + Indexed(key, j) + ")");
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

Result<std::optional<std::string>> OptSocketPath(const Ctx& c, const toml::table& t,
                                                 const std::string& path) {
  MIPSEC_ASSIGN_OR_RETURN(auto s, c.L.OptString(t, path, "control_socket"));
  if (s && (s->empty() || s->size() > 107)) {
    // sockaddr_un.sun_path holds 108 bytes including the terminator.
    return c.L.Err(*t.get("control_socket"), path + ".control_socket",
                   "must be 1 to 107 bytes (a Unix socket path)");
  }
  return s;
}

// `advertisement_interval` and `advertisement_lifetime` of an agent's table
// into `interval` (which holds the default on entry) and `lifetime`. With
// `allow_off`, an interval of 0 turns advertisements off (lifetime Zero).
Status ParseAdvertisementTiming(const Ctx& c, const toml::table& t, const std::string& path,
                                bool allow_off, Duration& interval, Duration& lifetime) {
  MIPSEC_ASSIGN_OR_RETURN(auto iv, c.L.OptDuration(t, path, "advertisement_interval"));
  if (iv) {
    // RFC 1256 4.1 bounds MaxAdvertisementInterval to 4..1800 s; Mobile IP
    // agents advertise faster (RFC 5944 2.3), so allow from 100 ms.
    const bool off = allow_off && *iv == Duration::Zero();
    if (!off && (*iv < Duration::Millis(100) || *iv > Duration::Seconds(1800))) {
      return c.L.Err(*t.get("advertisement_interval"), path + ".advertisement_interval",
                     iv->ToString() + " is outside 100ms..1800s" +
                         (allow_off ? " (0s: no advertisements)" : ""));
    }
    interval = *iv;
  }
  // ICMP Router Advertisement lifetime: 16-bit seconds, RFC 1256 caps it at
  // 9000 s.
  MIPSEC_ASSIGN_OR_RETURN(auto life, OptSeconds(c, t, path, "advertisement_lifetime", 1, 9000));
  if (interval == Duration::Zero()) {
    lifetime = Duration::Zero();
    return Ok{};
  }
  if (life) {
    lifetime = *life;
  } else {
    // Default: three intervals, rounded up to whole seconds.
    const std::int64_t ns = (interval * 3).nanos();
    lifetime =
        Duration::Seconds(std::min<std::int64_t>(9000, (ns + 999'999'999) / 1'000'000'000));
  }
  // RFC 5944 2.1: the interval SHOULD be no longer than 1/3 of the Lifetime.
  if (lifetime < interval * 3) {
    return c.L.Err(life ? *t.get("advertisement_lifetime") : static_cast<const toml::node&>(t),
                   path + ".advertisement_lifetime",
                   lifetime.ToString() + " is shorter than three advertisement intervals (" +
                       interval.ToString() + " each; RFC 5944 2.1)");
  }
  return Ok{};
}

}  // namespace

Result<SaConfig> ParseSaSection(const toml::table& t, const std::string& path,
                                std::string_view file, const FileReader& read_file) {
  Ctx c{TomlReader(file), read_file, DirOf(file)};
  return ParseSa(c, t, path);
}

std::string_view AuthAlgorithmName(AuthAlgorithm a) {
  switch (a) {
    case AuthAlgorithm::kHmacMd5: return "hmac-md5";
  }
  return "unknown";
}

std::string_view ReplayMethodName(ReplayMethod m) {
  switch (m) {
    case ReplayMethod::kTimestamp: return "timestamp";
    case ReplayMethod::kNonce: return "nonce";
  }
  return "unknown";
}

Result<std::string> ReadFileToString(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return Error(Errc::kSystem, "cannot read '" + path + "': " + std::strerror(errno));
  }
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  std::memset(buf, 0, sizeof(buf));  // may have held key material
  if (failed) return Error(Errc::kSystem, "cannot read '" + path + "'");
  return out;
}

Result<HaConfig> ParseHaConfig(std::string_view text, std::string_view file,
                               const FileReader& read_file) {
  Ctx c{TomlReader(file), read_file, DirOf(file)};
  MIPSEC_ASSIGN_OR_RETURN(const toml::table root, ParseTomlDocument(text, file));
  MIPSEC_TRY(c.L.CheckKeys(root, "", {"home_agent", "reverse_tunnel", "udp_tunnel",
                                      "mobile_node", "fa_peer"}));
  HaConfig cfg;

  MIPSEC_ASSIGN_OR_RETURN(const toml::table* ha, c.L.OptTable(root, "", "home_agent"));
  if (!ha) return c.L.Err(root, "home_agent", "missing (required table [home_agent])");
  const std::string hp = "home_agent";
  MIPSEC_TRY(c.L.CheckKeys(*ha, hp, {"address", "home_network", "interface", "port",
                                     "max_lifetime", "trusted_subnets", "require_fa_ha_auth",
                                     "advertisement_interval", "advertisement_lifetime",
                                     "log_level", "control_socket"}));
  MIPSEC_ASSIGN_OR_RETURN(cfg.address, c.L.Unicast(*ha, hp, "address"));
  MIPSEC_ASSIGN_OR_RETURN(auto net, c.L.OptParsed<Ipv4Prefix>(
                                        *ha, hp, "home_network", Ipv4Prefix::Parse,
                                        "a prefix a.b.c.d/len without host bits"));
  if (!net) return c.L.Err(*ha, hp + ".home_network", "missing (required)");
  if (net->length() > 30) {
    return c.L.Err(*ha->get("home_network"), hp + ".home_network",
                   "a /" + std::to_string(net->length()) + " has no room for mobile nodes");
  }
  cfg.home_network = *net;
  if (!cfg.home_network.Contains(cfg.address) || cfg.address == cfg.home_network.Broadcast() ||
      cfg.address == cfg.home_network.address()) {
    return c.L.Err(*ha->get("address"), hp + ".address",
                   cfg.address.ToString() + " is not a host address in home_network " +
                       cfg.home_network.ToString());
  }
  MIPSEC_ASSIGN_OR_RETURN(cfg.interface, c.L.String(*ha, hp, "interface"));
  MIPSEC_ASSIGN_OR_RETURN(auto port, c.L.OptInt(*ha, hp, "port", 1, 65535));
  if (port) cfg.port = static_cast<std::uint16_t>(*port);
  MIPSEC_ASSIGN_OR_RETURN(auto life, OptSeconds(c, *ha, hp, "max_lifetime", 1, kMaxLifetimeSeconds));
  if (life) cfg.max_lifetime = *life;
  MIPSEC_ASSIGN_OR_RETURN(auto trusted, c.L.StringOrList(*ha, hp, "trusted_subnets"));
  for (const std::string& s : trusted) {
    Result<Ipv4Prefix> p = Ipv4Prefix::Parse(s);
    if (!p.ok()) {
      return c.L.Err(*ha->get("trusted_subnets"), hp + ".trusted_subnets",
                     "'" + s + "' is not a prefix a.b.c.d/len without host bits");
    }
    cfg.trusted_subnets.push_back(*p);
  }
  MIPSEC_ASSIGN_OR_RETURN(auto fa_auth, c.L.OptBool(*ha, hp, "require_fa_ha_auth"));
  cfg.require_fa_ha_auth = fa_auth.value_or(false);
  MIPSEC_TRY(ParseAdvertisementTiming(c, *ha, hp, true, cfg.advertisement_interval,
                                      cfg.advertisement_lifetime));
  MIPSEC_ASSIGN_OR_RETURN(auto level, c.L.OptLogLevel(*ha, hp));
  if (level) cfg.log_level = *level;
  MIPSEC_ASSIGN_OR_RETURN(auto sock, OptSocketPath(c, *ha, hp));
  if (sock) cfg.control_socket = *sock;

  MIPSEC_ASSIGN_OR_RETURN(const toml::table* rt, c.L.OptTable(root, "", "reverse_tunnel"));
  if (rt) {
    MIPSEC_TRY(c.L.CheckKeys(*rt, "reverse_tunnel", {"allowed", "mandatory"}));
    MIPSEC_ASSIGN_OR_RETURN(auto allowed, c.L.OptBool(*rt, "reverse_tunnel", "allowed"));
    MIPSEC_ASSIGN_OR_RETURN(auto mandatory, c.L.OptBool(*rt, "reverse_tunnel", "mandatory"));
    cfg.reverse_tunnel_allowed = allowed.value_or(true);
    cfg.reverse_tunnel_mandatory = mandatory.value_or(false);
    if (cfg.reverse_tunnel_mandatory && !cfg.reverse_tunnel_allowed) {
      return c.L.Err(*rt->get("mandatory"), "reverse_tunnel.mandatory",
                     "cannot be true when reverse_tunnel.allowed is false");
    }
  }

  MIPSEC_ASSIGN_OR_RETURN(const toml::table* ut, c.L.OptTable(root, "", "udp_tunnel"));
  if (ut) {
    const std::string up = "udp_tunnel";
    MIPSEC_TRY(c.L.CheckKeys(*ut, up, {"enabled", "accept_forcing", "keepalive_interval"}));
    MIPSEC_ASSIGN_OR_RETURN(auto enabled, c.L.OptBool(*ut, up, "enabled"));
    MIPSEC_ASSIGN_OR_RETURN(auto forcing, c.L.OptBool(*ut, up, "accept_forcing"));
    // RFC 3519 3.2: the keepalive interval is a 16-bit count of seconds.
    MIPSEC_ASSIGN_OR_RETURN(auto ka, OptSeconds(c, *ut, up, "keepalive_interval", 1, 65535));
    cfg.udp_tunnel_enabled = enabled.value_or(true);
    cfg.udp_tunnel_accept_forcing = forcing.value_or(true);
    if (ka) cfg.udp_keepalive_interval = *ka;
  }

  MIPSEC_ASSIGN_OR_RETURN(cfg.mobile_nodes, ParseMobileNodes(c, root, /*ha=*/true));
  MIPSEC_ASSIGN_OR_RETURN(auto mn_tables, c.L.Tables(root, "", "mobile_node"));
  for (std::size_t i = 0; i < cfg.mobile_nodes.size(); ++i) {
    const MobileNodeConfig& mn = cfg.mobile_nodes[i];
    if (!mn.home_address) continue;
    const std::string p = Indexed("mobile_node", i) + ".home_address";
    const toml::node& n = *mn_tables[i]->get("home_address");
    if (!cfg.home_network.Contains(*mn.home_address) ||
        *mn.home_address == cfg.home_network.address() ||
        *mn.home_address == cfg.home_network.Broadcast()) {
      return c.L.Err(n, p, mn.home_address->ToString() + " is not a host address in home_network " +
                               cfg.home_network.ToString());
    }
    if (*mn.home_address == cfg.address) {
      return c.L.Err(n, p, "is the home agent's own address");
    }
  }
  MIPSEC_ASSIGN_OR_RETURN(cfg.fa_peers, ParsePeers(c, root, "fa_peer"));
  return cfg;
}

Result<FaConfig> ParseFaConfig(std::string_view text, std::string_view file,
                               const FileReader& read_file) {
  Ctx c{TomlReader(file), read_file, DirOf(file)};
  MIPSEC_ASSIGN_OR_RETURN(const toml::table root, ParseTomlDocument(text, file));
  MIPSEC_TRY(c.L.CheckKeys(root, "", {"foreign_agent", "interface", "ha_peer", "mobile_node"}));
  FaConfig cfg;

  MIPSEC_ASSIGN_OR_RETURN(const toml::table* fa, c.L.OptTable(root, "", "foreign_agent"));
  if (fa) {
    const std::string fp = "foreign_agent";
    MIPSEC_TRY(c.L.CheckKeys(*fa, fp, {"port", "advertisement_interval",
                                       "advertisement_lifetime", "max_lifetime",
                                       "registration_required", "reverse_tunnel", "udp_tunnel",
                                       "behind_nat", "max_visitors", "pending_timeout",
                                       "log_level", "control_socket"}));
    MIPSEC_ASSIGN_OR_RETURN(auto port, c.L.OptInt(*fa, fp, "port", 1, 65535));
    if (port) cfg.port = static_cast<std::uint16_t>(*port);
    MIPSEC_TRY(ParseAdvertisementTiming(c, *fa, fp, false, cfg.advertisement_interval,
                                        cfg.advertisement_lifetime));
    MIPSEC_ASSIGN_OR_RETURN(auto life, OptSeconds(c, *fa, fp, "max_lifetime", 1, kMaxLifetimeSeconds));
    if (life) cfg.max_lifetime = *life;
    MIPSEC_ASSIGN_OR_RETURN(auto r, c.L.OptBool(*fa, fp, "registration_required"));
    cfg.registration_required = r.value_or(true);
    MIPSEC_ASSIGN_OR_RETURN(auto t, c.L.OptBool(*fa, fp, "reverse_tunnel"));
    cfg.reverse_tunnel = t.value_or(true);
    MIPSEC_ASSIGN_OR_RETURN(auto udp, c.L.OptBool(*fa, fp, "udp_tunnel"));
    cfg.udp_tunnel = udp.value_or(false);
    MIPSEC_ASSIGN_OR_RETURN(auto nat, c.L.OptBool(*fa, fp, "behind_nat"));
    cfg.behind_nat = nat.value_or(false);
    if (cfg.behind_nat && !cfg.udp_tunnel) {
      // RFC 3519 3.4: the U flag advertises UDP tunnelling behind a NAT.
      return c.L.Err(*fa->get("behind_nat"), fp + ".behind_nat",
                     "needs udp_tunnel = true (the U flag offers RFC 3519 UDP tunnelling)");
    }
    MIPSEC_ASSIGN_OR_RETURN(auto maxv, c.L.OptInt(*fa, fp, "max_visitors", 1, 10'000'000));
    if (maxv) cfg.max_visitors = static_cast<std::uint32_t>(*maxv);
    MIPSEC_ASSIGN_OR_RETURN(auto pending, c.L.OptDuration(*fa, fp, "pending_timeout"));
    if (pending) {
      if (*pending < Duration::Seconds(1) || *pending > Duration::Seconds(60)) {
        return c.L.Err(*fa->get("pending_timeout"), fp + ".pending_timeout",
                       pending->ToString() + " is outside 1s..60s");
      }
      cfg.pending_timeout = *pending;
    }
    MIPSEC_ASSIGN_OR_RETURN(auto level, c.L.OptLogLevel(*fa, fp));
    if (level) cfg.log_level = *level;
    MIPSEC_ASSIGN_OR_RETURN(auto sock, OptSocketPath(c, *fa, fp));
    if (sock) cfg.control_socket = *sock;
  }

  MIPSEC_ASSIGN_OR_RETURN(auto ifcs, c.L.Tables(root, "", "interface"));
  if (ifcs.empty()) return c.L.Err(root, "interface", "missing (at least one [[interface]])");
  for (std::size_t i = 0; i < ifcs.size(); ++i) {
    const toml::table& t = *ifcs[i];
    const std::string path = Indexed("interface", i);
    MIPSEC_TRY(c.L.CheckKeys(t, path, {"name", "address", "care_of_addresses"}));
    FaInterfaceConfig ifc;
    MIPSEC_ASSIGN_OR_RETURN(ifc.name, c.L.String(t, path, "name"));
    for (std::size_t j = 0; j < cfg.interfaces.size(); ++j) {
      if (cfg.interfaces[j].name == ifc.name) {
        return c.L.Err(*t.get("name"), path + ".name",
                       "'" + ifc.name + "' is already " + Indexed("interface", j));
      }
    }
    MIPSEC_ASSIGN_OR_RETURN(std::string addr, c.L.String(t, path, "address"));
    Result<std::pair<Ipv4Address, int>> al = ParseAddressWithLength(addr);
    if (!al.ok() || !al->first.IsUnicast() || al->second > 30) {
      return c.L.Err(*t.get("address"), path + ".address",
                     "'" + addr + "' is not a unicast address with a prefix length up to 30 "
                     "(a.b.c.d/len)");
    }
    ifc.address = al->first;
    ifc.prefix_length = al->second;
    MIPSEC_ASSIGN_OR_RETURN(auto coas, c.L.StringOrList(t, path, "care_of_addresses"));
    if (coas.empty()) {
      return c.L.Err(t, path + ".care_of_addresses", "missing (at least one address)");
    }
    for (const std::string& s : coas) {
      Result<Ipv4Address> a = Ipv4Address::Parse(s);
      if (!a.ok() || !a->IsUnicast()) {
        return c.L.Err(*t.get("care_of_addresses"), path + ".care_of_addresses",
                       "'" + s + "' is not a unicast IPv4 address");
      }
      ifc.care_of_addresses.push_back(*a);
    }
    cfg.interfaces.push_back(std::move(ifc));
  }
  MIPSEC_ASSIGN_OR_RETURN(cfg.ha_peers, ParsePeers(c, root, "ha_peer"));
  MIPSEC_ASSIGN_OR_RETURN(cfg.mobile_nodes, ParseMobileNodes(c, root, /*ha=*/false));
  return cfg;
}

Result<HaConfig> LoadHaConfig(const std::string& path, const FileReader& read_file) {
  MIPSEC_ASSIGN_OR_RETURN(std::string text, read_file(path));
  return ParseHaConfig(text, path, read_file);
}

Result<FaConfig> LoadFaConfig(const std::string& path, const FileReader& read_file) {
  MIPSEC_ASSIGN_OR_RETURN(std::string text, read_file(path));
  return ParseFaConfig(text, path, read_file);
}

}  // namespace mipsec::config
