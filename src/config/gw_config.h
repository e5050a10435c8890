// Configuration of the VPN gateway (`mipsec gw`, the mVPN of RFC 5266) and
// of the IKEv2 VPN client (initiator), parsed from TOML (format and every
// key: docs/configuration.md; commented examples: examples/gw.toml,
// examples/vpn-client.toml).
//
// Same rules as daemon_config.h: parsing is all or nothing; one Error names
// the file, the line, the key path and the reason, e.g.
//   "gw.toml:9: gateway.ike_proposals[1]: 'aes128-md5-x25519': unsupported
//    algorithm 'md5'"
// unknown keys are errors; cross-field rules are checked here (a config that
// parses can be started). PSKs are SecretBytes, given in hex inline (`psk`)
// or in a file (`psk_file`), and errors never quote them. Every file path
// (psk_file, certificate, private_key, ca) is relative to the config file's
// directory unless absolute, and is read through the FileReader (tests
// inject one); PEM files are parsed here, so a bad certificate is a config
// error with the line of its key.
//
// Layering: unlike daemon_config (common only), this is the separate library
// `gw_config` that uses the IKEv2 vocabulary (IdPayload, Suite, PeerConfig,
// crypto::Certificate) so that the mapping onto ikev2::PeerConfig lives here
// (ToResponderPeerConfig / ToInitiatorPeerConfig). ikev2 does not depend on
// config; `config` itself stays common-only.
#ifndef MIPSEC_CONFIG_GW_CONFIG_H_
#define MIPSEC_CONFIG_GW_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/log.h"
#include "common/result.h"
#include "common/secret.h"
#include "common/time.h"
#include "config/config_reload.h"  // ReloadDiff
#include "config/daemon_config.h"  // FileReader, ReadFileToString
#include "crypto/x509.h"
#include "ikev2/codec/id_payload.h"
#include "ikev2/crypto/suite.h"
#include "ikev2/sa/config.h"
#include "ikev2/sa/tia_pool.h"

namespace mipsec::config {

// ---- Text forms shared by both configs (also usable by CLI flags) ----

// An IKEv2 identity (RFC 7296 3.5): "fqdn:vpn.example.com",
// "ipv4:192.0.2.1", "email:user@example.com", "keyid:0a1b2c" (hex), or
// without a prefix: an IPv4 address -> ID_IPV4_ADDR, text with '@' ->
// ID_RFC822_ADDR, anything else -> ID_FQDN. kMalformed with a reason.
Result<ikev2::IdPayload> ParseIdentity(std::string_view text);
// The prefixed text form of an identity ("fqdn:vpn.example.com"); other
// types as "type<N>:<hex>".
std::string IdentityToString(const ikev2::IdPayload& id);

// strongSwan-style proposals, tokens separated by '-':
//   encryption  aes128 aes192 aes256 (CBC, needs an integrity token),
//               aes128gcm16 aes192gcm16 aes256gcm16 (also gcm8/gcm12;
//               "aes128gcm" = gcm16);
//   integrity   sha256 sha384 sha512 (HMAC-SHA2-*-128/192/256, RFC 4868);
//   PRF (IKE)   prfsha256 prfsha384 prfsha512; when absent, the integrity
//               token's hash (a CBC proposal), else required;
//   DH          x25519 (= curve25519), ecp256 ecp384 ecp521, modp2048
//               modp3072 modp4096 modp6144 modp8192; IKE: exactly one,
//               required; ESP: optional (PFS in CREATE_CHILD_SA);
//   ESN (ESP)   esn, noesn (default noesn).
// e.g. IKE "aes128gcm16-prfsha256-x25519", "aes256-sha256-ecp256"; ESP
// "aes128gcm16", "aes128-sha256", "aes256gcm16-ecp256-esn".
// Errors (kMalformed/kUnsupported) name the token: "unsupported algorithm
// 'md5'", "'prfsha256' is not allowed in an ESP proposal", "no DH group",
// "two encryption algorithms ('aes128', 'aes256')", ...
Result<ikev2::Suite> ParseIkeProposal(std::string_view text);
Result<ikev2::Suite> ParseEspProposal(std::string_view text);

// ---- What the gateway and the client share ----

// Authentication, both directions with the same method (strongSwan's
// usual setup): PSK, or certificates (our certificate + key, the CAs the
// peer's certificate must chain to).
struct AuthConfig {
  ikev2::AuthKind kind = ikev2::AuthKind::kPsk;   // auth = "psk" | "cert"
  // kPsk: the shared secret (psk | psk_file, hex, at least 16 bytes).
  // Gateway: optional when every client has a [[peer]] entry.
  SecretBytes psk;
  // kCertificate: `certificate` (PEM: ours first, further certificates are
  // intermediates sent as extra CERT payloads), `private_key` (PEM, RSA or
  // EC; must match the certificate), `ca` (one or more PEM files, every
  // certificate in them is a trust anchor).
  std::optional<crypto::Certificate> certificate;
  std::vector<crypto::Certificate> intermediates;
  std::optional<crypto::PrivateKey> private_key;
  std::vector<crypto::Certificate> trust_anchors;
  bool rsa_pss = false;  // sign RSA with RSASSA-PSS (RFC 7427)
};

// IKE behaviour keys common to [gateway] and [client].
struct IkeSettings {
  ikev2::IdPayload local_id;                  // local_id (required)
  std::optional<ikev2::IdPayload> remote_id;  // remote_id (optional)
  AuthConfig auth;
  // Defaults: ikev2::DefaultIkeProposals() / DefaultEspProposals().
  std::vector<ikev2::Suite> ike_proposals;    // ike_proposals = [..]
  std::vector<ikev2::Suite> esp_proposals;    // esp_proposals = [..]
  // ike_soft_lifetime (rekey, default 3h), ike_hard_lifetime (delete,
  // default 4h), child_soft_lifetime (default 50m), child_hard_lifetime
  // (default 1h); "0s" is not allowed; soft must be below hard; "off"
  // disables (Duration::Infinite()).
  ikev2::Lifetimes lifetimes;
  Duration dpd_interval = Duration::Seconds(30);          // dpd_interval ("off": none)
  Duration nat_keepalive = Duration::Seconds(20);         // nat_keepalive ("off": none)
  bool force_encapsulation = false;                       // force_encapsulation
  bool fragmentation = true;                              // fragmentation
  bool mobike = true;                                     // mobike (RFC 4555)
  // mobike_return_routability (responder: RFC 4555 3.7 check before the
  // IPsec SAs follow a client to a new address; default on, the SHOULD).
  bool mobike_return_routability = true;
};

// ---- The gateway (`mipsec gw`) ----

// A [[peer]] entry: a client identity with its own PSK.
struct GwPeerPsk {
  ikev2::IdPayload id;  // id (required)
  SecretBytes psk;      // psk | psk_file (required)
  int line = 0;
};

// One allow rule of the RFC 5265 4.2 policy: traffic from the tunnel to
// `destination` with IP protocol `protocol` (0: any) and, for UDP/TCP, a
// destination port in [port_first, port_last].
struct AllowRule {
  std::uint8_t protocol = 0;
  Ipv4Prefix destination;
  std::uint16_t port_first = 0;
  std::uint16_t port_last = 0xffff;
  bool operator==(const AllowRule&) const = default;
};

// [policy]: present -> decrypted packets from clients are forwarded into the
// intranet only when an allow rule matches; replies (intranet -> client)
// are not filtered. RFC 5265 4.2: UDP to port 434 (MUST) and IP-in-IP
// (protocol 4, SHOULD) to every i-HA are always allowed (rules[0..2n) for n
// i_ha addresses, in that order), then the [[policy.allow]] entries.
struct GwPolicy {
  std::vector<Ipv4Address> i_ha;  // i_ha = "a.b.c.d" | [..] (required, each in an intranet prefix)
  std::vector<AllowRule> rules;
};

// Whether `policy` lets a packet from the tunnel through. `dst_port` is
// ignored for protocols other than UDP (17) and TCP (6).
bool PolicyAllows(const GwPolicy& policy, std::uint8_t protocol, Ipv4Address destination,
                  std::uint16_t dst_port);

struct GwConfig {
  // [gateway]
  // listen: the external address(es) IKE and ESP-in-UDP are bound to (ports
  // 500 and 4500) — the only addresses the gateway advertises. At least one.
  std::vector<Ipv4Address> listen;
  std::uint16_t ike_port = ikev2::kIkePort;    // ike_port
  std::uint16_t natt_port = ikev2::kNattPort;  // natt_port
  IkeSettings ike;           // local_id, remote_id (any when absent), auth ...
  std::vector<GwPeerPsk> peers;  // [[peer]] (auth = "psk" only)
  std::size_t cookie_threshold = 10;  // half-open IKE SAs before COOKIEs (RFC 7296 2.6)
  LogLevel log_level = LogLevel::kInfo;
  std::string control_socket = "/run/mipsec/gw.sock";

  // [tia_pool]: range = "10.99.0.0/24" (host addresses) or
  // "10.99.0.10-10.99.0.200"; netmask (default: the prefix's, none for a
  // first-last range); dns (0..n addresses).
  Ipv4Address pool_first;
  Ipv4Address pool_last;
  std::optional<Ipv4Prefix> pool_prefix;   // when given as a prefix
  std::optional<Ipv4Address> pool_netmask;
  std::vector<Ipv4Address> pool_dns;

  // [intranet]: prefixes offered as TSr (at least one); the TUN device that
  // carries decrypted traffic to the intranet routing (tun, default
  // "mipsecgw0"; at most 15 characters), its MTU (tun_mtu, 576..9000,
  // default 1400).
  std::vector<Ipv4Prefix> intranet;
  std::string tun_name = "mipsecgw0";
  std::uint32_t tun_mtu = 1400;

  // [policy] (nullopt: no filtering beyond the traffic selectors).
  std::optional<GwPolicy> policy;
};

// ---- The client (initiator) ----

struct VpnClientConfig {
  // [client]
  Ipv4Address gateway;                         // gateway = "a.b.c.d" (required)
  std::uint16_t gateway_port = ikev2::kIkePort;  // gateway_port
  std::optional<Ipv4Address> local_address;    // local_address (default: routing decides)
  IkeSettings ike;             // local_id, remote_id (the gateway's, sent as IDr), auth ...
  bool request_virtual_ip = true;  // request_virtual_ip: ask for a TIA (CP)
  // routes: the prefixes put into the tunnel (TSr, and routes via the TUN);
  // at least one.
  std::vector<Ipv4Prefix> routes;
  std::string tun_name = "mipsecvpn0";  // tun
  std::uint32_t tun_mtu = 1400;         // tun_mtu
  LogLevel log_level = LogLevel::kInfo;
};

Result<GwConfig> ParseGwConfig(std::string_view text, std::string_view file,
                               const FileReader& read_file = ReadFileToString);
Result<GwConfig> LoadGwConfig(const std::string& path,
                              const FileReader& read_file = ReadFileToString);
Result<VpnClientConfig> ParseVpnClientConfig(std::string_view text, std::string_view file,
                                             const FileReader& read_file = ReadFileToString);
Result<VpnClientConfig> LoadVpnClientConfig(const std::string& path,
                                            const FileReader& read_file = ReadFileToString);

// ---- Mapping onto the IKE SA layer ----

// The gateway's PSKs by client identity: the [[peer]] entries, else the
// shared gateway.psk for any other identity. Copies the keys.
//
// Replace (a reload) swaps in another config's keys for every later Find.
// The IKE layer keeps the pointer Find returned for the IKE_AUTH exchange
// in progress, so the replaced keys are not freed but retired: they stay
// in memory (wiped at destruction) and are never found again.
class GwPskTable final : public ikev2::PskProvider {
 public:
  explicit GwPskTable(const GwConfig& config);
  GwPskTable(const GwPskTable&) = delete;
  GwPskTable& operator=(const GwPskTable&) = delete;
  const SecretBytes* Find(const ikev2::IdPayload& peer_id) const override;
  std::size_t size() const { return by_id_.size(); }
  void Replace(const GwConfig& config);

 private:
  using Table = std::map<std::pair<std::uint8_t, Bytes>, SecretBytes>;
  Table by_id_;
  std::unique_ptr<SecretBytes> shared_;  // empty: no shared key
  // Replaced tables (std::map moves keep their nodes, so pointers into
  // them stay valid) and shared keys.
  std::vector<Table> retired_tables_;
  std::vector<std::unique_ptr<SecretBytes>> retired_shared_;
};

// A reload of `mipsec gw` (SIGHUP): what changed between the running config
// and a freshly parsed one. Live: [[peer]] PSKs (added, removed, re-keyed;
// the peer kind is "client"), the shared gateway psk ("psk"), log_level —
// they apply to IKE SAs set up from now on; established IKE and CHILD SAs
// stay as they are. Everything else (listen, ports, identities, auth
// method, certificates and keys, proposals, lifetimes, DPD, MOBIKE, the TIA
// pool, intranet, TUN, [policy], cookie_threshold, control_socket) is
// restart-only: named in restart_only when it differs (certificates are
// not compared: with auth = "cert" the daemon says they are not reloaded).
ReloadDiff DiffGwConfig(const GwConfig& running, const GwConfig& loaded);
// `running` with the live keys of `loaded`: what the daemon applies.
GwConfig MergeGwReload(const GwConfig& running, const GwConfig& loaded);

// The responder PeerConfig of the gateway: identities, auth (certificates,
// or PSKs: the shared gateway.psk in both directions, or with [[peer]]
// entries the key of each client's IDi from `psks`), proposals, lifetimes,
// DPD, NAT keepalive; local_ts = the intranet prefixes (TSr), remote_ts =
// the TIA pool's range (narrowed to the client's TIA by the IKE SA when one
// is assigned; a client that asks for no TIA may only use pool addresses);
// no INITIAL_CONTACT (we never initiate). CP served from `pool` with the
// pool's netmask and DNS. `pool` and `psks` are not owned and must outlive
// the IKE SAs; kInvalidArgument when the config has [[peer]] entries and
// `psks` is null. With certificates, remote_auth.unix_time_offset is left
// unset (no validity-period check): the runtime sets it from its clocks
// (wall time - the `now` time base).
Result<ikev2::PeerConfig> ToResponderPeerConfig(const GwConfig& config,
                                                ikev2::AddressProvider* pool,
                                                const GwPskTable* psks);
// The initiator PeerConfig of the client: local_ts = 0.0.0.0/0 when
// requesting a virtual IP or without local_address (the responder narrows
// it), else local_address/32; remote_ts = routes; remote_id sent as IDr
// when configured.
ikev2::PeerConfig ToInitiatorPeerConfig(const VpnClientConfig& config);

// The gateway's address pool as configured in [tia_pool].
Result<ikev2::TiaPool> MakeTiaPool(const GwConfig& config);

}  // namespace mipsec::config

#endif  // MIPSEC_CONFIG_GW_CONFIG_H_
