#include "config/gw_config.h"

#include <algorithm>
#include <charconv>
#include <string>
#include <utility>

#include "config/section_parsers.h"
#include "config/toml_reader.h"

namespace mipsec::config {

namespace {

using ikev2::DhId;
using ikev2::EncrId;
using ikev2::EsnId;
using ikev2::IdPayload;
using ikev2::IdType;
using ikev2::IntegId;
using ikev2::PrfId;
using ikev2::Suite;

// RFC 7296 2.15 wants a PSK as strong as the negotiated keys; we refuse the
// obviously weak ones.
constexpr std::size_t kMinPskSize = 16;

struct Ctx {
  TomlReader L;
  const FileReader& read_file;
  std::string dir;  // of the config file, for relative paths
};

std::string DirOf(std::string_view file) {
  auto slash = file.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(file.substr(0, slash + 1));
}

std::string Resolve(const Ctx& c, const std::string& file) {
  return !file.empty() && file[0] == '/' ? file : c.dir + file;
}

bool ParseU32(std::string_view s, std::uint32_t& out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// ---- Proposals ----

struct ProposalParts {
  std::string encr_tok, integ_tok, prf_tok, dh_tok, esn_tok;
  EncrId encr = EncrId::kAesCbc;
  std::uint16_t bits = 0;
  std::optional<IntegId> integ;
  std::optional<PrfId> prf;
  std::optional<DhId> dh;
  std::optional<EsnId> esn;
};

std::optional<std::pair<EncrId, std::uint16_t>> EncrToken(std::string_view t) {
  if (t.size() < 6 || t.substr(0, 3) != "aes") return std::nullopt;
  std::uint16_t bits = 0;
  std::string_view b = t.substr(3, 3);
  if (b == "128") bits = 128;
  else if (b == "192") bits = 192;
  else if (b == "256") bits = 256;
  else return std::nullopt;
  std::string_view mode = t.substr(6);
  if (mode.empty()) return std::make_pair(EncrId::kAesCbc, bits);
  if (mode == "gcm" || mode == "gcm16") return std::make_pair(EncrId::kAesGcm16, bits);
  if (mode == "gcm12") return std::make_pair(EncrId::kAesGcm12, bits);
  if (mode == "gcm8") return std::make_pair(EncrId::kAesGcm8, bits);
  return std::nullopt;
}

std::optional<DhId> DhToken(std::string_view t) {
  if (t == "x25519" || t == "curve25519") return DhId::kCurve25519;
  if (t == "ecp256") return DhId::kEcp256;
  if (t == "ecp384") return DhId::kEcp384;
  if (t == "ecp521") return DhId::kEcp521;
  if (t == "modp2048") return DhId::kModp2048;
  if (t == "modp3072") return DhId::kModp3072;
  if (t == "modp4096") return DhId::kModp4096;
  if (t == "modp6144") return DhId::kModp6144;
  if (t == "modp8192") return DhId::kModp8192;
  return std::nullopt;
}

Status SetOnce(std::string& slot, std::string_view tok, const char* what) {
  if (!slot.empty()) {
    return Error(Errc::kMalformed,
                 std::string("two ") + what + " ('" + slot + "', '" + std::string(tok) + "')");
  }
  slot = std::string(tok);
  return Ok{};
}

Result<ProposalParts> SplitProposal(std::string_view text, bool ike) {
  ProposalParts p;
  if (text.empty()) return Error(Errc::kMalformed, "empty proposal");
  std::size_t start = 0;
  while (true) {
    const std::size_t dash = text.find('-', start);
    const std::string_view tok =
        text.substr(start, dash == std::string_view::npos ? std::string_view::npos : dash - start);
    if (tok.empty()) return Error(Errc::kMalformed, "empty algorithm between '-'");
    if (auto e = EncrToken(tok)) {
      MIPSEC_TRY(SetOnce(p.encr_tok, tok, "encryption algorithms"));
      p.encr = e->first;
      p.bits = e->second;
    } else if (tok == "sha256" || tok == "sha384" || tok == "sha512") {
      MIPSEC_TRY(SetOnce(p.integ_tok, tok, "integrity algorithms"));
      p.integ = tok == "sha256"   ? IntegId::kHmacSha2_256_128
                : tok == "sha384" ? IntegId::kHmacSha2_384_192
                                  : IntegId::kHmacSha2_512_256;
    } else if (tok == "prfsha256" || tok == "prfsha384" || tok == "prfsha512") {
      if (!ike) {
        return Error(Errc::kMalformed,
                     "'" + std::string(tok) + "' is not allowed in an ESP proposal");
      }
      MIPSEC_TRY(SetOnce(p.prf_tok, tok, "PRFs"));
      p.prf = tok == "prfsha256"   ? PrfId::kHmacSha2_256
              : tok == "prfsha384" ? PrfId::kHmacSha2_384
                                   : PrfId::kHmacSha2_512;
    } else if (auto d = DhToken(tok)) {
      MIPSEC_TRY(SetOnce(p.dh_tok, tok, "DH groups"));
      p.dh = *d;
    } else if (tok == "esn" || tok == "noesn") {
      if (ike) {
        return Error(Errc::kMalformed,
                     "'" + std::string(tok) + "' is not allowed in an IKE proposal");
      }
      MIPSEC_TRY(SetOnce(p.esn_tok, tok, "ESN settings"));
      p.esn = tok == "esn" ? EsnId::kEsn : EsnId::kNoEsn;
    } else {
      return Error(Errc::kUnsupported, "unsupported algorithm '" + std::string(tok) + "'");
    }
    if (dash == std::string_view::npos) break;
    start = dash + 1;
  }
  if (p.encr_tok.empty()) return Error(Errc::kMalformed, "no encryption algorithm (e.g. aes128gcm16)");
  const bool aead = p.encr != EncrId::kAesCbc;
  if (aead && p.integ) {
    return Error(Errc::kMalformed, "'" + p.encr_tok +
                                       "' is AEAD and takes no integrity algorithm ('" +
                                       p.integ_tok + "')");
  }
  if (!aead && !p.integ) {
    return Error(Errc::kMalformed,
                 "'" + p.encr_tok + "' needs an integrity algorithm (e.g. sha256)");
  }
  return p;
}

// ---- Shared key readers ----

Result<Ipv4Address> UnicastText(const Ctx& c, const toml::node& n, const std::string& path,
                                const std::string& s) {
  Result<Ipv4Address> a = Ipv4Address::Parse(s);
  if (!a.ok()) return c.L.Err(n, path, "'" + s + "' is not an IPv4 address (a.b.c.d)");
  if (!a->IsUnicast()) return c.L.Err(n, path, a->ToString() + " is not a unicast address");
  return *a;
}

// A list of unicast addresses (a string or a list), without duplicates.
Result<std::vector<Ipv4Address>> UnicastList(const Ctx& c, const toml::table& t,
                                             const std::string& path, std::string_view key) {
  MIPSEC_ASSIGN_OR_RETURN(auto list, c.L.StringOrList(t, path, key));
  std::vector<Ipv4Address> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string p = Indexed(TomlReader::Join(path, key), i);
    MIPSEC_ASSIGN_OR_RETURN(Ipv4Address a, UnicastText(c, *t.get(key), p, list[i]));
    if (std::find(out.begin(), out.end(), a) != out.end()) {
      return c.L.Err(*t.get(key), p, a.ToString() + " is listed twice");
    }
    out.push_back(a);
  }
  return out;
}

Result<std::vector<Ipv4Prefix>> PrefixList(const Ctx& c, const toml::table& t,
                                           const std::string& path, std::string_view key) {
  MIPSEC_ASSIGN_OR_RETURN(auto list, c.L.StringOrList(t, path, key));
  std::vector<Ipv4Prefix> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string p = Indexed(TomlReader::Join(path, key), i);
    Result<Ipv4Prefix> pr = Ipv4Prefix::Parse(list[i]);
    if (!pr.ok()) {
      return c.L.Err(*t.get(key), p,
                     "'" + list[i] + "' is not a prefix a.b.c.d/len without host bits");
    }
    if (std::find(out.begin(), out.end(), *pr) != out.end()) {
      return c.L.Err(*t.get(key), p, pr->ToString() + " is listed twice");
    }
    out.push_back(*pr);
  }
  return out;
}

// "3h", "50m", "20s", else Duration::ToString().
std::string Human(Duration d) {
  const std::int64_t ns = d.nanos();
  constexpr std::int64_t kS = 1'000'000'000;
  if (ns % (3600 * kS) == 0) return std::to_string(ns / (3600 * kS)) + "h";
  if (ns % (60 * kS) == 0) return std::to_string(ns / (60 * kS)) + "m";
  if (ns % kS == 0) return std::to_string(ns / kS) + "s";
  return d.ToString();
}

// A positive duration, or "off" (Infinite).
Result<std::optional<Duration>> OptDurationOrOff(const Ctx& c, const toml::table& t,
                                                 const std::string& path, std::string_view key) {
  MIPSEC_ASSIGN_OR_RETURN(auto s, c.L.OptString(t, path, key));
  if (!s) return std::optional<Duration>();
  if (*s == "off") return std::optional<Duration>(Duration::Infinite());
  Result<Duration> d = ParseDurationText(*s);
  const std::string p = TomlReader::Join(path, key);
  if (!d.ok()) {
    return c.L.Err(*t.get(key), p, "'" + *s + "' is not a duration (e.g. 30s, 1h) or off");
  }
  if (d->nanos() <= 0) return c.L.Err(*t.get(key), p, "must be positive (or off)");
  return std::optional<Duration>(*d);
}

Result<std::optional<IdPayload>> OptIdentity(const Ctx& c, const toml::table& t,
                                             const std::string& path, std::string_view key) {
  MIPSEC_ASSIGN_OR_RETURN(auto s, c.L.OptString(t, path, key));
  if (!s) return std::optional<IdPayload>();
  Result<IdPayload> id = ParseIdentity(*s);
  if (!id.ok()) {
    return c.L.Err(*t.get(key), TomlReader::Join(path, key),
                   "'" + *s + "' is not an identity: " + id.error().detail());
  }
  return std::optional<IdPayload>(*id);
}

// A PSK in hex, inline (`psk`) or from a file (`psk_file`); nullopt when
// neither is given. Errors never quote key material.
Result<std::optional<SecretBytes>> OptPsk(const Ctx& c, const toml::table& t,
                                          const std::string& path) {
  const toml::node* inline_key = t.get("psk");
  const toml::node* file_key = t.get("psk_file");
  if (inline_key && file_key) {
    return c.L.Err(*file_key, TomlReader::Join(path, "psk_file"),
                   "give either psk or psk_file, not both");
  }
  if (!inline_key && !file_key) return std::optional<SecretBytes>();
  std::string key_path = TomlReader::Join(path, inline_key ? "psk" : "psk_file");
  const toml::node& n = inline_key ? *inline_key : *file_key;
  if (!n.is_string()) return c.L.Err(n, key_path, "must be a string");
  std::string hex;
  if (inline_key) {
    hex = n.as_string()->get();
  } else {
    std::string file = n.as_string()->get();
    if (file.empty()) return c.L.Err(n, key_path, "must not be empty");
    file = Resolve(c, file);
    Result<std::string> content = c.read_file(file);
    if (!content.ok()) return c.L.Err(n, key_path, content.error().detail());
    hex = std::move(content).value();
    const auto first = hex.find_first_not_of(" \t\r\n");
    const auto last = hex.find_last_not_of(" \t\r\n");
    hex = first == std::string::npos ? std::string() : hex.substr(first, last - first + 1);
    key_path += " '" + file + "'";
  }
  Result<Bytes> bytes = FromHex(hex);
  std::fill(hex.begin(), hex.end(), '\0');
  if (!bytes.ok()) return c.L.Err(n, key_path, "is not hexadecimal (the value is not shown)");
  SecretBytes key(*bytes);
  std::fill(bytes->begin(), bytes->end(), 0);
  if (key.size() < kMinPskSize) {
    return c.L.Err(n, key_path,
                   std::to_string(key.size()) + " bytes; a PSK needs at least " +
                       std::to_string(kMinPskSize) + " (the value is not shown)");
  }
  return std::optional<SecretBytes>(std::move(key));
}

Result<std::string> ReadPemFile(const Ctx& c, const toml::node& n, const std::string& path,
                                const std::string& file) {
  if (file.empty()) return c.L.Err(n, path, "must not be empty");
  Result<std::string> content = c.read_file(Resolve(c, file));
  if (!content.ok()) return c.L.Err(n, path, content.error().detail());
  return std::move(content).value();
}

// auth, psk | psk_file, certificate, private_key, ca, rsa_pss.
// `psk_required`: a PSK must be given when auth = "psk".
Status ParseAuth(const Ctx& c, const toml::table& t, const std::string& path, bool psk_required,
                 AuthConfig& out) {
  MIPSEC_ASSIGN_OR_RETURN(auto kind, c.L.OptString(t, path, "auth"));
  if (!kind || *kind == "psk") {
    out.kind = ikev2::AuthKind::kPsk;
  } else if (*kind == "cert") {
    out.kind = ikev2::AuthKind::kCertificate;
  } else {
    return c.L.Err(*t.get("auth"), path + ".auth", "'" + *kind + "' is not one of psk, cert");
  }
  MIPSEC_ASSIGN_OR_RETURN(auto psk, OptPsk(c, t, path));
  if (out.kind == ikev2::AuthKind::kPsk) {
    for (const char* k : {"certificate", "private_key", "ca", "rsa_pss"}) {
      if (const toml::node* n = t.get(k)) {
        return c.L.Err(*n, TomlReader::Join(path, k), "only with auth = \"cert\"");
      }
    }
    if (psk) {
      out.psk = std::move(*psk);
    } else if (psk_required) {
      return c.L.Err(t, path + ".psk", "missing (required with auth = \"psk\": psk or psk_file)");
    }
    return Ok{};
  }
  if (psk) {
    const char* k = t.get("psk") ? "psk" : "psk_file";
    return c.L.Err(*t.get(k), TomlReader::Join(path, k), "only with auth = \"psk\"");
  }
  // Our certificate (+ intermediates).
  MIPSEC_ASSIGN_OR_RETURN(auto cert_file, c.L.OptString(t, path, "certificate"));
  if (!cert_file) {
    return c.L.Err(t, path + ".certificate", "missing (required with auth = \"cert\")");
  }
  const toml::node& cn = *t.get("certificate");
  MIPSEC_ASSIGN_OR_RETURN(std::string cert_pem,
                          ReadPemFile(c, cn, path + ".certificate", *cert_file));
  Result<std::vector<crypto::Certificate>> certs = crypto::Certificate::AllFromPem(cert_pem);
  if (!certs.ok()) {
    return c.L.Err(cn, path + ".certificate",
                   "'" + *cert_file + "': no usable certificate: " + certs.error().detail());
  }
  out.certificate = (*certs)[0];
  out.intermediates.assign(certs->begin() + 1, certs->end());
  // Its private key.
  MIPSEC_ASSIGN_OR_RETURN(auto key_file, c.L.OptString(t, path, "private_key"));
  if (!key_file) {
    return c.L.Err(t, path + ".private_key", "missing (required with auth = \"cert\")");
  }
  const toml::node& kn = *t.get("private_key");
  MIPSEC_ASSIGN_OR_RETURN(std::string key_pem,
                          ReadPemFile(c, kn, path + ".private_key", *key_file));
  Result<crypto::PrivateKey> key = crypto::PrivateKey::FromPem(key_pem);
  std::fill(key_pem.begin(), key_pem.end(), '\0');
  if (!key.ok()) {
    return c.L.Err(kn, path + ".private_key",
                   "'" + *key_file + "': not a usable private key: " + key.error().detail());
  }
  Result<crypto::PublicKey> cert_key = out.certificate->public_key();
  if (!cert_key.ok() || !cert_key->Equals(key->public_key())) {
    return c.L.Err(kn, path + ".private_key",
                   "'" + *key_file + "' does not match the certificate " +
                       out.certificate->SubjectText());
  }
  out.private_key = *key;
  // Trust anchors.
  MIPSEC_ASSIGN_OR_RETURN(auto cas, c.L.StringOrList(t, path, "ca"));
  if (cas.empty()) {
    return c.L.Err(t, path + ".ca", "missing (required with auth = \"cert\": CA certificate files)");
  }
  for (std::size_t i = 0; i < cas.size(); ++i) {
    const std::string p = Indexed(path + ".ca", i);
    MIPSEC_ASSIGN_OR_RETURN(std::string pem, ReadPemFile(c, *t.get("ca"), p, cas[i]));
    Result<std::vector<crypto::Certificate>> ca = crypto::Certificate::AllFromPem(pem);
    if (!ca.ok()) {
      return c.L.Err(*t.get("ca"), p,
                     "'" + cas[i] + "': no usable certificate: " + ca.error().detail());
    }
    out.trust_anchors.insert(out.trust_anchors.end(), ca->begin(), ca->end());
  }
  MIPSEC_ASSIGN_OR_RETURN(auto pss, c.L.OptBool(t, path, "rsa_pss"));
  out.rsa_pss = pss.value_or(false);
  return Ok{};
}

Result<std::vector<Suite>> ProposalList(const Ctx& c, const toml::table& t,
                                        const std::string& path, std::string_view key, bool ike) {
  MIPSEC_ASSIGN_OR_RETURN(auto list, c.L.StringOrList(t, path, key));
  if (!t.get(key)) return ike ? ikev2::DefaultIkeProposals() : ikev2::DefaultEspProposals();
  if (list.empty()) return c.L.Err(*t.get(key), TomlReader::Join(path, key), "must not be empty");
  std::vector<Suite> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string p = Indexed(TomlReader::Join(path, key), i);
    Result<Suite> s = ike ? ParseIkeProposal(list[i]) : ParseEspProposal(list[i]);
    if (!s.ok()) return c.L.Err(*t.get(key), p, "'" + list[i] + "': " + s.error().detail());
    if (std::find(out.begin(), out.end(), *s) != out.end()) {
      return c.L.Err(*t.get(key), p, "'" + list[i] + "' is listed twice");
    }
    out.push_back(*s);
  }
  return out;
}

// The keys of IkeSettings (see kIkeKeys).
Status ParseIkeSettings(const Ctx& c, const toml::table& t, const std::string& path,
                        bool psk_required, IkeSettings& out) {
  MIPSEC_ASSIGN_OR_RETURN(auto local, OptIdentity(c, t, path, "local_id"));
  if (!local) return c.L.Err(t, path + ".local_id", "missing (required)");
  out.local_id = *local;
  MIPSEC_ASSIGN_OR_RETURN(out.remote_id, OptIdentity(c, t, path, "remote_id"));
  MIPSEC_TRY(ParseAuth(c, t, path, psk_required, out.auth));
  MIPSEC_ASSIGN_OR_RETURN(out.ike_proposals, ProposalList(c, t, path, "ike_proposals", true));
  MIPSEC_ASSIGN_OR_RETURN(out.esp_proposals, ProposalList(c, t, path, "esp_proposals", false));

  struct Pair {
    const char* soft;
    const char* hard;
    Duration* soft_v;
    Duration* hard_v;
  };
  out.lifetimes.ike_soft = Duration::Seconds(3 * 3600);
  out.lifetimes.ike_hard = Duration::Seconds(4 * 3600);
  out.lifetimes.child_soft = Duration::Seconds(50 * 60);
  out.lifetimes.child_hard = Duration::Seconds(3600);
  for (const Pair& pr : {Pair{"ike_soft_lifetime", "ike_hard_lifetime", &out.lifetimes.ike_soft,
                              &out.lifetimes.ike_hard},
                         Pair{"child_soft_lifetime", "child_hard_lifetime",
                              &out.lifetimes.child_soft, &out.lifetimes.child_hard}}) {
    MIPSEC_ASSIGN_OR_RETURN(auto soft, OptDurationOrOff(c, t, path, pr.soft));
    MIPSEC_ASSIGN_OR_RETURN(auto hard, OptDurationOrOff(c, t, path, pr.hard));
    if (soft) *pr.soft_v = *soft;
    if (hard) *pr.hard_v = *hard;
    if (!pr.soft_v->IsInfinite() && !pr.hard_v->IsInfinite() && *pr.soft_v >= *pr.hard_v) {
      const toml::node& n = soft ? *t.get(pr.soft) : *t.get(pr.hard);
      return c.L.Err(n, TomlReader::Join(path, soft ? pr.soft : pr.hard),
                     std::string(pr.soft) + " " + Human(*pr.soft_v) + " must be below " +
                         pr.hard + " " + Human(*pr.hard_v));
    }
  }
  MIPSEC_ASSIGN_OR_RETURN(auto dpd, OptDurationOrOff(c, t, path, "dpd_interval"));
  if (dpd) out.dpd_interval = *dpd;
  MIPSEC_ASSIGN_OR_RETURN(auto ka, OptDurationOrOff(c, t, path, "nat_keepalive"));
  if (ka) out.nat_keepalive = *ka;
  MIPSEC_ASSIGN_OR_RETURN(auto force, c.L.OptBool(t, path, "force_encapsulation"));
  out.force_encapsulation = force.value_or(false);
  MIPSEC_ASSIGN_OR_RETURN(auto frag, c.L.OptBool(t, path, "fragmentation"));
  out.fragmentation = frag.value_or(true);
  MIPSEC_ASSIGN_OR_RETURN(auto mobike, c.L.OptBool(t, path, "mobike"));
  out.mobike = mobike.value_or(true);
  MIPSEC_ASSIGN_OR_RETURN(auto rr, c.L.OptBool(t, path, "mobike_return_routability"));
  out.mobike_return_routability = rr.value_or(true);
  return Ok{};
}

#define MIPSEC_IKE_KEYS                                                                       \
  "local_id", "remote_id", "auth", "psk", "psk_file", "certificate", "private_key", "ca",      \
      "rsa_pss", "ike_proposals", "esp_proposals", "ike_soft_lifetime", "ike_hard_lifetime",  \
      "child_soft_lifetime", "child_hard_lifetime", "dpd_interval", "nat_keepalive",          \
      "force_encapsulation", "fragmentation", "mobike", "mobike_return_routability", "log_level"

Result<std::optional<std::string>> OptTunName(const Ctx& c, const toml::table& t,
                                              const std::string& path) {
  MIPSEC_ASSIGN_OR_RETURN(auto s, c.L.OptString(t, path, "tun"));
  if (s && (s->empty() || s->size() > 15 ||
            s->find_first_of("/ \t\n:") != std::string::npos || *s == "." || *s == "..")) {
    return c.L.Err(*t.get("tun"), path + ".tun",
                   "'" + *s + "' is not an interface name (1 to 15 characters, no '/', ':' or spaces)");
  }
  return s;
}

Status ParseTunMtu(const Ctx& c, const toml::table& t, const std::string& path,
                   std::uint32_t& out) {
  MIPSEC_ASSIGN_OR_RETURN(auto mtu, c.L.OptInt(t, path, "tun_mtu", 576, 9000));
  if (mtu) out = static_cast<std::uint32_t>(*mtu);
  return Ok{};
}

// proto: "any", "icmp", "tcp", "udp", "ipip" or 0..255.
Result<std::uint8_t> ProtocolOf(const Ctx& c, const toml::table& t, const std::string& path) {
  const toml::node* n = t.get("proto");
  if (!n) return std::uint8_t{0};
  const std::string p = path + ".proto";
  if (n->is_integer()) {
    const std::int64_t v = n->as_integer()->get();
    if (v < 0 || v > 255) return c.L.Err(*n, p, std::to_string(v) + " is outside 0..255");
    return static_cast<std::uint8_t>(v);
  }
  if (!n->is_string()) return c.L.Err(*n, p, "must be a protocol name or number");
  const std::string s = n->as_string()->get();
  if (s == "any") return std::uint8_t{0};
  if (s == "icmp") return std::uint8_t{1};
  if (s == "ipip") return std::uint8_t{4};
  if (s == "tcp") return std::uint8_t{6};
  if (s == "udp") return std::uint8_t{17};
  return c.L.Err(*n, p, "'" + s + "' is not one of any, icmp, ipip, tcp, udp or 0..255");
}

Result<AllowRule> ParseAllow(const Ctx& c, const toml::table& t, const std::string& path) {
  MIPSEC_TRY(c.L.CheckKeys(t, path, {"proto", "prefix", "port"}));
  AllowRule r;
  MIPSEC_ASSIGN_OR_RETURN(r.protocol, ProtocolOf(c, t, path));
  MIPSEC_ASSIGN_OR_RETURN(std::string prefix, c.L.String(t, path, "prefix"));
  Result<Ipv4Prefix> pr = Ipv4Prefix::Parse(prefix);
  if (!pr.ok()) {
    Result<Ipv4Address> a = Ipv4Address::Parse(prefix);
    if (!a.ok()) {
      return c.L.Err(*t.get("prefix"), path + ".prefix",
                     "'" + prefix + "' is not an address or a prefix a.b.c.d/len without host bits");
    }
    pr = Ipv4Prefix::Host(*a);
  }
  r.destination = *pr;
  if (const toml::node* n = t.get("port")) {
    const std::string p = path + ".port";
    if (r.protocol != 6 && r.protocol != 17) return c.L.Err(*n, p, "only with proto udp or tcp");
    std::uint32_t lo = 0, hi = 0;
    if (n->is_integer()) {
      const std::int64_t v = n->as_integer()->get();
      if (v < 1 || v > 65535) return c.L.Err(*n, p, std::to_string(v) + " is outside 1..65535");
      lo = hi = static_cast<std::uint32_t>(v);
    } else if (n->is_string()) {
      const std::string s = n->as_string()->get();
      const auto dash = s.find('-');
      const bool ok = dash != std::string::npos &&
                      ParseU32(std::string_view(s).substr(0, dash), lo) &&
                      ParseU32(std::string_view(s).substr(dash + 1), hi) && lo >= 1 &&
                      hi <= 65535 && lo <= hi;
      if (!ok) return c.L.Err(*n, p, "'" + s + "' is not a port range first-last in 1..65535");
    } else {
      return c.L.Err(*n, p, "must be a port number or a range \"first-last\"");
    }
    r.port_first = static_cast<std::uint16_t>(lo);
    r.port_last = static_cast<std::uint16_t>(hi);
  }
  return r;
}

bool IsNetmask(Ipv4Address m) {
  const std::uint32_t inv = ~m.ToHostOrder();
  return (inv & (inv + 1)) == 0;  // ones then zeros
}

Status ParseTiaPool(const Ctx& c, const toml::table& root, GwConfig& cfg) {
  MIPSEC_ASSIGN_OR_RETURN(const toml::table* t, c.L.OptTable(root, "", "tia_pool"));
  if (!t) return c.L.Err(root, "tia_pool", "missing (required table [tia_pool])");
  const std::string p = "tia_pool";
  MIPSEC_TRY(c.L.CheckKeys(*t, p, {"range", "netmask", "dns"}));
  MIPSEC_ASSIGN_OR_RETURN(std::string range, c.L.String(*t, p, "range"));
  const toml::node& rn = *t->get("range");
  const auto dash = range.find('-');
  if (dash == std::string::npos) {
    Result<Ipv4Prefix> pr = Ipv4Prefix::Parse(range);
    if (!pr.ok()) {
      return c.L.Err(rn, p + ".range",
                     "'" + range + "' is not a prefix a.b.c.d/len or a range first-last");
    }
    Result<ikev2::TiaPool> pool = ikev2::TiaPool::FromPrefix(*pr);
    if (!pool.ok()) return c.L.Err(rn, p + ".range", pool.error().detail());
    cfg.pool_prefix = *pr;
    cfg.pool_first = pool->first();
    cfg.pool_last = pool->last();
  } else {
    Result<Ipv4Address> f = Ipv4Address::Parse(range.substr(0, dash));
    Result<Ipv4Address> l = Ipv4Address::Parse(range.substr(dash + 1));
    if (!f.ok() || !l.ok()) {
      return c.L.Err(rn, p + ".range",
                     "'" + range + "' is not a prefix a.b.c.d/len or a range first-last");
    }
    Result<ikev2::TiaPool> pool = ikev2::TiaPool::FromRange(*f, *l);
    if (!pool.ok()) return c.L.Err(rn, p + ".range", pool.error().detail());
    cfg.pool_first = *f;
    cfg.pool_last = *l;
  }
  for (Ipv4Address a : {cfg.pool_first, cfg.pool_last}) {
    if (!a.IsUnicast()) {
      return c.L.Err(rn, p + ".range", a.ToString() + " is not a unicast address");
    }
  }
  MIPSEC_ASSIGN_OR_RETURN(auto mask, c.L.OptParsed<Ipv4Address>(*t, p, "netmask",
                                                                Ipv4Address::Parse,
                                                                "a netmask (a.b.c.d)"));
  if (mask && !IsNetmask(*mask)) {
    return c.L.Err(*t->get("netmask"), p + ".netmask",
                   mask->ToString() + " is not a netmask (ones, then zeros)");
  }
  if (mask) {
    cfg.pool_netmask = mask;
  } else if (cfg.pool_prefix) {
    cfg.pool_netmask = cfg.pool_prefix->Netmask();
  }
  MIPSEC_ASSIGN_OR_RETURN(cfg.pool_dns, UnicastList(c, *t, p, "dns"));
  return Ok{};
}

Status ParseIntranetAndPolicy(const Ctx& c, const toml::table& root, GwConfig& cfg) {
  MIPSEC_ASSIGN_OR_RETURN(const toml::table* t, c.L.OptTable(root, "", "intranet"));
  if (!t) return c.L.Err(root, "intranet", "missing (required table [intranet])");
  const std::string ip = "intranet";
  MIPSEC_TRY(c.L.CheckKeys(*t, ip, {"prefixes", "tun", "tun_mtu"}));
  MIPSEC_ASSIGN_OR_RETURN(cfg.intranet, PrefixList(c, *t, ip, "prefixes"));
  if (cfg.intranet.empty()) {
    return c.L.Err(t->get("prefixes") ? *t->get("prefixes") : static_cast<const toml::node&>(*t),
                   ip + ".prefixes", "missing (required: at least one prefix)");
  }
  MIPSEC_ASSIGN_OR_RETURN(auto tun, OptTunName(c, *t, ip));
  if (tun) cfg.tun_name = *tun;
  MIPSEC_TRY(ParseTunMtu(c, *t, ip, cfg.tun_mtu));

  MIPSEC_ASSIGN_OR_RETURN(const toml::table* pt, c.L.OptTable(root, "", "policy"));
  if (!pt) return Ok{};
  const std::string pp = "policy";
  MIPSEC_TRY(c.L.CheckKeys(*pt, pp, {"i_ha", "allow"}));
  GwPolicy pol;
  MIPSEC_ASSIGN_OR_RETURN(pol.i_ha, UnicastList(c, *pt, pp, "i_ha"));
  if (pol.i_ha.empty()) {
    return c.L.Err(pt->get("i_ha") ? *pt->get("i_ha") : static_cast<const toml::node&>(*pt),
                   pp + ".i_ha", "missing (required: the internal home agent address(es))");
  }
  for (std::size_t i = 0; i < pol.i_ha.size(); ++i) {
    const Ipv4Address a = pol.i_ha[i];
    if (std::none_of(cfg.intranet.begin(), cfg.intranet.end(),
                     [a](const Ipv4Prefix& pr) { return pr.Contains(a); })) {
      return c.L.Err(*pt->get("i_ha"), Indexed(pp + ".i_ha", i),
                     a.ToString() + " is not inside any intranet.prefixes entry");
    }
  }
  // RFC 5265 4.2: UDP to port 434 of each i-HA (MUST), IP-in-IP to it (SHOULD).
  for (Ipv4Address a : pol.i_ha) {
    pol.rules.push_back(AllowRule{17, Ipv4Prefix::Host(a), 434, 434});
    pol.rules.push_back(AllowRule{4, Ipv4Prefix::Host(a), 0, 0xffff});
  }
  MIPSEC_ASSIGN_OR_RETURN(auto allows, c.L.Tables(*pt, pp, "allow"));
  for (std::size_t i = 0; i < allows.size(); ++i) {
    MIPSEC_ASSIGN_OR_RETURN(AllowRule r, ParseAllow(c, *allows[i], Indexed(pp + ".allow", i)));
    pol.rules.push_back(r);
  }
  cfg.policy = std::move(pol);
  return Ok{};
}

ikev2::LocalAuth LocalAuthOf(const AuthConfig& a) {
  ikev2::LocalAuth l;
  l.kind = a.kind;
  l.psk = a.psk;
  l.certificate = a.certificate;
  l.intermediates = a.intermediates;
  l.private_key = a.private_key;
  l.rsa_pss = a.rsa_pss;
  return l;
}

ikev2::RemoteAuth RemoteAuthOf(const AuthConfig& a) {
  ikev2::RemoteAuth r;
  r.kind = a.kind;
  r.psk = a.psk;
  r.trust_anchors = a.trust_anchors;
  return r;
}

void ApplyIkeSettings(const IkeSettings& s, ikev2::PeerConfig& pc) {
  pc.local_id = s.local_id;
  pc.remote_id = s.remote_id;
  pc.local_auth = LocalAuthOf(s.auth);
  pc.remote_auth = RemoteAuthOf(s.auth);
  pc.ike_proposals = s.ike_proposals;
  pc.esp_proposals = s.esp_proposals;
  pc.lifetimes.ike_soft = s.lifetimes.ike_soft;
  pc.lifetimes.ike_hard = s.lifetimes.ike_hard;
  pc.lifetimes.child_soft = s.lifetimes.child_soft;
  pc.lifetimes.child_hard = s.lifetimes.child_hard;
  pc.dpd_interval = s.dpd_interval;
  pc.nat_keepalive_interval = s.nat_keepalive;
  pc.force_encapsulation = s.force_encapsulation;
  pc.fragmentation = s.fragmentation;
  pc.mobike.enabled = s.mobike;
  pc.mobike.return_routability_check = s.mobike_return_routability;
}

}  // namespace

// ---- Identities and proposals ----

Result<IdPayload> ParseIdentity(std::string_view text) {
  const auto colon = text.find(':');
  std::string_view kind = colon == std::string_view::npos ? std::string_view() : text.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? text : text.substr(colon + 1);
  if (kind == "fqdn" || kind == "email" || kind == "ipv4" || kind == "keyid") {
    if (value.empty()) return Error(Errc::kMalformed, "empty " + std::string(kind) + " value");
    if (kind == "fqdn") return IdPayload::Fqdn(value);
    if (kind == "email") return IdPayload::Rfc822(value);
    if (kind == "ipv4") {
      Result<Ipv4Address> a = Ipv4Address::Parse(value);
      if (!a.ok()) return Error(Errc::kMalformed, "'" + std::string(value) + "' is not an IPv4 address");
      return IdPayload::Ipv4(*a);
    }
    Result<Bytes> b = FromHex(value);
    if (!b.ok() || b->empty()) {
      return Error(Errc::kMalformed, "'" + std::string(value) + "' is not hexadecimal");
    }
    return IdPayload::KeyId(*b);
  }
  // No (known) prefix: guess like strongSwan does.
  if (text.empty()) return Error(Errc::kMalformed, "empty");
  if (Result<Ipv4Address> a = Ipv4Address::Parse(text); a.ok()) return IdPayload::Ipv4(*a);
  if (text.find('@') != std::string_view::npos) return IdPayload::Rfc822(text);
  if (colon != std::string_view::npos) {
    return Error(Errc::kMalformed, "unknown type '" + std::string(kind) +
                                       "' (use fqdn:, ipv4:, email: or keyid:)");
  }
  return IdPayload::Fqdn(text);
}

std::string IdentityToString(const IdPayload& id) {
  const std::string s(id.data.begin(), id.data.end());
  switch (id.type) {
    case IdType::kFqdn:
      return "fqdn:" + s;
    case IdType::kRfc822Addr:
      return "email:" + s;
    case IdType::kIpv4Addr:
      if (id.data.size() == 4) {
        return "ipv4:" + Ipv4Address::FromOctets(id.data[0], id.data[1], id.data[2], id.data[3])
                             .ToString();
      }
      break;
    case IdType::kKeyId:
      return "keyid:" + ToHex(id.data);
    default:
      break;
  }
  return "type" + std::to_string(static_cast<int>(id.type)) + ":" + ToHex(id.data);
}

Result<Suite> ParseIkeProposal(std::string_view text) {
  MIPSEC_ASSIGN_OR_RETURN(ProposalParts p, SplitProposal(text, /*ike=*/true));
  if (!p.prf) {
    if (!p.integ) {
      return Error(Errc::kMalformed, "no PRF (an AEAD proposal needs one, e.g. prfsha256)");
    }
    p.prf = *p.integ == IntegId::kHmacSha2_256_128   ? PrfId::kHmacSha2_256
            : *p.integ == IntegId::kHmacSha2_384_192 ? PrfId::kHmacSha2_384
                                                     : PrfId::kHmacSha2_512;
  }
  if (!p.dh) return Error(Errc::kMalformed, "no DH group (e.g. x25519)");
  return Suite::ForIke(p.encr, p.bits, *p.prf, p.integ, *p.dh);
}

Result<Suite> ParseEspProposal(std::string_view text) {
  MIPSEC_ASSIGN_OR_RETURN(ProposalParts p, SplitProposal(text, /*ike=*/false));
  return Suite::ForEsp(p.encr, p.bits, p.integ, p.dh, p.esn.value_or(EsnId::kNoEsn));
}

// ---- Policy ----

bool PolicyAllows(const GwPolicy& policy, std::uint8_t protocol, Ipv4Address destination,
                  std::uint16_t dst_port) {
  const bool ported = protocol == 6 || protocol == 17;
  for (const AllowRule& r : policy.rules) {
    if (r.protocol != 0 && r.protocol != protocol) continue;
    if (!r.destination.Contains(destination)) continue;
    if (ported && (dst_port < r.port_first || dst_port > r.port_last)) continue;
    return true;
  }
  return false;
}

// ---- The gateway ----

Result<GwConfig> ParseGwConfig(std::string_view text, std::string_view file,
                               const FileReader& read_file) {
  Ctx c{TomlReader(file), read_file, DirOf(file)};
  MIPSEC_ASSIGN_OR_RETURN(const toml::table root, ParseTomlDocument(text, file));
  MIPSEC_TRY(c.L.CheckKeys(root, "", {"gateway", "peer", "tia_pool", "intranet", "policy"}));
  GwConfig cfg;

  MIPSEC_ASSIGN_OR_RETURN(const toml::table* gw, c.L.OptTable(root, "", "gateway"));
  if (!gw) return c.L.Err(root, "gateway", "missing (required table [gateway])");
  const std::string gp = "gateway";
  MIPSEC_TRY(c.L.CheckKeys(*gw, gp, {MIPSEC_IKE_KEYS, "listen", "ike_port", "natt_port",
                                     "cookie_threshold", "control_socket"}));
  MIPSEC_ASSIGN_OR_RETURN(cfg.listen, UnicastList(c, *gw, gp, "listen"));
  if (cfg.listen.empty()) {
    return c.L.Err(gw->get("listen") ? *gw->get("listen") : static_cast<const toml::node&>(*gw),
                   gp + ".listen", "missing (required: the gateway's external address(es))");
  }
  MIPSEC_ASSIGN_OR_RETURN(auto ike_port, c.L.OptInt(*gw, gp, "ike_port", 1, 65535));
  if (ike_port) cfg.ike_port = static_cast<std::uint16_t>(*ike_port);
  MIPSEC_ASSIGN_OR_RETURN(auto natt_port, c.L.OptInt(*gw, gp, "natt_port", 1, 65535));
  if (natt_port) cfg.natt_port = static_cast<std::uint16_t>(*natt_port);
  if (cfg.ike_port == cfg.natt_port) {
    const char* k = natt_port ? "natt_port" : "ike_port";
    return c.L.Err(*gw->get(k), TomlReader::Join(gp, k), "ike_port and natt_port must differ");
  }

  MIPSEC_ASSIGN_OR_RETURN(auto peer_tables, c.L.Tables(root, "", "peer"));
  MIPSEC_TRY(ParseIkeSettings(c, *gw, gp, /*psk_required=*/peer_tables.empty(), cfg.ike));
  for (std::size_t i = 0; i < peer_tables.size(); ++i) {
    const toml::table& t = *peer_tables[i];
    const std::string p = Indexed("peer", i);
    if (cfg.ike.auth.kind != ikev2::AuthKind::kPsk) {
      return c.L.Err(t, p, "[[peer]] PSKs only with gateway.auth = \"psk\"");
    }
    MIPSEC_TRY(c.L.CheckKeys(t, p, {"id", "psk", "psk_file"}));
    GwPeerPsk peer;
    peer.line = TomlReader::Line(t);
    MIPSEC_ASSIGN_OR_RETURN(auto id, OptIdentity(c, t, p, "id"));
    if (!id) return c.L.Err(t, p + ".id", "missing (required)");
    peer.id = *id;
    for (std::size_t j = 0; j < cfg.peers.size(); ++j) {
      if (cfg.peers[j].id == peer.id) {
        return c.L.Err(*t.get("id"), p + ".id",
                       "same identity as " + Indexed("peer", j) + " (line " +
                           std::to_string(cfg.peers[j].line) + ")");
      }
    }
    MIPSEC_ASSIGN_OR_RETURN(auto psk, OptPsk(c, t, p));
    if (!psk) return c.L.Err(t, p + ".psk", "missing (required: psk or psk_file)");
    peer.psk = std::move(*psk);
    cfg.peers.push_back(std::move(peer));
  }
  MIPSEC_ASSIGN_OR_RETURN(auto cookies, c.L.OptInt(*gw, gp, "cookie_threshold", 0, 1000000));
  if (cookies) cfg.cookie_threshold = static_cast<std::size_t>(*cookies);
  MIPSEC_ASSIGN_OR_RETURN(auto level, c.L.OptLogLevel(*gw, gp));
  if (level) cfg.log_level = *level;
  MIPSEC_ASSIGN_OR_RETURN(auto sock, c.L.OptString(*gw, gp, "control_socket"));
  if (sock && (sock->empty() || sock->size() > 107)) {
    // sockaddr_un.sun_path holds 108 bytes including the terminator.
    return c.L.Err(*gw->get("control_socket"), gp + ".control_socket",
                   "must be 1 to 107 bytes (a Unix socket path)");
  }
  if (sock) cfg.control_socket = *sock;

  MIPSEC_TRY(ParseTiaPool(c, root, cfg));
  MIPSEC_TRY(ParseIntranetAndPolicy(c, root, cfg));
  return cfg;
}

Result<GwConfig> LoadGwConfig(const std::string& path, const FileReader& read_file) {
  MIPSEC_ASSIGN_OR_RETURN(std::string text, read_file(path));
  return ParseGwConfig(text, path, read_file);
}

// ---- The client ----

namespace {

// The [client] keys shared with mn.toml's [vpn] (section_parsers.h).
Status ParseClientCommon(const Ctx& c, const toml::table& t, const std::string& cp,
                         VpnClientConfig& cfg) {
  MIPSEC_ASSIGN_OR_RETURN(auto gw, c.L.OptUnicast(t, cp, "gateway"));
  if (!gw) return c.L.Err(t, cp + ".gateway", "missing (required)");
  cfg.gateway = *gw;
  MIPSEC_ASSIGN_OR_RETURN(auto port, c.L.OptInt(t, cp, "gateway_port", 1, 65535));
  if (port) cfg.gateway_port = static_cast<std::uint16_t>(*port);
  MIPSEC_TRY(ParseIkeSettings(c, t, cp, /*psk_required=*/true, cfg.ike));
  MIPSEC_ASSIGN_OR_RETURN(cfg.routes, PrefixList(c, t, cp, "routes"));
  if (cfg.routes.empty()) {
    return c.L.Err(t.get("routes") ? *t.get("routes") : static_cast<const toml::node&>(t),
                   cp + ".routes", "missing (required: the prefixes to reach through the tunnel)");
  }
  MIPSEC_ASSIGN_OR_RETURN(auto tun, OptTunName(c, t, cp));
  if (tun) cfg.tun_name = *tun;
  MIPSEC_TRY(ParseTunMtu(c, t, cp, cfg.tun_mtu));
  return Ok{};
}

}  // namespace

Result<VpnClientConfig> ParseVpnClientSection(const toml::table& t, const std::string& path,
                                              std::string_view file, const FileReader& read_file) {
  Ctx c{TomlReader(file), read_file, DirOf(file)};
  VpnClientConfig cfg;
  MIPSEC_TRY(ParseClientCommon(c, t, path, cfg));
  return cfg;
}

Result<VpnClientConfig> ParseVpnClientConfig(std::string_view text, std::string_view file,
                                             const FileReader& read_file) {
  Ctx c{TomlReader(file), read_file, DirOf(file)};
  MIPSEC_ASSIGN_OR_RETURN(const toml::table root, ParseTomlDocument(text, file));
  MIPSEC_TRY(c.L.CheckKeys(root, "", {"client"}));
  VpnClientConfig cfg;
  MIPSEC_ASSIGN_OR_RETURN(const toml::table* t, c.L.OptTable(root, "", "client"));
  if (!t) return c.L.Err(root, "client", "missing (required table [client])");
  const std::string cp = "client";
  MIPSEC_TRY(c.L.CheckKeys(*t, cp, {MIPSEC_IKE_KEYS, "gateway", "gateway_port", "local_address",
                                    "request_virtual_ip", "routes", "tun", "tun_mtu"}));
  MIPSEC_TRY(ParseClientCommon(c, *t, cp, cfg));
  MIPSEC_ASSIGN_OR_RETURN(cfg.local_address, c.L.OptUnicast(*t, cp, "local_address"));
  MIPSEC_ASSIGN_OR_RETURN(auto vip, c.L.OptBool(*t, cp, "request_virtual_ip"));
  cfg.request_virtual_ip = vip.value_or(true);
  MIPSEC_ASSIGN_OR_RETURN(auto level, c.L.OptLogLevel(*t, cp));
  if (level) cfg.log_level = *level;
  return cfg;
}

Result<VpnClientConfig> LoadVpnClientConfig(const std::string& path, const FileReader& read_file) {
  MIPSEC_ASSIGN_OR_RETURN(std::string text, read_file(path));
  return ParseVpnClientConfig(text, path, read_file);
}

// ---- Mapping ----

GwPskTable::GwPskTable(const GwConfig& config) { Replace(config); }

void GwPskTable::Replace(const GwConfig& config) {
  Table fresh;
  for (const GwPeerPsk& p : config.peers) {
    fresh.emplace(std::make_pair(static_cast<std::uint8_t>(p.id.type), p.id.data), p.psk);
  }
  std::unique_ptr<SecretBytes> shared;
  if (config.ike.auth.kind == ikev2::AuthKind::kPsk && !config.ike.auth.psk.empty()) {
    shared = std::make_unique<SecretBytes>(config.ike.auth.psk);
  }
  if (!by_id_.empty()) retired_tables_.push_back(std::move(by_id_));
  if (shared_) retired_shared_.push_back(std::move(shared_));
  by_id_ = std::move(fresh);
  shared_ = std::move(shared);
}

const SecretBytes* GwPskTable::Find(const IdPayload& peer_id) const {
  auto it = by_id_.find(std::make_pair(static_cast<std::uint8_t>(peer_id.type), peer_id.data));
  if (it != by_id_.end()) return &it->second;
  return shared_.get();
}

namespace {

template <typename T>
void Key(std::vector<std::string>& out, const char* name, const T& a, const T& b) {
  if (!(a == b)) out.emplace_back(name);
}

const GwPeerPsk* FindPeer(const std::vector<GwPeerPsk>& list, const IdPayload& id) {
  for (const GwPeerPsk& p : list) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

bool SameLifetimes(const ikev2::Lifetimes& a, const ikev2::Lifetimes& b) {
  return a.ike_soft == b.ike_soft && a.ike_hard == b.ike_hard && a.child_soft == b.child_soft &&
         a.child_hard == b.child_hard;
}

bool SamePolicy(const std::optional<GwPolicy>& a, const std::optional<GwPolicy>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->i_ha == b->i_ha && a->rules == b->rules);
}

}  // namespace

ReloadDiff DiffGwConfig(const GwConfig& r, const GwConfig& l) {
  ReloadDiff d;
  for (const GwPeerPsk& n : l.peers) {
    const GwPeerPsk* o = FindPeer(r.peers, n.id);
    if (o == nullptr) {
      ++d.peers_added;
    } else if (!o->psk.Equals(n.psk)) {
      ++d.peers_rekeyed;
    }
  }
  for (const GwPeerPsk& o : r.peers) {
    if (FindPeer(l.peers, o.id) == nullptr) ++d.peers_removed;
  }
  if (!r.ike.auth.psk.Equals(l.ike.auth.psk)) d.changed.emplace_back("psk");
  Key(d.changed, "log_level", r.log_level, l.log_level);
  std::vector<std::string>& x = d.restart_only;
  Key(x, "listen", r.listen, l.listen);
  Key(x, "ike_port", r.ike_port, l.ike_port);
  Key(x, "natt_port", r.natt_port, l.natt_port);
  Key(x, "local_id", r.ike.local_id, l.ike.local_id);
  Key(x, "remote_id", r.ike.remote_id, l.ike.remote_id);
  Key(x, "auth", r.ike.auth.kind, l.ike.auth.kind);
  Key(x, "ike_proposals", r.ike.ike_proposals, l.ike.ike_proposals);
  Key(x, "esp_proposals", r.ike.esp_proposals, l.ike.esp_proposals);
  if (!SameLifetimes(r.ike.lifetimes, l.ike.lifetimes)) x.emplace_back("lifetimes");
  Key(x, "dpd_interval", r.ike.dpd_interval, l.ike.dpd_interval);
  Key(x, "nat_keepalive", r.ike.nat_keepalive, l.ike.nat_keepalive);
  Key(x, "force_encapsulation", r.ike.force_encapsulation, l.ike.force_encapsulation);
  Key(x, "fragmentation", r.ike.fragmentation, l.ike.fragmentation);
  Key(x, "mobike", r.ike.mobike, l.ike.mobike);
  Key(x, "mobike_return_routability", r.ike.mobike_return_routability,
      l.ike.mobike_return_routability);
  Key(x, "cookie_threshold", r.cookie_threshold, l.cookie_threshold);
  Key(x, "control_socket", r.control_socket, l.control_socket);
  if (!(r.pool_first == l.pool_first && r.pool_last == l.pool_last &&
        r.pool_prefix == l.pool_prefix && r.pool_netmask == l.pool_netmask &&
        r.pool_dns == l.pool_dns)) {
    x.emplace_back("tia_pool");
  }
  Key(x, "intranet.prefixes", r.intranet, l.intranet);
  Key(x, "intranet.tun", r.tun_name, l.tun_name);
  Key(x, "intranet.tun_mtu", r.tun_mtu, l.tun_mtu);
  if (!SamePolicy(r.policy, l.policy)) x.emplace_back("policy");
  return d;
}

GwConfig MergeGwReload(const GwConfig& running, const GwConfig& loaded) {
  GwConfig c = running;
  c.peers = loaded.peers;
  // The shared key only within the running auth method (a switch between
  // psk and cert is restart-only).
  if (running.ike.auth.kind == ikev2::AuthKind::kPsk &&
      loaded.ike.auth.kind == ikev2::AuthKind::kPsk) {
    c.ike.auth.psk = loaded.ike.auth.psk;
  }
  c.log_level = loaded.log_level;
  return c;
}

Result<ikev2::PeerConfig> ToResponderPeerConfig(const GwConfig& config,
                                                ikev2::AddressProvider* pool,
                                                const GwPskTable* psks) {
  if (!config.peers.empty() && psks == nullptr) {
    return Error(Errc::kInvalidArgument, "[[peer]] PSKs need the gateway's PSK table");
  }
  ikev2::PeerConfig pc;
  ApplyIkeSettings(config.ike, pc);
  pc.send_idr = false;
  pc.natt_port = config.natt_port;
  for (const Ipv4Prefix& p : config.intranet) {
    pc.local_ts.push_back(ikev2::TrafficSelector::Ipv4Prefix(p));
  }
  pc.remote_ts.push_back(ikev2::TrafficSelector::Ipv4Range(config.pool_first, config.pool_last));
  pc.request_virtual_ip = false;
  pc.initial_contact = false;
  pc.address_provider = pool;
  pc.virtual_ip_netmask = config.pool_netmask;
  pc.virtual_ip_dns = config.pool_dns;
  // The table whenever the gateway uses PSKs, so that a reload can add
  // [[peer]] entries to a gateway started without any.
  if (psks != nullptr && config.ike.auth.kind == ikev2::AuthKind::kPsk) pc.psk_provider = psks;
  return pc;
}

ikev2::PeerConfig ToInitiatorPeerConfig(const VpnClientConfig& config) {
  ikev2::PeerConfig pc;
  ApplyIkeSettings(config.ike, pc);
  pc.send_idr = config.ike.remote_id.has_value();
  if (config.request_virtual_ip || !config.local_address) {
    pc.local_ts.push_back(
        ikev2::TrafficSelector::Ipv4Range(Ipv4Address::Any(), Ipv4Address::Broadcast()));
  } else {
    pc.local_ts.push_back(ikev2::TrafficSelector::Ipv4Prefix(Ipv4Prefix::Host(*config.local_address)));
  }
  for (const Ipv4Prefix& p : config.routes) {
    pc.remote_ts.push_back(ikev2::TrafficSelector::Ipv4Prefix(p));
  }
  pc.request_virtual_ip = config.request_virtual_ip;
  pc.initial_contact = true;
  return pc;
}

Result<ikev2::TiaPool> MakeTiaPool(const GwConfig& config) {
  if (config.pool_prefix) return ikev2::TiaPool::FromPrefix(*config.pool_prefix);
  return ikev2::TiaPool::FromRange(config.pool_first, config.pool_last);
}

}  // namespace mipsec::config
