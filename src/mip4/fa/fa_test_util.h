// Test-only: a foreign agent on one served link, a mobile node's request
// builder and a minimal home agent responder written with the codec and
// security modules (not the HA core), shared by the FA's unit and tshark
// tests.
//
//   MN 10.10.0.5 (home) --- link 3: FA 192.0.2.1 --- FA care-of 198.51.100.1
//                                                  --- HA 10.10.0.1
#ifndef MIPSEC_MIP4_FA_FA_TEST_UTIL_H_
#define MIPSEC_MIP4_FA_FA_TEST_UTIL_H_

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ip/address.h"
#include "common/log.h"
#include "common/random.h"
#include "common/secret.h"
#include "common/time.h"
#include "mip4/codec/auth_extension.h"
#include "mip4/codec/builder.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/cvse.h"
#include "mip4/codec/registration_reply.h"
#include "mip4/codec/registration_request.h"
#include "mip4/codec/udp_tunnel_reply.h"
#include "mip4/codec/udp_tunnel_request.h"
#include "mip4/fa/foreign_agent.h"
#include "mip4/io.h"
#include "mip4/security/sa_database.h"
#include "mip4/security/security_association.h"

namespace mipsec::mip4::fa_test {

inline Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }

inline constexpr int kLink = 3;
inline const Ipv4Address kFaAddress = A("192.0.2.1");
inline const Ipv4Address kCareOf = A("198.51.100.1");
inline const Ipv4Address kHa = A("10.10.0.1");
inline const Ipv4Address kHome = A("10.10.0.5");
inline const Ipv4Address kCn = A("203.0.113.9");
inline constexpr std::uint16_t kMnPort = 49152;
inline constexpr std::uint32_t kMnHaSpi = 0x100;
inline constexpr std::uint32_t kMnFaSpi = 0x200;
inline constexpr std::uint32_t kFaHaSpi = 0x300;

inline SecretBytes Key(std::uint8_t fill, std::size_t n = 16) {
  return SecretBytes(Bytes(n, fill));
}

inline SecurityAssociation Sa(std::uint32_t spi, std::uint8_t fill) {
  SecurityAssociationParams p;
  p.spi = spi;
  p.key = Key(fill);
  Result<SecurityAssociation> sa = SecurityAssociation::Create(std::move(p));
  if (!sa.ok()) std::abort();
  return std::move(*sa);
}

inline ForeignAgentOptions DefaultOptions() {
  ForeignAgentOptions o;
  FaInterface f;
  f.ifindex = kLink;
  f.address = kFaAddress;
  f.care_of_addresses = {kCareOf};
  f.prefix_length = 24;
  o.interfaces = {f};
  o.advertisement.max_interval = Duration::Seconds(10);
  return o;
}

// What a mobile node puts in its request.
struct MnRequest {
  RegistrationRequest fixed;
  std::optional<std::string> nai;
  bool delivery_style = false;
  std::optional<std::uint8_t> mn_ha_key = 0x5a;  // MN-HA key fill; nullopt: no MN-HA
  std::optional<std::uint8_t> mn_fa_key;         // MN-FA key fill
  bool cvse_for_fa = false;

  MnRequest() {
    fixed.lifetime = 600;
    fixed.home_address = kHome;
    fixed.home_agent = kHa;
    fixed.care_of_address = kCareOf;
    fixed.reverse_tunnel = true;
    fixed.identification = 0x1122334455667788ull;
  }

  Bytes Build() const {
    MessageBuilder b = MessageBuilder::Request(fixed);
    if (nai && !b.AppendNai(*nai).ok()) std::abort();
    if (mn_ha_key) {
      SecurityAssociation sa = Sa(kMnHaSpi, *mn_ha_key);
      if (!b.AppendAuth(kExtMnHaAuth, kMnHaSpi, 16, [&](ByteSpan c) { return sa.Compute(c); })
               .ok()) {
        std::abort();
      }
    }
    if (delivery_style) b.AppendDeliveryStyle();
    if (cvse_for_fa) {
      static const Bytes kValue = {1, 2};
      if (!b.AppendCvse({.vendor_id = 9, .vendor_type = 3, .value = kValue}).ok()) std::abort();
    }
    if (mn_fa_key) {
      SecurityAssociation sa = Sa(kMnFaSpi, *mn_fa_key);
      if (!b.AppendAuth(kExtMnFaAuth, kMnFaSpi, 16, [&](ByteSpan c) { return sa.Compute(c); })
               .ok()) {
        std::abort();
      }
    }
    return std::move(b).Take();
  }
};

// A home agent responder for tests: checks what the FA relayed (MN-HA and,
// when it has an FA-HA key, FA-HA) and builds replies.
struct TestHomeAgent {
  std::uint8_t mn_ha_key = 0x5a;
  std::optional<std::uint8_t> fa_ha_key;

  struct Checked {
    bool ok = false;
    std::string why;
    ParsedRegistrationRequest request;
    bool had_fa_ha = false;
    bool had_udp_tunnel_request = false;
    std::size_t mn_ha_end = 0;
  };

  Checked Check(ByteSpan relayed) const {
    Checked c;
    Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(relayed);
    if (!p.ok()) {
      c.why = p.error().ToString();
      return c;
    }
    c.request = *p;
    Result<AuthCoverage> mnha = AuthenticationCoverageOfType(p->extensions, kExtMnHaAuth);
    if (!mnha.ok()) {
      c.why = "no MN-HA";
      return c;
    }
    c.mn_ha_end = p->extensions[mnha->extension_index].end();
    SecurityAssociation sa = Sa(kMnHaSpi, mn_ha_key);
    if (!sa.Verify(mnha->covered, mnha->authenticator).ok()) {
      c.why = "MN-HA does not verify";
      return c;
    }
    c.had_udp_tunnel_request = p->extensions.Find(kExtUdpTunnelRequest).has_value();
    Result<AuthCoverage> faha = AuthenticationCoverageOfType(p->extensions, kExtFaHaAuth);
    c.had_fa_ha = faha.ok();
    if (faha.ok()) {
      if (!fa_ha_key || faha->spi != kFaHaSpi) {
        c.why = "unexpected FA-HA";
        return c;
      }
      SecurityAssociation fsa = Sa(kFaHaSpi, *fa_ha_key);
      if (!fsa.Verify(faha->covered, faha->authenticator).ok()) {
        c.why = "FA-HA does not verify";
        return c;
      }
    }
    c.ok = true;
    return c;
  }

  struct ReplySpec {
    std::uint8_t code = 0;
    std::optional<std::uint16_t> lifetime = std::nullopt;  // default: the request's
    std::optional<Ipv4Address> home_address = std::nullopt;
    std::optional<Ipv4Address> home_agent = std::nullopt;
    std::optional<std::uint64_t> identification = std::nullopt;
    bool echo_nai = true;
    std::optional<UdpTunnelReply> udp_tunnel_reply = std::nullopt;
    bool mn_ha = true;
    bool fa_ha = true;                     // when the HA has an FA-HA key
    std::optional<std::uint8_t> fa_ha_key_override = std::nullopt;
    bool cvse_for_fa = false;
  };

  Bytes Reply(const ParsedRegistrationRequest& req, const ReplySpec& s) const {
    RegistrationReply r;
    r.code = s.code;
    r.lifetime = s.lifetime.value_or(req.request.lifetime);
    r.home_address = s.home_address.value_or(req.request.home_address);
    r.home_agent = s.home_agent.value_or(kHa);
    r.identification = s.identification.value_or(req.request.identification);
    MessageBuilder b = MessageBuilder::Reply(r);
    if (s.udp_tunnel_reply) b.AppendUdpTunnelReply(*s.udp_tunnel_reply);
    if (s.echo_nai) {
      if (const Extension* e = req.extensions.First(kExtNai)) {
        if (!b.AppendTlv(kExtNai, e->data).ok()) std::abort();
      }
    }
    if (s.mn_ha) {
      SecurityAssociation sa = Sa(kMnHaSpi, mn_ha_key);
      if (!b.AppendAuth(kExtMnHaAuth, kMnHaSpi, 16, [&](ByteSpan c) { return sa.Compute(c); })
               .ok()) {
        std::abort();
      }
    }
    if (s.cvse_for_fa) {
      static const Bytes kValue = {7};
      if (!b.AppendCvse({.vendor_id = 9, .vendor_type = 4, .value = kValue}).ok()) std::abort();
    }
    if (s.fa_ha && fa_ha_key) {
      SecurityAssociation sa = Sa(kFaHaSpi, s.fa_ha_key_override.value_or(*fa_ha_key));
      if (!b.AppendAuth(kExtFaHaAuth, kFaHaSpi, 16, [&](ByteSpan c) { return sa.Compute(c); })
               .ok()) {
        std::abort();
      }
    }
    return std::move(b).Take();
  }
};

}  // namespace mipsec::mip4::fa_test

#endif  // MIPSEC_MIP4_FA_FA_TEST_UTIL_H_
