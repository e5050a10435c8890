#include "config/gw_config.h"

#include <gtest/gtest.h>

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "crypto/pki_test_util.h"
#include "ikev2/sa/traffic_selectors.h"
#include "config/fake_files_test_util.h"

namespace mipsec::config {
namespace {

using ikev2::AuthKind;
using ikev2::DhId;
using ikev2::EncrId;
using ikev2::EsnId;
using ikev2::IdPayload;
using ikev2::IdType;
using ikev2::IntegId;
using ikev2::PrfId;
using ikev2::Suite;

template <typename T>
concept Streamable = requires(std::ostream& os, const T& v) { os << v; };
static_assert(!Streamable<SecretBytes>);

std::string KeyHex(const SecretBytes& k) { return ToHex(k.Reveal()); }
Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }

constexpr char kPskHex[] = "00112233445566778899aabbccddeeff";

// [gateway] keys go first so that tests can append more gateway keys.
std::string Gw(const std::string& gateway_extra, const std::string& rest = "") {
  return std::string("[gateway]\nlisten = \"192.0.2.1\"\nlocal_id = \"fqdn:gw.example.com\"\n") +
         gateway_extra + rest +
         "\n[tia_pool]\nrange = \"10.99.0.0/24\"\n[intranet]\nprefixes = [\"10.1.0.0/16\"]\n";
}
std::string GwPsk(const std::string& extra = "", const std::string& rest = "") {
  return Gw(std::string("psk = \"") + kPskHex + "\"\n" + extra, rest);
}

std::string GwError(const std::string& text, FakeFiles* files = nullptr) {
  FakeFiles none;
  Result<GwConfig> r = ParseGwConfig(text, "gw.toml", (files ? files : &none)->Reader());
  return r.ok() ? "(parsed)" : r.error().detail();
}

GwConfig GwOk(const std::string& text, FakeFiles* files = nullptr) {
  FakeFiles none;
  Result<GwConfig> r = ParseGwConfig(text, "/etc/mipsec/gw.toml", (files ? files : &none)->Reader());
  EXPECT_TRUE(r.ok()) << r.error().ToString();
  return r.ok() ? std::move(r).value() : GwConfig{};
}

std::string Client(const std::string& extra) {
  return std::string("[client]\ngateway = \"192.0.2.1\"\nlocal_id = \"mn@example.com\"\n") +
         "routes = [\"10.1.0.0/16\"]\n" + extra;
}
std::string ClientPsk(const std::string& extra = "") {
  return Client(std::string("psk = \"") + kPskHex + "\"\n" + extra);
}
std::string ClientError(const std::string& text, FakeFiles* files = nullptr) {
  FakeFiles none;
  Result<VpnClientConfig> r =
      ParseVpnClientConfig(text, "vpn.toml", (files ? files : &none)->Reader());
  return r.ok() ? "(parsed)" : r.error().detail();
}

// ---- Examples ----

TEST(GwConfigExamplesTest, ExampleGatewayLoads) {
  Result<GwConfig> r = LoadGwConfig(MIPSEC_SOURCE_DIR "/examples/gw.toml");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const GwConfig& c = *r;
  ASSERT_EQ(c.listen.size(), 1u);
  EXPECT_EQ(c.listen[0], A("192.0.2.1"));
  EXPECT_EQ(c.ike.local_id, IdPayload::Fqdn("vpn.example.com"));
  EXPECT_EQ(c.ike.auth.kind, AuthKind::kPsk);
  EXPECT_EQ(c.ike.auth.psk.size(), 24u);
  ASSERT_EQ(c.peers.size(), 1u);
  EXPECT_EQ(c.peers[0].id, IdPayload::Rfc822("mn1@example.com"));
  EXPECT_EQ(KeyHex(c.peers[0].psk), "7f3a9c21e4b05d8816c2fa0e93d7b46a5c18e02f9b73d4a6");
  ASSERT_EQ(c.ike.ike_proposals.size(), 2u);
  EXPECT_EQ(c.ike.ike_proposals[0].dh(), DhId::kCurve25519);
  EXPECT_EQ(c.ike.ike_proposals[1].encr(), EncrId::kAesCbc);
  ASSERT_EQ(c.ike.esp_proposals.size(), 2u);
  EXPECT_EQ(c.ike.lifetimes.ike_soft, Duration::Seconds(3 * 3600));
  EXPECT_EQ(c.ike.lifetimes.child_hard, Duration::Seconds(3600));
  EXPECT_EQ(c.ike.dpd_interval, Duration::Seconds(30));
  EXPECT_EQ(c.ike.nat_keepalive, Duration::Seconds(20));
  EXPECT_EQ(c.pool_first, A("10.99.0.1"));
  EXPECT_EQ(c.pool_last, A("10.99.0.254"));
  EXPECT_EQ(c.pool_netmask, A("255.255.255.0"));
  ASSERT_EQ(c.pool_dns.size(), 1u);
  ASSERT_EQ(c.intranet.size(), 1u);
  EXPECT_EQ(c.tun_name, "mipsecgw0");
  ASSERT_TRUE(c.policy.has_value());
  EXPECT_EQ(c.policy->rules.size(), 3u);
  EXPECT_TRUE(PolicyAllows(*c.policy, 17, A("10.1.0.53"), 53));
  EXPECT_FALSE(PolicyAllows(*c.policy, 6, A("10.1.0.53"), 53));
}

TEST(GwConfigExamplesTest, ExampleClientLoads) {
  Result<VpnClientConfig> r = LoadVpnClientConfig(MIPSEC_SOURCE_DIR "/examples/vpn-client.toml");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const VpnClientConfig& c = *r;
  EXPECT_EQ(c.gateway, A("192.0.2.1"));
  EXPECT_EQ(c.gateway_port, 500);
  EXPECT_EQ(c.ike.local_id, IdPayload::Rfc822("mn1@example.com"));
  EXPECT_EQ(c.ike.remote_id, IdPayload::Fqdn("vpn.example.com"));
  EXPECT_EQ(KeyHex(c.ike.auth.psk), "7f3a9c21e4b05d8816c2fa0e93d7b46a5c18e02f9b73d4a6");
  EXPECT_TRUE(c.request_virtual_ip);
  ASSERT_EQ(c.routes.size(), 1u);
  EXPECT_EQ(c.routes[0].ToString(), "10.1.0.0/16");
  EXPECT_EQ(c.tun_name, "mipsecvpn0");
}

// ---- Identities and proposals ----

TEST(GwConfigIdentityTest, PrefixedAndGuessedForms) {
  EXPECT_EQ(*ParseIdentity("fqdn:gw.example.com"), IdPayload::Fqdn("gw.example.com"));
  EXPECT_EQ(*ParseIdentity("email:a@b.c"), IdPayload::Rfc822("a@b.c"));
  EXPECT_EQ(*ParseIdentity("ipv4:192.0.2.1"), IdPayload::Ipv4(A("192.0.2.1")));
  const Bytes kid = {0x0a, 0x1b};
  EXPECT_EQ(*ParseIdentity("keyid:0a1b"), IdPayload::KeyId(kid));
  EXPECT_EQ(*ParseIdentity("192.0.2.9"), IdPayload::Ipv4(A("192.0.2.9")));
  EXPECT_EQ(*ParseIdentity("x@y"), IdPayload::Rfc822("x@y"));
  EXPECT_EQ(*ParseIdentity("gw"), IdPayload::Fqdn("gw"));
  for (const char* s : {"fqdn:gw.example.com", "email:a@b.c", "ipv4:192.0.2.1", "keyid:0a1b"}) {
    EXPECT_EQ(IdentityToString(*ParseIdentity(s)), s);
  }
}

TEST(GwConfigIdentityTest, Errors) {
  EXPECT_EQ(ParseIdentity("").error().detail(), "empty");
  EXPECT_EQ(ParseIdentity("fqdn:").error().detail(), "empty fqdn value");
  EXPECT_EQ(ParseIdentity("ipv4:1.2.3").error().detail(), "'1.2.3' is not an IPv4 address");
  EXPECT_EQ(ParseIdentity("keyid:xyz").error().detail(), "'xyz' is not hexadecimal");
  EXPECT_EQ(ParseIdentity("dn:CN=x").error().detail(),
            "unknown type 'dn' (use fqdn:, ipv4:, email: or keyid:)");
}

TEST(GwConfigProposalTest, IkeProposals) {
  Suite s = *ParseIkeProposal("aes128gcm16-prfsha256-x25519");
  EXPECT_EQ(s, *Suite::ForIke(EncrId::kAesGcm16, 128, PrfId::kHmacSha2_256, std::nullopt,
                              DhId::kCurve25519));
  // The PRF follows the integrity algorithm when absent.
  EXPECT_EQ(*ParseIkeProposal("aes256-sha256-ecp256"),
            *Suite::ForIke(EncrId::kAesCbc, 256, PrfId::kHmacSha2_256,
                           IntegId::kHmacSha2_256_128, DhId::kEcp256));
  EXPECT_EQ(ParseIkeProposal("aes192-sha512-modp2048")->prf(), PrfId::kHmacSha2_512);
  EXPECT_EQ(ParseIkeProposal("aes128-sha384-prfsha256-ecp384")->integ(),
            IntegId::kHmacSha2_384_192);
  EXPECT_EQ(ParseIkeProposal("aes256gcm12-prfsha384-curve25519")->encr(), EncrId::kAesGcm12);
  EXPECT_EQ(ParseIkeProposal("aes128gcm-prfsha512-ecp521")->encr(), EncrId::kAesGcm16);
  EXPECT_EQ(ParseIkeProposal("aes128gcm8-prfsha256-modp8192")->dh(), DhId::kModp8192);
  for (const char* g : {"modp3072", "modp4096", "modp6144"}) {
    EXPECT_TRUE(ParseIkeProposal(std::string("aes128-sha256-") + g).ok()) << g;
  }
}

TEST(GwConfigProposalTest, EspProposals) {
  EXPECT_EQ(*ParseEspProposal("aes128gcm16"),
            *Suite::ForEsp(EncrId::kAesGcm16, 128, std::nullopt, std::nullopt, EsnId::kNoEsn));
  EXPECT_EQ(*ParseEspProposal("aes128-sha256"),
            *Suite::ForEsp(EncrId::kAesCbc, 128, IntegId::kHmacSha2_256_128, std::nullopt,
                           EsnId::kNoEsn));
  Suite pfs = *ParseEspProposal("aes256gcm16-ecp256-esn");
  EXPECT_EQ(pfs.dh(), DhId::kEcp256);
  EXPECT_EQ(pfs.esn(), EsnId::kEsn);
  EXPECT_EQ(ParseEspProposal("aes128gcm16-noesn")->esn(), EsnId::kNoEsn);
}

TEST(GwConfigProposalTest, ErrorsNameTheToken) {
  EXPECT_EQ(ParseIkeProposal("aes128-md5-x25519").error().detail(), "unsupported algorithm 'md5'");
  EXPECT_EQ(ParseIkeProposal("").error().detail(), "empty proposal");
  EXPECT_EQ(ParseIkeProposal("aes128--x25519").error().detail(), "empty algorithm between '-'");
  EXPECT_EQ(ParseIkeProposal("aes128-aes256-sha256-x25519").error().detail(),
            "two encryption algorithms ('aes128', 'aes256')");
  EXPECT_EQ(ParseIkeProposal("aes128-sha256-sha384-x25519").error().detail(),
            "two integrity algorithms ('sha256', 'sha384')");
  EXPECT_EQ(ParseIkeProposal("aes128gcm16-prfsha256-prfsha384-x25519").error().detail(),
            "two PRFs ('prfsha256', 'prfsha384')");
  EXPECT_EQ(ParseIkeProposal("aes128gcm16-prfsha256-x25519-ecp256").error().detail(),
            "two DH groups ('x25519', 'ecp256')");
  EXPECT_EQ(ParseEspProposal("aes128gcm16-esn-noesn").error().detail(),
            "two ESN settings ('esn', 'noesn')");
  EXPECT_EQ(ParseIkeProposal("sha256-x25519").error().detail(),
            "no encryption algorithm (e.g. aes128gcm16)");
  EXPECT_EQ(ParseIkeProposal("aes128gcm16-sha256-x25519").error().detail(),
            "'aes128gcm16' is AEAD and takes no integrity algorithm ('sha256')");
  EXPECT_EQ(ParseIkeProposal("aes128-x25519").error().detail(),
            "'aes128' needs an integrity algorithm (e.g. sha256)");
  EXPECT_EQ(ParseIkeProposal("aes128gcm16-x25519").error().detail(),
            "no PRF (an AEAD proposal needs one, e.g. prfsha256)");
  EXPECT_EQ(ParseIkeProposal("aes128gcm16-prfsha256").error().detail(),
            "no DH group (e.g. x25519)");
  EXPECT_EQ(ParseIkeProposal("aes128gcm16-prfsha256-x25519-esn").error().detail(),
            "'esn' is not allowed in an IKE proposal");
  EXPECT_EQ(ParseEspProposal("aes128gcm16-prfsha256").error().detail(),
            "'prfsha256' is not allowed in an ESP proposal");
  EXPECT_EQ(ParseEspProposal("aes512gcm16").error().detail(), "unsupported algorithm 'aes512gcm16'");
  EXPECT_EQ(ParseEspProposal("chacha20poly1305").error().detail(),
            "unsupported algorithm 'chacha20poly1305'");
}

// ---- The gateway: happy paths ----

TEST(GwConfigTest, MinimalGatewayDefaults) {
  GwConfig c = GwOk(GwPsk());
  EXPECT_EQ(c.ike_port, 500);
  EXPECT_EQ(c.natt_port, 4500);
  EXPECT_EQ(KeyHex(c.ike.auth.psk), kPskHex);
  EXPECT_FALSE(c.ike.remote_id.has_value());
  EXPECT_EQ(c.ike.ike_proposals, ikev2::DefaultIkeProposals());
  EXPECT_EQ(c.ike.esp_proposals, ikev2::DefaultEspProposals());
  EXPECT_EQ(c.ike.lifetimes.ike_soft, Duration::Seconds(3 * 3600));
  EXPECT_EQ(c.ike.lifetimes.ike_hard, Duration::Seconds(4 * 3600));
  EXPECT_EQ(c.ike.lifetimes.child_soft, Duration::Seconds(50 * 60));
  EXPECT_EQ(c.ike.lifetimes.child_hard, Duration::Seconds(3600));
  EXPECT_EQ(c.ike.dpd_interval, Duration::Seconds(30));
  EXPECT_EQ(c.ike.nat_keepalive, Duration::Seconds(20));
  EXPECT_FALSE(c.ike.force_encapsulation);
  EXPECT_TRUE(c.ike.fragmentation);
  EXPECT_TRUE(c.ike.mobike);
  EXPECT_TRUE(c.ike.mobike_return_routability);
  EXPECT_EQ(c.cookie_threshold, 10u);
  EXPECT_EQ(c.log_level, LogLevel::kInfo);
  EXPECT_EQ(c.control_socket, "/run/mipsec/gw.sock");
  EXPECT_EQ(c.pool_prefix->ToString(), "10.99.0.0/24");
  EXPECT_EQ(c.pool_netmask, A("255.255.255.0"));
  EXPECT_TRUE(c.pool_dns.empty());
  EXPECT_EQ(c.tun_name, "mipsecgw0");
  EXPECT_EQ(c.tun_mtu, 1400u);
  EXPECT_FALSE(c.policy.has_value());
  EXPECT_TRUE(c.peers.empty());
}

TEST(GwConfigTest, EveryGatewayKey) {
  GwConfig c = GwOk(GwPsk(
      "remote_id = \"email:mn@example.com\"\n"
      "ike_port = 1500\nnatt_port = 14500\n"
      "ike_proposals = \"aes256gcm16-prfsha384-ecp384\"\n"
      "esp_proposals = [\"aes256gcm16\", \"aes256-sha512\"]\n"
      "ike_soft_lifetime = \"1h\"\nike_hard_lifetime = \"off\"\n"
      "child_soft_lifetime = \"off\"\nchild_hard_lifetime = \"20m\"\n"
      "dpd_interval = \"off\"\nnat_keepalive = \"5s\"\n"
      "force_encapsulation = true\nfragmentation = false\nmobike = false\n"
      "mobike_return_routability = false\n"
      "cookie_threshold = 0\nlog_level = \"debug\"\ncontrol_socket = \"/tmp/gw.sock\"\n"));
  EXPECT_EQ(c.ike.remote_id, IdPayload::Rfc822("mn@example.com"));
  EXPECT_EQ(c.ike_port, 1500);
  EXPECT_EQ(c.natt_port, 14500);
  ASSERT_EQ(c.ike.ike_proposals.size(), 1u);
  EXPECT_EQ(c.ike.ike_proposals[0].ToString(), "aes256gcm16-prfsha384-ecp384");
  ASSERT_EQ(c.ike.esp_proposals.size(), 2u);
  EXPECT_EQ(c.ike.esp_proposals[1].integ(), IntegId::kHmacSha2_512_256);
  EXPECT_EQ(c.ike.lifetimes.ike_soft, Duration::Seconds(3600));
  EXPECT_TRUE(c.ike.lifetimes.ike_hard.IsInfinite());
  EXPECT_TRUE(c.ike.lifetimes.child_soft.IsInfinite());
  EXPECT_EQ(c.ike.lifetimes.child_hard, Duration::Seconds(1200));
  EXPECT_TRUE(c.ike.dpd_interval.IsInfinite());
  EXPECT_EQ(c.ike.nat_keepalive, Duration::Seconds(5));
  EXPECT_TRUE(c.ike.force_encapsulation);
  EXPECT_FALSE(c.ike.fragmentation);
  EXPECT_FALSE(c.ike.mobike);
  EXPECT_FALSE(c.ike.mobike_return_routability);
  EXPECT_EQ(c.cookie_threshold, 0u);
  EXPECT_EQ(c.log_level, LogLevel::kDebug);
  EXPECT_EQ(c.control_socket, "/tmp/gw.sock");
}

TEST(GwConfigTest, ListenSeveralAddresses) {
  GwConfig c = GwOk(
      "[gateway]\nlisten = [\"192.0.2.1\", \"198.51.100.1\"]\nlocal_id = \"gw\"\n"
      "psk = \"00112233445566778899aabbccddeeff\"\n"
      "[tia_pool]\nrange = \"10.99.0.0/24\"\n[intranet]\nprefixes = \"10.1.0.0/16\"\n");
  ASSERT_EQ(c.listen.size(), 2u);
  EXPECT_EQ(c.listen[1], A("198.51.100.1"));
}

TEST(GwConfigTest, PeersWithTheirOwnKeys) {
  FakeFiles files;
  files.files["/etc/mipsec/keys/b.psk"] = "  ffeeddccbbaa99887766554433221100\n";
  GwConfig c = GwOk(Gw("", "[[peer]]\nid = \"a@example.com\"\npsk = \"" + std::string(kPskHex) +
                              "\"\n[[peer]]\nid = \"fqdn:b\"\npsk_file = \"keys/b.psk\"\n"),
                    &files);
  ASSERT_EQ(c.peers.size(), 2u);
  EXPECT_TRUE(c.ike.auth.psk.empty());
  EXPECT_EQ(KeyHex(c.peers[1].psk), "ffeeddccbbaa99887766554433221100");
  EXPECT_EQ(c.peers[1].line, 7);
  GwPskTable table(c);
  ASSERT_NE(table.Find(IdPayload::Fqdn("b")), nullptr);
  EXPECT_EQ(KeyHex(*table.Find(IdPayload::Fqdn("b"))), "ffeeddccbbaa99887766554433221100");
  EXPECT_EQ(table.Find(IdPayload::Fqdn("c")), nullptr);  // no shared key
  // With a shared key, unknown identities get it.
  GwConfig shared = GwOk(GwPsk("", "[[peer]]\nid = \"fqdn:b\"\npsk = \"ffeeddccbbaa99887766554433221100\"\n"));
  GwPskTable shared_table(shared);
  EXPECT_EQ(KeyHex(*shared_table.Find(IdPayload::Fqdn("c"))), kPskHex);
  EXPECT_EQ(KeyHex(*shared_table.Find(IdPayload::Fqdn("b"))), "ffeeddccbbaa99887766554433221100");
}

TEST(GwConfigReloadTest, ReplacedKeysAreRetiredNotFreed) {
  GwConfig a = GwOk(GwPsk("", "[[peer]]\nid = \"fqdn:b\"\npsk = \"ffeeddccbbaa99887766554433221100\"\n"));
  GwPskTable table(a);
  const SecretBytes* held = table.Find(IdPayload::Fqdn("b"));  // an IKE_AUTH in progress
  const SecretBytes* shared = table.Find(IdPayload::Fqdn("x"));
  ASSERT_NE(held, nullptr);
  ASSERT_NE(shared, nullptr);
  GwConfig b = GwOk(Gw("", "[[peer]]\nid = \"fqdn:c\"\npsk = \"" + std::string(kPskHex) + "\"\n"));
  table.Replace(b);
  EXPECT_EQ(table.Find(IdPayload::Fqdn("b")), nullptr);  // removed, and no shared key now
  ASSERT_NE(table.Find(IdPayload::Fqdn("c")), nullptr);
  EXPECT_EQ(KeyHex(*table.Find(IdPayload::Fqdn("c"))), kPskHex);
  // The pointers handed out before still read the old keys.
  EXPECT_EQ(KeyHex(*held), "ffeeddccbbaa99887766554433221100");
  EXPECT_EQ(KeyHex(*shared), kPskHex);
}

TEST(GwConfigReloadTest, DiffAndMerge) {
  const std::string peer_b = "[[peer]]\nid = \"fqdn:b\"\npsk = \"ffeeddccbbaa99887766554433221100\"\n";
  const std::string peer_b2 = "[[peer]]\nid = \"fqdn:b\"\npsk = \"aaeeddccbbaa99887766554433221100\"\n";
  const std::string peer_c = "[[peer]]\nid = \"fqdn:c\"\npsk = \"bbeeddccbbaa99887766554433221100\"\n";
  GwConfig a = GwOk(GwPsk("", peer_b));
  GwConfig same = GwOk(GwPsk("", peer_b));
  EXPECT_TRUE(DiffGwConfig(a, same).empty());
  GwConfig b = GwOk(GwPsk("log_level = \"debug\"\nike_port = 5000\n", peer_b2 + peer_c));
  ReloadDiff d = DiffGwConfig(a, b);
  EXPECT_EQ(d.peers_added, 1);
  EXPECT_EQ(d.peers_rekeyed, 1);
  EXPECT_EQ(d.peers_removed, 0);
  EXPECT_EQ(d.changed, (std::vector<std::string>{"log_level"}));
  EXPECT_EQ(d.restart_only, (std::vector<std::string>{"ike_port"}));
  EXPECT_EQ(d.Summary("client"),
            "1 client added, 1 client re-keyed; changed: log_level; not applied (restart "
            "needed): ike_port");
  GwConfig m = MergeGwReload(a, b);
  EXPECT_EQ(m.ike_port, a.ike_port);
  EXPECT_EQ(m.log_level, LogLevel::kDebug);
  ASSERT_EQ(m.peers.size(), 2u);
  EXPECT_TRUE(DiffGwConfig(a, m).restart_only.empty());
  // Removing every peer and the pool changing.
  GwConfig c = GwOk(
      "[gateway]\nlisten = \"192.0.2.1\"\nlocal_id = \"fqdn:gw.example.com\"\npsk = \"" +
      std::string(kPskHex) + "\"\n[tia_pool]\nrange = \"10.98.0.0/24\"\n[intranet]\nprefixes = "
      "[\"10.1.0.0/16\"]\n");
  ReloadDiff e = DiffGwConfig(a, c);
  EXPECT_EQ(e.peers_removed, 1);
  EXPECT_EQ(e.restart_only, (std::vector<std::string>{"tia_pool"}));
}

TEST(GwConfigTest, PskFileRelativeAndAbsolute) {
  FakeFiles files;
  files.files["/etc/mipsec/gw.psk"] = std::string(kPskHex) + "\n";
  files.files["/keys/gw.psk"] = kPskHex;
  GwConfig c = GwOk(Gw("psk_file = \"gw.psk\"\n"), &files);
  EXPECT_EQ(KeyHex(c.ike.auth.psk), kPskHex);
  GwConfig d = GwOk(Gw("psk_file = \"/keys/gw.psk\"\n"), &files);
  EXPECT_EQ(KeyHex(d.ike.auth.psk), kPskHex);
  EXPECT_EQ(files.asked, (std::vector<std::string>{"/etc/mipsec/gw.psk", "/keys/gw.psk"}));
}

TEST(GwConfigTest, PoolRangeNetmaskDns) {
  GwConfig c = GwOk(
      "[gateway]\nlisten = \"192.0.2.1\"\nlocal_id = \"gw\"\npsk = \"" + std::string(kPskHex) +
      "\"\n[tia_pool]\nrange = \"10.99.0.10-10.99.0.20\"\nnetmask = \"255.255.255.0\"\n"
      "dns = [\"10.1.0.53\", \"10.1.0.54\"]\n[intranet]\nprefixes = [\"10.1.0.0/16\"]\n");
  EXPECT_EQ(c.pool_first, A("10.99.0.10"));
  EXPECT_EQ(c.pool_last, A("10.99.0.20"));
  EXPECT_FALSE(c.pool_prefix.has_value());
  EXPECT_EQ(c.pool_netmask, A("255.255.255.0"));
  ASSERT_EQ(c.pool_dns.size(), 2u);
  EXPECT_EQ(c.pool_dns[1], A("10.1.0.54"));
  Result<ikev2::TiaPool> pool = MakeTiaPool(c);
  ASSERT_TRUE(pool.ok());
  EXPECT_EQ(pool->size(), 11u);
  // No netmask for a range unless given.
  GwConfig d = GwOk(
      "[gateway]\nlisten = \"192.0.2.1\"\nlocal_id = \"gw\"\npsk = \"" + std::string(kPskHex) +
      "\"\n[tia_pool]\nrange = \"10.99.0.10-10.99.0.20\"\n[intranet]\nprefixes = \"10.1.0.0/16\"\n");
  EXPECT_FALSE(d.pool_netmask.has_value());
}

TEST(GwConfigTest, IntranetTunAndPolicy) {
  GwConfig c = GwOk(
      "[gateway]\nlisten = \"192.0.2.1\"\nlocal_id = \"gw\"\npsk = \"" + std::string(kPskHex) +
      "\"\n[tia_pool]\nrange = \"10.99.0.0/24\"\n"
      "[intranet]\nprefixes = [\"10.1.0.0/16\", \"172.16.0.0/12\"]\ntun = \"gw7\"\ntun_mtu = 1280\n"
      "[policy]\ni_ha = [\"10.1.0.1\", \"172.16.0.1\"]\n"
      "[[policy.allow]]\nproto = \"tcp\"\nprefix = \"10.1.2.0/24\"\nport = \"8000-8080\"\n"
      "[[policy.allow]]\nproto = \"icmp\"\nprefix = \"10.1.0.0/16\"\n"
      "[[policy.allow]]\nproto = 50\nprefix = \"172.16.0.9\"\n"
      "[[policy.allow]]\nprefix = \"172.16.5.0/24\"\n");
  ASSERT_EQ(c.intranet.size(), 2u);
  EXPECT_EQ(c.tun_name, "gw7");
  EXPECT_EQ(c.tun_mtu, 1280u);
  ASSERT_TRUE(c.policy);
  const GwPolicy& p = *c.policy;
  ASSERT_EQ(p.rules.size(), 8u);
  EXPECT_EQ(p.rules[0], (AllowRule{17, Ipv4Prefix::Host(A("10.1.0.1")), 434, 434}));
  EXPECT_EQ(p.rules[1], (AllowRule{4, Ipv4Prefix::Host(A("10.1.0.1")), 0, 0xffff}));
  EXPECT_EQ(p.rules[2], (AllowRule{17, Ipv4Prefix::Host(A("172.16.0.1")), 434, 434}));
  EXPECT_EQ(p.rules[4], (AllowRule{6, *Ipv4Prefix::Parse("10.1.2.0/24"), 8000, 8080}));
  EXPECT_EQ(p.rules[6], (AllowRule{50, Ipv4Prefix::Host(A("172.16.0.9")), 0, 0xffff}));
  EXPECT_EQ(p.rules[7], (AllowRule{0, *Ipv4Prefix::Parse("172.16.5.0/24"), 0, 0xffff}));
  // RFC 5265 4.2 defaults.
  EXPECT_TRUE(PolicyAllows(p, 17, A("10.1.0.1"), 434));
  EXPECT_FALSE(PolicyAllows(p, 17, A("10.1.0.1"), 435));
  EXPECT_TRUE(PolicyAllows(p, 4, A("172.16.0.1"), 0));
  EXPECT_FALSE(PolicyAllows(p, 4, A("10.1.0.2"), 0));
  EXPECT_FALSE(PolicyAllows(p, 6, A("10.1.0.1"), 434));
  // Extra entries.
  EXPECT_TRUE(PolicyAllows(p, 6, A("10.1.2.3"), 8080));
  EXPECT_FALSE(PolicyAllows(p, 6, A("10.1.2.3"), 8081));
  EXPECT_TRUE(PolicyAllows(p, 1, A("10.1.9.9"), 0));
  EXPECT_TRUE(PolicyAllows(p, 50, A("172.16.0.9"), 0));
  EXPECT_TRUE(PolicyAllows(p, 17, A("172.16.5.200"), 9));
  EXPECT_FALSE(PolicyAllows(p, 17, A("172.16.6.1"), 9));
}

// Certificates: generated at test time and served by the fake file reader.
struct Pki {
  crypto::PrivateKey ca_key = crypto::testing::NewKey(crypto::KeyType::kEcP256);
  std::string ca_pem = crypto::testing::MakeCertPem({.cn = "ca", .ca = true}, ca_key, nullptr, ca_key);
  crypto::Certificate ca = crypto::Certificate::AllFromPem(ca_pem).value()[0];
  std::string key_pem = crypto::testing::NewKeyPem(crypto::KeyType::kEcP256);
  crypto::PrivateKey key = crypto::PrivateKey::FromPem(key_pem).value();
  std::string cert_pem =
      crypto::testing::MakeCertPem({.cn = "gw", .dns = {"gw.example.com"}, .serial = 2}, key, &ca, ca_key);
  FakeFiles files;
  Pki() {
    files.files["/etc/mipsec/gw.pem"] = cert_pem + ca_pem;  // leaf + one more
    files.files["/etc/mipsec/gw.key"] = key_pem;
    files.files["/etc/mipsec/ca.pem"] = ca_pem;
    files.files["/etc/mipsec/other.key"] = crypto::testing::NewKeyPem(crypto::KeyType::kEcP256);
    files.files["/etc/mipsec/junk.pem"] = "not pem";
    // The same files for configs named without a directory.
    const std::map<std::string, std::string> abs = files.files;
    for (const auto& [path, text] : abs) files.files[path.substr(std::string("/etc/mipsec/").size())] = text;
  }
};

constexpr char kCertKeys[] =
    "auth = \"cert\"\ncertificate = \"gw.pem\"\nprivate_key = \"gw.key\"\nca = \"ca.pem\"\n";

TEST(GwConfigTest, CertificateAuth) {
  Pki pki;
  GwConfig c = GwOk(Gw(std::string(kCertKeys) + "rsa_pss = true\n"), &pki.files);
  EXPECT_EQ(c.ike.auth.kind, AuthKind::kCertificate);
  ASSERT_TRUE(c.ike.auth.certificate);
  EXPECT_NE(c.ike.auth.certificate->SubjectText().find("CN=gw"), std::string::npos);
  EXPECT_EQ(c.ike.auth.certificate->DnsNames(), std::vector<std::string>{"gw.example.com"});
  ASSERT_EQ(c.ike.auth.intermediates.size(), 1u);
  EXPECT_EQ(c.ike.auth.intermediates[0], pki.ca);
  ASSERT_TRUE(c.ike.auth.private_key);
  ASSERT_EQ(c.ike.auth.trust_anchors.size(), 1u);
  EXPECT_EQ(c.ike.auth.trust_anchors[0], pki.ca);
  EXPECT_TRUE(c.ike.auth.rsa_pss);
  EXPECT_TRUE(c.ike.auth.psk.empty());

  ikev2::TiaPool pool = *MakeTiaPool(c);
  Result<ikev2::PeerConfig> pc = ToResponderPeerConfig(c, &pool, nullptr);
  ASSERT_TRUE(pc.ok());
  EXPECT_EQ(pc->local_auth.kind, AuthKind::kCertificate);
  EXPECT_EQ(pc->local_auth.certificate, c.ike.auth.certificate);
  EXPECT_EQ(pc->remote_auth.trust_anchors.size(), 1u);
  EXPECT_TRUE(pc->local_auth.rsa_pss);
}

// ---- The gateway: every error ----

TEST(GwConfigErrorTest, Structure) {
  EXPECT_EQ(GwError("[gateway").rfind("gw.toml:1: TOML syntax: ", 0), 0u);
  EXPECT_EQ(GwError(""), "gw.toml:1: gateway: missing (required table [gateway])");
  EXPECT_EQ(GwError(GwPsk() + "[extra]\n"), "gw.toml:10: extra: unknown key (expected one of: gateway, peer, tia_pool, intranet, policy)");
  EXPECT_EQ(GwError(GwPsk("colour = 1\n")).rfind("gw.toml:5: gateway.colour: unknown key (expected one of: local_id, remote_id, ", 0), 0u);
  EXPECT_EQ(GwError("[gateway]\nlisten = \"192.0.2.1\"\nlocal_id = \"gw\"\npsk = \"" +
                    std::string(kPskHex) + "\"\n[intranet]\nprefixes = \"10.1.0.0/16\"\n"),
            "gw.toml:1: tia_pool: missing (required table [tia_pool])");
  EXPECT_EQ(GwError("[gateway]\nlisten = \"192.0.2.1\"\nlocal_id = \"gw\"\npsk = \"" +
                    std::string(kPskHex) + "\"\n[tia_pool]\nrange = \"10.99.0.0/24\"\n"),
            "gw.toml:1: intranet: missing (required table [intranet])");
}

TEST(GwConfigErrorTest, GatewayKeys) {
  EXPECT_EQ(GwError("[gateway]\nlocal_id = \"gw\"\n"),
            "gw.toml:1: gateway.listen: missing (required: the gateway's external address(es))");
  EXPECT_EQ(GwError("[gateway]\nlisten = []\n"),
            "gw.toml:2: gateway.listen: missing (required: the gateway's external address(es))");
  EXPECT_EQ(GwError("[gateway]\nlisten = \"192.0.2\"\n"),
            "gw.toml:2: gateway.listen[0]: '192.0.2' is not an IPv4 address (a.b.c.d)");
  EXPECT_EQ(GwError("[gateway]\nlisten = [\"192.0.2.1\", \"224.0.0.1\"]\n"),
            "gw.toml:2: gateway.listen[1]: 224.0.0.1 is not a unicast address");
  EXPECT_EQ(GwError("[gateway]\nlisten = [\"192.0.2.1\", \"192.0.2.1\"]\n"),
            "gw.toml:2: gateway.listen[1]: 192.0.2.1 is listed twice");
  EXPECT_EQ(GwError(GwPsk("ike_port = 0\n")), "gw.toml:5: gateway.ike_port: 0 is outside 1..65535");
  EXPECT_EQ(GwError(GwPsk("natt_port = 500\n")),
            "gw.toml:5: gateway.natt_port: ike_port and natt_port must differ");
  EXPECT_EQ(GwError("[gateway]\nlisten = \"192.0.2.1\"\n"),
            "gw.toml:1: gateway.local_id: missing (required)");
  EXPECT_EQ(GwError("[gateway]\nlisten = \"192.0.2.1\"\nlocal_id = \"ipv4:x\"\n"),
            "gw.toml:3: gateway.local_id: 'ipv4:x' is not an identity: 'x' is not an IPv4 address");
  EXPECT_EQ(GwError(GwPsk("remote_id = \"\"\n")),
            "gw.toml:5: gateway.remote_id: '' is not an identity: empty");
  EXPECT_EQ(GwError(GwPsk("cookie_threshold = -1\n")),
            "gw.toml:5: gateway.cookie_threshold: -1 is outside 0..1000000");
  EXPECT_EQ(GwError(GwPsk("log_level = \"loud\"\n")),
            "gw.toml:5: gateway.log_level: 'loud' is not one of trace, debug, info, notice, "
            "warning, error, off");
  EXPECT_EQ(GwError(GwPsk("control_socket = \"\"\n")),
            "gw.toml:5: gateway.control_socket: must be 1 to 107 bytes (a Unix socket path)");
}

TEST(GwConfigErrorTest, Proposals) {
  EXPECT_EQ(GwError(GwPsk("ike_proposals = [\"aes128gcm16-prfsha256-x25519\", \"aes128-md5-x25519\"]\n")),
            "gw.toml:5: gateway.ike_proposals[1]: 'aes128-md5-x25519': unsupported algorithm 'md5'");
  EXPECT_EQ(GwError(GwPsk("esp_proposals = [\"aes128gcm16\", \"aes128gcm16\"]\n")),
            "gw.toml:5: gateway.esp_proposals[1]: 'aes128gcm16' is listed twice");
  EXPECT_EQ(GwError(GwPsk("esp_proposals = []\n")),
            "gw.toml:5: gateway.esp_proposals: must not be empty");
  EXPECT_EQ(GwError(GwPsk("esp_proposals = \"aes128-sha256-prfsha256\"\n")),
            "gw.toml:5: gateway.esp_proposals[0]: 'aes128-sha256-prfsha256': 'prfsha256' is not "
            "allowed in an ESP proposal");
}

TEST(GwConfigErrorTest, Durations) {
  EXPECT_EQ(GwError(GwPsk("dpd_interval = \"soon\"\n")),
            "gw.toml:5: gateway.dpd_interval: 'soon' is not a duration (e.g. 30s, 1h) or off");
  EXPECT_EQ(GwError(GwPsk("nat_keepalive = \"0s\"\n")),
            "gw.toml:5: gateway.nat_keepalive: must be positive (or off)");
  EXPECT_EQ(GwError(GwPsk("ike_soft_lifetime = \"5h\"\n")),
            "gw.toml:5: gateway.ike_soft_lifetime: ike_soft_lifetime 5h must be below "
            "ike_hard_lifetime 4h");
  EXPECT_EQ(GwError(GwPsk("child_hard_lifetime = \"10m\"\n")),
            "gw.toml:5: gateway.child_hard_lifetime: child_soft_lifetime 50m must be below "
            "child_hard_lifetime 10m");
  EXPECT_EQ(GwError(GwPsk("force_encapsulation = \"yes\"\n")),
            "gw.toml:5: gateway.force_encapsulation: must be true or false");
}

TEST(GwConfigErrorTest, PskAuth) {
  EXPECT_EQ(GwError(Gw("")),
            "gw.toml:1: gateway.psk: missing (required with auth = \"psk\": psk or psk_file)");
  EXPECT_EQ(GwError(Gw("auth = \"eap\"\n")), "gw.toml:4: gateway.auth: 'eap' is not one of psk, cert");
  EXPECT_EQ(GwError(Gw("psk = \"0011\"\n")),
            "gw.toml:4: gateway.psk: 2 bytes; a PSK needs at least 16 (the value is not shown)");
  EXPECT_EQ(GwError(Gw("psk = \"secret-secret-secret\"\n")),
            "gw.toml:4: gateway.psk: is not hexadecimal (the value is not shown)");
  EXPECT_EQ(GwError(Gw("psk = 5\n")), "gw.toml:4: gateway.psk: must be a string");
  EXPECT_EQ(GwError(GwPsk("psk_file = \"x\"\n")),
            "gw.toml:5: gateway.psk_file: give either psk or psk_file, not both");
  EXPECT_EQ(GwError(Gw("psk_file = \"\"\n")), "gw.toml:4: gateway.psk_file: must not be empty");
  EXPECT_EQ(GwError(Gw("psk_file = \"k.psk\"\n")),
            "gw.toml:4: gateway.psk_file: cannot read 'k.psk': No such file");
  FakeFiles files;
  files.files["bad.psk"] = "zz\n";
  EXPECT_EQ(GwError(Gw("psk_file = \"bad.psk\"\n"), &files),
            "gw.toml:4: gateway.psk_file 'bad.psk': is not hexadecimal (the value is not shown)");
  EXPECT_EQ(GwError(GwPsk("certificate = \"gw.pem\"\n")),
            "gw.toml:5: gateway.certificate: only with auth = \"cert\"");
  EXPECT_EQ(GwError(GwPsk("rsa_pss = true\n")),
            "gw.toml:5: gateway.rsa_pss: only with auth = \"cert\"");
}

TEST(GwConfigErrorTest, Peers) {
  const std::string psk = std::string("psk = \"") + kPskHex + "\"\n";
  EXPECT_EQ(GwError(GwPsk("", "[[peer]]\npsk = \"" + std::string(kPskHex) + "\"\n")),
            "gw.toml:5: peer[0].id: missing (required)");
  EXPECT_EQ(GwError(GwPsk("", "[[peer]]\nid = \"a\"\n")),
            "gw.toml:5: peer[0].psk: missing (required: psk or psk_file)");
  EXPECT_EQ(GwError(GwPsk("", "[[peer]]\nid = \"a\"\n" + psk + "colour = 2\n")),
            "gw.toml:8: peer[0].colour: unknown key (expected one of: id, psk, psk_file)");
  EXPECT_EQ(GwError(GwPsk("", "[[peer]]\nid = \"a\"\n" + psk + "[[peer]]\nid = \"fqdn:a\"\n" + psk)),
            "gw.toml:9: peer[1].id: same identity as peer[0] (line 5)");
  Pki pki;
  EXPECT_EQ(GwError(Gw(kCertKeys, "[[peer]]\nid = \"a\"\n" + psk), &pki.files),
            "gw.toml:8: peer[0]: [[peer]] PSKs only with gateway.auth = \"psk\"");
}

TEST(GwConfigErrorTest, CertificateAuth) {
  Pki pki;
  auto err = [&](const std::string& keys) {
    Result<GwConfig> r = ParseGwConfig(Gw(keys), "/etc/mipsec/gw.toml", pki.files.Reader());
    return r.ok() ? std::string("(parsed)") : r.error().detail();
  };
  EXPECT_EQ(err("auth = \"cert\"\n"),
            "/etc/mipsec/gw.toml:1: gateway.certificate: missing (required with auth = \"cert\")");
  EXPECT_EQ(err("auth = \"cert\"\ncertificate = \"gw.pem\"\n"),
            "/etc/mipsec/gw.toml:1: gateway.private_key: missing (required with auth = \"cert\")");
  EXPECT_EQ(err("auth = \"cert\"\ncertificate = \"gw.pem\"\nprivate_key = \"gw.key\"\n"),
            "/etc/mipsec/gw.toml:1: gateway.ca: missing (required with auth = \"cert\": CA "
            "certificate files)");
  EXPECT_EQ(err(std::string(kCertKeys) + "psk = \"" + kPskHex + "\"\n"),
            "/etc/mipsec/gw.toml:8: gateway.psk: only with auth = \"psk\"");
  EXPECT_EQ(err("auth = \"cert\"\ncertificate = \"nope.pem\"\n"),
            "/etc/mipsec/gw.toml:5: gateway.certificate: cannot read '/etc/mipsec/nope.pem': No "
            "such file");
  EXPECT_EQ(err("auth = \"cert\"\ncertificate = \"junk.pem\"\n").rfind(
                "/etc/mipsec/gw.toml:5: gateway.certificate: 'junk.pem': no usable certificate: ",
                0),
            0u);
  EXPECT_EQ(err("auth = \"cert\"\ncertificate = \"gw.pem\"\nprivate_key = \"junk.pem\"\n")
                .rfind("/etc/mipsec/gw.toml:6: gateway.private_key: 'junk.pem': not a usable "
                       "private key: ",
                       0),
            0u);
  EXPECT_EQ(err("auth = \"cert\"\ncertificate = \"gw.pem\"\nprivate_key = \"other.key\"\n"),
            "/etc/mipsec/gw.toml:6: gateway.private_key: 'other.key' does not match the "
            "certificate " +
                crypto::Certificate::AllFromPem(pki.cert_pem).value()[0].SubjectText());
  EXPECT_EQ(err("auth = \"cert\"\ncertificate = \"gw.pem\"\nprivate_key = \"gw.key\"\n"
                "ca = [\"ca.pem\", \"junk.pem\"]\n")
                .rfind("/etc/mipsec/gw.toml:7: gateway.ca[1]: 'junk.pem': no usable certificate: ",
                       0),
            0u);
  EXPECT_EQ(err("auth = \"cert\"\ncertificate = \"gw.pem\"\nprivate_key = \"gw.key\"\n"
                "ca = [\"ca.pem\", \"gone.pem\"]\n"),
            "/etc/mipsec/gw.toml:7: gateway.ca[1]: cannot read '/etc/mipsec/gone.pem': No such "
            "file");
}

TEST(GwConfigErrorTest, TiaPool) {
  auto pool = [](const std::string& keys) {
    return GwError("[gateway]\nlisten = \"192.0.2.1\"\nlocal_id = \"gw\"\npsk = \"" +
                   std::string(kPskHex) + "\"\n[tia_pool]\n" + keys +
                   "[intranet]\nprefixes = \"10.1.0.0/16\"\n");
  };
  EXPECT_EQ(pool(""), "gw.toml:5: tia_pool.range: missing (required)");
  EXPECT_EQ(pool("range = \"10.99.0.1/24\"\n"),
            "gw.toml:6: tia_pool.range: '10.99.0.1/24' is not a prefix a.b.c.d/len or a range "
            "first-last");
  EXPECT_EQ(pool("range = \"10.99.0.1-10.99.0\"\n"),
            "gw.toml:6: tia_pool.range: '10.99.0.1-10.99.0' is not a prefix a.b.c.d/len or a "
            "range first-last");
  EXPECT_EQ(pool("range = \"10.99.0.9-10.99.0.1\"\n"),
            "gw.toml:6: tia_pool.range: empty range 10.99.0.9-10.99.0.1 (first > last)");
  EXPECT_EQ(pool("range = \"10.0.0.0/7\"\n"),
            "gw.toml:6: tia_pool.range: 10.0.0.0/7 is shorter than /8 (more than 2^24 addresses)");
  EXPECT_EQ(pool("range = \"224.0.0.1-224.0.0.9\"\n"),
            "gw.toml:6: tia_pool.range: 224.0.0.1 is not a unicast address");
  EXPECT_EQ(pool("range = \"10.99.0.0/24\"\nnetmask = \"255.0.255.0\"\n"),
            "gw.toml:7: tia_pool.netmask: 255.0.255.0 is not a netmask (ones, then zeros)");
  EXPECT_EQ(pool("range = \"10.99.0.0/24\"\nnetmask = \"x\"\n"),
            "gw.toml:7: tia_pool.netmask: 'x' is not a netmask (a.b.c.d)");
  EXPECT_EQ(pool("range = \"10.99.0.0/24\"\ndns = [\"10.1.0.53\", \"0.0.0.0\"]\n"),
            "gw.toml:7: tia_pool.dns[1]: 0.0.0.0 is not a unicast address");
  EXPECT_EQ(pool("range = \"10.99.0.0/24\"\nwins = \"10.1.0.1\"\n"),
            "gw.toml:7: tia_pool.wins: unknown key (expected one of: range, netmask, dns)");
}

TEST(GwConfigErrorTest, IntranetAndPolicy) {
  auto net = [](const std::string& rest) {
    return GwError("[gateway]\nlisten = \"192.0.2.1\"\nlocal_id = \"gw\"\npsk = \"" +
                   std::string(kPskHex) + "\"\n[tia_pool]\nrange = \"10.99.0.0/24\"\n" + rest);
  };
  EXPECT_EQ(net("[intranet]\n"),
            "gw.toml:7: intranet.prefixes: missing (required: at least one prefix)");
  EXPECT_EQ(net("[intranet]\nprefixes = [\"10.1.0.1/16\"]\n"),
            "gw.toml:8: intranet.prefixes[0]: '10.1.0.1/16' is not a prefix a.b.c.d/len without "
            "host bits");
  EXPECT_EQ(net("[intranet]\nprefixes = [\"10.1.0.0/16\", \"10.1.0.0/16\"]\n"),
            "gw.toml:8: intranet.prefixes[1]: 10.1.0.0/16 is listed twice");
  EXPECT_EQ(net("[intranet]\nprefixes = \"10.1.0.0/16\"\ntun = \"a-very-long-name0\"\n"),
            "gw.toml:9: intranet.tun: 'a-very-long-name0' is not an interface name (1 to 15 "
            "characters, no '/', ':' or spaces)");
  EXPECT_EQ(net("[intranet]\nprefixes = \"10.1.0.0/16\"\ntun = \"a/b\"\n"),
            "gw.toml:9: intranet.tun: 'a/b' is not an interface name (1 to 15 characters, no "
            "'/', ':' or spaces)");
  EXPECT_EQ(net("[intranet]\nprefixes = \"10.1.0.0/16\"\ntun_mtu = 100\n"),
            "gw.toml:9: intranet.tun_mtu: 100 is outside 576..9000");
  const std::string in = "[intranet]\nprefixes = \"10.1.0.0/16\"\n";
  EXPECT_EQ(net(in + "[policy]\n"),
            "gw.toml:9: policy.i_ha: missing (required: the internal home agent address(es))");
  EXPECT_EQ(net(in + "[policy]\ni_ha = [\"10.1.0.1\", \"10.2.0.1\"]\n"),
            "gw.toml:10: policy.i_ha[1]: 10.2.0.1 is not inside any intranet.prefixes entry");
  EXPECT_EQ(net(in + "[policy]\ni_ha = \"10.1.0.1\"\nfoo = 1\n"),
            "gw.toml:11: policy.foo: unknown key (expected one of: i_ha, allow)");
  const std::string pol = in + "[policy]\ni_ha = \"10.1.0.1\"\n[[policy.allow]]\n";
  EXPECT_EQ(net(pol), "gw.toml:11: policy.allow[0].prefix: missing (required)");
  EXPECT_EQ(net(pol + "prefix = \"10.1.0.0/33\"\n"),
            "gw.toml:12: policy.allow[0].prefix: '10.1.0.0/33' is not an address or a prefix "
            "a.b.c.d/len without host bits");
  EXPECT_EQ(net(pol + "prefix = \"10.1.0.0/16\"\nproto = \"sctp\"\n"),
            "gw.toml:13: policy.allow[0].proto: 'sctp' is not one of any, icmp, ipip, tcp, udp "
            "or 0..255");
  EXPECT_EQ(net(pol + "prefix = \"10.1.0.0/16\"\nproto = 256\n"),
            "gw.toml:13: policy.allow[0].proto: 256 is outside 0..255");
  EXPECT_EQ(net(pol + "prefix = \"10.1.0.0/16\"\nproto = true\n"),
            "gw.toml:13: policy.allow[0].proto: must be a protocol name or number");
  EXPECT_EQ(net(pol + "prefix = \"10.1.0.0/16\"\nport = 53\n"),
            "gw.toml:13: policy.allow[0].port: only with proto udp or tcp");
  EXPECT_EQ(net(pol + "prefix = \"10.1.0.0/16\"\nproto = \"udp\"\nport = 0\n"),
            "gw.toml:14: policy.allow[0].port: 0 is outside 1..65535");
  EXPECT_EQ(net(pol + "prefix = \"10.1.0.0/16\"\nproto = \"udp\"\nport = \"9-1\"\n"),
            "gw.toml:14: policy.allow[0].port: '9-1' is not a port range first-last in 1..65535");
  EXPECT_EQ(net(pol + "prefix = \"10.1.0.0/16\"\nproto = \"udp\"\nport = 1.5\n"),
            "gw.toml:14: policy.allow[0].port: must be a port number or a range \"first-last\"");
  EXPECT_EQ(net(pol + "prefix = \"10.1.0.0/16\"\nhost = 1\n"),
            "gw.toml:13: policy.allow[0].host: unknown key (expected one of: proto, prefix, port)");
}

// ---- The client ----

TEST(VpnClientConfigTest, MinimalAndEveryKey) {
  FakeFiles none;
  Result<VpnClientConfig> r = ParseVpnClientConfig(ClientPsk(), "vpn.toml", none.Reader());
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->gateway_port, 500);
  EXPECT_FALSE(r->local_address);
  EXPECT_TRUE(r->request_virtual_ip);
  EXPECT_EQ(r->tun_name, "mipsecvpn0");
  EXPECT_EQ(r->tun_mtu, 1400u);
  EXPECT_EQ(r->log_level, LogLevel::kInfo);
  EXPECT_EQ(r->ike.nat_keepalive, Duration::Seconds(20));

  Result<VpnClientConfig> e = ParseVpnClientConfig(
      ClientPsk("gateway_port = 4500\nlocal_address = \"10.0.0.2\"\nremote_id = \"ipv4:192.0.2.1\"\n"
                "request_virtual_ip = false\ntun = \"vpn1\"\ntun_mtu = 1300\nlog_level = \"warning\"\n"
                "ike_proposals = \"aes128-sha256-ecp256\"\nesp_proposals = \"aes128-sha256\"\n"
                "nat_keepalive = \"10s\"\nforce_encapsulation = true\n"),
      "vpn.toml", none.Reader());
  ASSERT_TRUE(e.ok()) << e.error().ToString();
  EXPECT_EQ(e->gateway_port, 4500);
  EXPECT_EQ(e->local_address, A("10.0.0.2"));
  EXPECT_EQ(e->ike.remote_id, IdPayload::Ipv4(A("192.0.2.1")));
  EXPECT_FALSE(e->request_virtual_ip);
  EXPECT_EQ(e->tun_name, "vpn1");
  EXPECT_EQ(e->tun_mtu, 1300u);
  EXPECT_EQ(e->log_level, LogLevel::kWarning);
  EXPECT_EQ(e->ike.nat_keepalive, Duration::Seconds(10));
  EXPECT_TRUE(e->ike.force_encapsulation);

  ikev2::PeerConfig pc = ToInitiatorPeerConfig(*e);
  EXPECT_TRUE(pc.send_idr);
  EXPECT_FALSE(pc.request_virtual_ip);
  ASSERT_EQ(pc.local_ts.size(), 1u);
  EXPECT_EQ(pc.local_ts[0], ikev2::TrafficSelector::Ipv4Prefix(Ipv4Prefix::Host(A("10.0.0.2"))));
  ASSERT_EQ(pc.remote_ts.size(), 1u);
  EXPECT_EQ(pc.remote_ts[0], ikev2::TrafficSelector::Ipv4Prefix(*Ipv4Prefix::Parse("10.1.0.0/16")));
  EXPECT_EQ(pc.nat_keepalive_interval, Duration::Seconds(10));
  EXPECT_TRUE(pc.force_encapsulation);
  EXPECT_EQ(pc.ike_proposals, e->ike.ike_proposals);
}

TEST(VpnClientConfigTest, Errors) {
  EXPECT_EQ(ClientError(""), "vpn.toml:1: client: missing (required table [client])");
  EXPECT_EQ(ClientError("[client]\n[gateway]\n"), "vpn.toml:2: gateway: unknown key (expected one of: client)");
  EXPECT_EQ(ClientError("[client]\nlocal_id = \"a\"\n"), "vpn.toml:1: client.gateway: missing (required)");
  EXPECT_EQ(ClientError("[client]\ngateway = \"255.255.255.255\"\n"),
            "vpn.toml:2: client.gateway: 255.255.255.255 is not a unicast address");
  EXPECT_EQ(ClientError(ClientPsk("gateway_port = 70000\n")),
            "vpn.toml:6: client.gateway_port: 70000 is outside 1..65535");
  EXPECT_EQ(ClientError(ClientPsk("local_address = \"x\"\n")),
            "vpn.toml:6: client.local_address: 'x' is not an IPv4 address (a.b.c.d)");
  EXPECT_EQ(ClientError(Client("")),
            "vpn.toml:1: client.psk: missing (required with auth = \"psk\": psk or psk_file)");
  EXPECT_EQ(ClientError("[client]\ngateway = \"192.0.2.1\"\nlocal_id = \"a\"\npsk = \"" +
                        std::string(kPskHex) + "\"\n"),
            "vpn.toml:1: client.routes: missing (required: the prefixes to reach through the "
            "tunnel)");
  EXPECT_EQ(ClientError(ClientPsk("request_virtual_ip = 1\n")),
            "vpn.toml:6: client.request_virtual_ip: must be true or false");
  EXPECT_EQ(ClientError(ClientPsk("listen = \"1.2.3.4\"\n")).rfind("vpn.toml:6: client.listen: unknown key (expected one of: local_id, ", 0), 0u);
}

// ---- Mapping ----

TEST(GwConfigMappingTest, ResponderPeerConfig) {
  GwConfig c = GwOk("[gateway]\nlisten = \"192.0.2.1\"\nlocal_id = \"gw\"\npsk = \"" +
                    std::string(kPskHex) +
                    "\"\ndpd_interval = \"10s\"\nnat_keepalive = \"off\"\nnatt_port = 4501\n"
                    "[tia_pool]\nrange = \"10.99.0.0/28\"\ndns = \"10.1.0.53\"\n"
                    "[intranet]\nprefixes = [\"10.1.0.0/16\", \"10.3.0.0/16\"]\n");
  ikev2::TiaPool pool = *MakeTiaPool(c);
  EXPECT_EQ(pool.size(), 14u);
  Result<ikev2::PeerConfig> r = ToResponderPeerConfig(c, &pool, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const ikev2::PeerConfig& pc = *r;
  EXPECT_EQ(pc.local_id, IdPayload::Fqdn("gw"));
  EXPECT_EQ(pc.local_auth.kind, AuthKind::kPsk);
  EXPECT_EQ(KeyHex(pc.local_auth.psk), kPskHex);
  EXPECT_EQ(KeyHex(pc.remote_auth.psk), kPskHex);
  EXPECT_FALSE(pc.send_idr);
  EXPECT_EQ(pc.address_provider, &pool);
  EXPECT_EQ(pc.virtual_ip_netmask, A("255.255.255.240"));
  EXPECT_EQ(pc.virtual_ip_dns, std::vector<Ipv4Address>{A("10.1.0.53")});
  ASSERT_EQ(pc.local_ts.size(), 2u);
  EXPECT_EQ(pc.local_ts[1], ikev2::TrafficSelector::Ipv4Prefix(*Ipv4Prefix::Parse("10.3.0.0/16")));
  ASSERT_EQ(pc.remote_ts.size(), 1u);
  EXPECT_EQ(pc.remote_ts[0], ikev2::TrafficSelector::Ipv4Range(A("10.99.0.1"), A("10.99.0.14")));
  EXPECT_EQ(pc.dpd_interval, Duration::Seconds(10));
  EXPECT_TRUE(pc.nat_keepalive_interval.IsInfinite());
  EXPECT_EQ(pc.natt_port, 4501);
  EXPECT_EQ(pc.lifetimes.ike_soft, Duration::Seconds(3 * 3600));
  EXPECT_EQ(pc.ike_proposals, ikev2::DefaultIkeProposals());
}

TEST(GwConfigMappingTest, PerPeerPsksGoThroughTheTable) {
  GwConfig c = GwOk(Gw("", "[[peer]]\nid = \"a\"\npsk = \"" + std::string(kPskHex) + "\"\n"));
  ikev2::TiaPool pool = *MakeTiaPool(c);
  Result<ikev2::PeerConfig> r = ToResponderPeerConfig(c, &pool, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kInvalidArgument);
  GwPskTable psks(c);
  r = ToResponderPeerConfig(c, &pool, &psks);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->psk_provider, &psks);
  ASSERT_NE(psks.Find(IdPayload::Fqdn("a")), nullptr);
  EXPECT_EQ(KeyHex(*psks.Find(IdPayload::Fqdn("a"))), kPskHex);
  // Same bytes, another ID type: not the same identity.
  EXPECT_EQ(psks.Find(IdPayload::Rfc822("a")), nullptr);
  EXPECT_EQ(psks.Find(IdPayload::Fqdn("b")), nullptr);  // no shared key
  // Without [[peer]] entries the shared key is used directly.
  GwConfig shared = GwOk(GwPsk("", ""));
  r = ToResponderPeerConfig(shared, &pool, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->psk_provider, nullptr);
}

TEST(GwConfigMappingTest, InitiatorWithVirtualIp) {
  FakeFiles none;
  VpnClientConfig c = *ParseVpnClientConfig(ClientPsk(), "vpn.toml", none.Reader());
  ikev2::PeerConfig pc = ToInitiatorPeerConfig(c);
  EXPECT_TRUE(pc.request_virtual_ip);
  EXPECT_FALSE(pc.send_idr);
  EXPECT_EQ(pc.local_id, IdPayload::Rfc822("mn@example.com"));
  ASSERT_EQ(pc.local_ts.size(), 1u);
  EXPECT_EQ(pc.local_ts[0], ikev2::AnyIpv4Selector());
  EXPECT_TRUE(pc.initial_contact);
}

}  // namespace
}  // namespace mipsec::config
