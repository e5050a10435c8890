// Test-only: sample Mobile IPv4 messages built with our encoder, shared by
// the unit, tshark and seed-corpus tests. HMAC-MD5 authenticators come from
// crypto::Hmac (the default algorithm of RFC 5944 3.5.1).
#ifndef MIPSEC_MIP4_CODEC_TEST_MESSAGES_H_
#define MIPSEC_MIP4_CODEC_TEST_MESSAGES_H_

#include <cstdlib>
#include <string>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/secret.h"
#include "crypto/hmac.h"
#include "mip4/codec/builder.h"
#include "mip4/codec/constants.h"

namespace mipsec::mip4::testing {

inline Ipv4Address Addr(const char* s) { return *Ipv4Address::Parse(s); }

inline SecretBytes MnHaKey() { return SecretBytes(Bytes(16, 0x5a)); }
inline SecretBytes MnFaKey() { return SecretBytes(Bytes(16, 0x3c)); }
inline SecretBytes FaHaKey() { return SecretBytes(Bytes(20, 0xa5)); }

inline AuthenticatorFn HmacMd5(SecretBytes key) {
  return [key = std::move(key)](ByteSpan covered) -> Result<Bytes> {
    return crypto::Hmac(crypto::HashAlg::kMd5, key, covered);
  };
}

inline void Check(const Status& s) {
  if (!s.ok()) std::abort();
}

inline RegistrationRequest SampleRequest() {
  RegistrationRequest q;
  q.simultaneous_bindings = false;
  q.decapsulation_by_mn = true;
  q.reverse_tunnel = true;
  q.lifetime = 1800;
  q.home_address = Addr("10.10.0.5");
  q.home_agent = Addr("10.10.0.1");
  q.care_of_address = Addr("198.51.100.20");
  q.identification = 0xe7a1b2c3d4e5f607ull;
  return q;
}

inline RegistrationReply SampleReply() {
  RegistrationReply r;
  r.set_code(ReplyCode::kAccepted);
  r.lifetime = 900;
  r.home_address = Addr("10.10.0.5");
  r.home_agent = Addr("10.10.0.1");
  r.identification = 0xe7a1b2c3d4e5f607ull;
  return r;
}

// A co-located MN's request: NAI, UDP Tunnel Request (F), MN-HA, then for
// the FA a delivery style and MN-FA.
inline Bytes FullMnRequest() {
  MessageBuilder b = MessageBuilder::Request(SampleRequest());
  Check(b.AppendNai("mn1@example.org"));
  b.AppendUdpTunnelRequest({.force = true, .encapsulation = kEncapIpInIp});
  Check(b.AppendAuth(kExtMnHaAuth, 0x100, 16, HmacMd5(MnHaKey())));
  b.AppendDeliveryStyle();
  Check(b.AppendAuth(kExtMnFaAuth, 0x200, 16, HmacMd5(MnFaKey())));
  return std::move(b).Take();
}

// As an FA relays a request: NAI, MN-HA, then the FA's revocation support,
// an NVSE, a CVSE and FA-HA.
inline Bytes RelayedRequest() {
  RegistrationRequest q = SampleRequest();
  q.decapsulation_by_mn = false;
  MessageBuilder b = MessageBuilder::Request(q);
  Check(b.AppendNai("mn1@example.org"));
  Check(b.AppendAuth(kExtMnHaAuth, 0x100, 16, HmacMd5(MnHaKey())));
  b.AppendRevocationSupport({.i_bit = true, .timestamp = 0x5f000000});
  static const Bytes kValue = {1, 2, 3};
  Check(b.AppendNvse({.vendor_id = 9, .vendor_type = 7, .value = kValue}));
  Check(b.AppendCvse({.vendor_id = 9, .vendor_type = 8, .value = kValue}));
  Check(b.AppendAuth(kExtFaHaAuth, 0x300, 16, HmacMd5(FaHaKey())));
  return std::move(b).Take();
}

// An i-HA's reply to a trusted request behind a NAT: UDP Tunnel Reply, TNC,
// NAI, MN-HA.
inline Bytes FullReply() {
  MessageBuilder b = MessageBuilder::Reply(SampleReply());
  b.AppendUdpTunnelReply({.reply_code = 0, .forced = true, .keepalive_interval = 110});
  b.AppendTnc();
  Check(b.AppendNai("mn1@example.org"));
  Check(b.AppendAuth(kExtMnHaAuth, 0x100, 16, HmacMd5(MnHaKey())));
  return std::move(b).Take();
}

}  // namespace mipsec::mip4::testing

#endif  // MIPSEC_MIP4_CODEC_TEST_MESSAGES_H_
