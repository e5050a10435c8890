// StrongswanConfig: what one strongSwan (charon) test peer runs, and the
// strongswan.conf and swanctl.conf text generated from it.
//
// The description is deliberately small: the settings our interop tests need
// (addresses, PSK or certificate auth, proposals, virtual IP request or pool,
// traffic selectors, MOBIKE, forced UDP encapsulation, rekey times, DPD),
// plus raw escape hatches (`extra` lines) for anything else. Rendering needs
// no root and touches nothing; StrongswanPeer (strongswan_peer.h) writes the
// files and runs charon with them.
//
//   StrongswanConfig gw;
//   SwanConnection& rw = gw.AddConnection("rw");
//   rw.local_addrs = {"203.0.113.2"};
//   rw.local.id = "gw.example.org";
//   rw.remote.id = "%any";
//   rw.psk = "interop-test-psk";
//   rw.pool_addrs = "192.0.2.128/25";
//   rw.AddChild("net").local_ts = {"192.0.2.0/25"};
//
// Proposals use strongSwan's syntax verbatim ("aes128gcm16-prfsha256-x25519",
// "aes256-sha256-ecp256"). Every value is checked by Validate() (called by
// the renderers): names are [A-Za-z0-9_-], and no value may contain a
// newline, brace, quote or backslash, so nothing can break out of its line
// or section of the generated files.
#ifndef MIPSEC_LAB_STRONGSWAN_STRONGSWAN_CONFIG_H_
#define MIPSEC_LAB_STRONGSWAN_STRONGSWAN_CONFIG_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace mipsec::lab {

enum class SwanAuth {
  kPsk,     // pre-shared key (SwanConnection::psk), RFC 7296 2.15
  kPubkey,  // X.509 certificates (RSA or ECDSA), RFC 7427 signatures
};

// One side ("local" or "remote" section) of a connection.
struct SwanAuthRound {
  SwanAuth auth = SwanAuth::kPsk;
  // IKE identity (FQDN, user@fqdn, an address or a DN). Empty: local = our
  // IP address, remote = %any.
  std::string id;
  // kPubkey, local side: absolute paths of our certificate and its private
  // key (PEM). The key is copied into the peer's swanctl/private directory.
  std::string cert;
  std::string key;
  // kPubkey, remote side: absolute path of the CA certificate trusted for
  // the peer (empty: any loaded CA).
  std::string cacert;
};

struct SwanChild {
  std::string name;
  // Traffic selectors ("192.0.2.0/25", "dynamic", "0.0.0.0/0"). Empty:
  // dynamic (our address, or our virtual IP).
  std::vector<std::string> local_ts;
  std::vector<std::string> remote_ts;
  std::string esp_proposals = "aes128gcm16";
  std::string mode = "tunnel";
  // Seconds; 0 = never rekey. life_time_s 0 = strongSwan's default
  // (rekey_time * 1.1).
  int rekey_time_s = 0;
  int life_time_s = 0;
  std::string start_action = "none";  // none | trap | start
  std::string dpd_action = "clear";   // clear | trap | restart
  std::string close_action;           // empty: default (none)
  std::vector<std::string> extra;     // raw "key = value" lines for the child section
};

struct SwanConnection {
  std::string name;
  // Empty local_addrs: %any, the source follows routing (MOBIKE needs that).
  // Empty remote_addrs: %any (a responder).
  std::vector<std::string> local_addrs;
  std::vector<std::string> remote_addrs;
  std::string proposals = "aes128gcm16-prfsha256-x25519";
  SwanAuthRound local;
  SwanAuthRound remote;
  std::string psk;  // for kPsk; printable, no quotes or backslashes
  // Initiator: request an INTERNAL_IP4_ADDRESS (vips = 0.0.0.0).
  bool request_virtual_ip = false;
  // Responder: hand out virtual IPs from this range ("10.3.0.0/24" or
  // "10.3.0.10-10.3.0.20"); becomes pool "<name>_pool". Empty: no pool.
  std::string pool_addrs;
  std::vector<std::string> pool_dns;  // INTERNAL_IP4_DNS handed out with the pool
  bool mobike = true;
  // Force UDP encapsulation (fake NAT detection). Note: kernel-libipsec
  // already forces it, so with this harness ESP is always ESP-in-UDP.
  bool encap = false;
  int rekey_time_s = 0;   // IKE SA rekey; 0 = never
  int reauth_time_s = 0;  // 0 = never
  int over_time_s = 0;    // 0 = default (10% of rekey/reauth time)
  int dpd_delay_s = 0;    // 0 = no liveness checks
  int keyingtries = 1;
  std::string unique = "no";  // no | never | keep | replace
  bool send_certreq = false;
  std::vector<SwanChild> children;
  std::vector<std::string> extra;  // raw "key = value" lines for the connection section

  SwanChild& AddChild(std::string child_name);
};

struct StrongswanConfig {
  std::vector<SwanConnection> connections;
  // charon.filelog levels by subsystem ("default", "ike", "knl", "net",
  // "cfg", "enc", "mgr", ...), -1..4.
  std::map<std::string, int> log_levels = {{"default", 1}, {"ike", 2}, {"knl", 2},
                                           {"net", 1},     {"cfg", 1}, {"mgr", 0}};
  // charon.interfaces_use (e.g. "ext0": only these interfaces are used and
  // advertised by MOBIKE). Empty: all.
  std::string interfaces_use;
  // Plugins loaded after the standard list (e.g. "load-tester").
  std::vector<std::string> extra_plugins;
  // Raw lines added inside `charon { }` (e.g. "retransmit_tries = 3").
  std::vector<std::string> extra_charon;

  SwanConnection& AddConnection(std::string conn_name);
  const SwanConnection* FindConnection(std::string_view conn_name) const;

  // Checks names, values and per-auth requirements (PSK set for kPsk on
  // either side; cert+key for a kPubkey local side). kInvalidArgument naming
  // the connection, child and field.
  Status Validate() const;
};

// Where a peer's files live; all absolute.
struct SwanPaths {
  std::string run_dir;      // per-peer directory, removed at teardown
  std::string log;          // run_dir/charon.log
  std::string vici_socket;  // run_dir/charon.vici
  std::string swanctl_dir;  // run_dir/swanctl (swanctl.conf + credential dirs)

  static SwanPaths InDir(const std::string& run_dir);
  std::string vici_uri() const { return "unix://" + vici_socket; }
  std::string swanctl_conf() const { return swanctl_dir + "/swanctl.conf"; }
  std::string strongswan_conf() const { return run_dir + "/strongswan.conf"; }
};

// The plugins charon loads, in order. kernel-libipsec comes before
// kernel-netlink: the first registered kernel-ipsec backend wins (this kernel
// has no ESP, so the userspace one over a TUN must), while kernel-netlink
// still provides kernel-net (addresses, routes, roam events).
inline constexpr const char kSwanPlugins[] =
    "random nonce openssl pem pkcs1 pkcs8 x509 pubkey revocation constraints kdf attr "
    "kernel-libipsec kernel-netlink socket-default vici";

// A standalone strongswan.conf (no include of /etc/strongswan.d): explicit
// load list, journald off, filelog with time_add_ms, the vici socket in
// `paths`, and swanctl.socket pointing at it (swanctl does not read
// charon.plugins.vici.socket).
Result<std::string> RenderStrongswanConf(const StrongswanConfig& config, const SwanPaths& paths);

// swanctl.conf: connections, pools and secrets. `private_key_name(conn)` is
// the file name (in swanctl/private) the peer copies conn.local.key to; it is
// not referenced from the file (swanctl loads that directory), but secrets
// for PSK are: one entry per PSK connection, bound to its identities.
Result<std::string> RenderSwanctlConf(const StrongswanConfig& config);

// "<conn>.pem": the file name the local private key of `conn` gets in
// swanctl/private.
std::string SwanPrivateKeyFileName(std::string_view conn_name);

}  // namespace mipsec::lab

#endif  // MIPSEC_LAB_STRONGSWAN_STRONGSWAN_CONFIG_H_
