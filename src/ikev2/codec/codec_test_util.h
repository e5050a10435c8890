// Test-only helpers for the IKEv2 codec tests: two SkCipher implementations
// (not for production; the real provider lives in the crypto layer) and a
// set of sample payloads/messages.
//
//  - AesCbcHmacTestCipher: ENCR_AES_CBC + AUTH_HMAC_SHA2_256_128 as RFC 7296
//    3.14 lays it out (16-byte IV, 16-byte block, ICV over header..ciphertext).
//    Real enough that tshark and strongSwan's captures agree with it.
//  - XorHmacTestCipher: XOR with a keystream + HMAC-SHA-256-128, with a
//    configurable IV size and pad block (1 models AEAD suites, RFC 5282).
#ifndef MIPSEC_IKEV2_CODEC_CODEC_TEST_UTIL_H_
#define MIPSEC_IKEV2_CODEC_CODEC_TEST_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/result.h"
#include "common/secret.h"
#include "crypto/cbc.h"
#include "crypto/hmac.h"
#include "ikev2/codec/message.h"
#include "ikev2/codec/sk_cipher.h"

namespace mipsec::ikev2::test {

// Checks the layout Seal/Open get; returns the encrypted part's size.
inline Result<std::size_t> CheckLayout(std::size_t size, std::size_t body, std::size_t iv,
                                       std::size_t icv, std::size_t block) {
  if (body > size || size - body < iv + icv + 1) {
    return Error(Errc::kTruncated, "SK too short for IV, ICV and pad length");
  }
  const std::size_t n = size - body - iv - icv;
  if (n % block != 0) return Error(Errc::kMalformed, "SK encrypted part not a block multiple");
  return n;
}

class AesCbcHmacTestCipher final : public SkCipher {
 public:
  AesCbcHmacTestCipher(ByteSpan enc_key, ByteSpan integ_key)
      : aes_(std::move(crypto::AesCbc::Create(SecretBytes(enc_key))).value()),
        integ_key_(integ_key) {}

  std::size_t IvSize() const override { return 16; }
  std::size_t IcvSize() const override { return 16; }
  std::size_t PadBlock() const override { return 16; }

  Status Seal(MutableByteSpan m, std::size_t body) override {
    MIPSEC_ASSIGN_OR_RETURN(std::size_t n, CheckLayout(m.size(), body, 16, 16, 16));
    MutableByteSpan iv = m.subspan(body, 16);
    for (std::size_t i = 0; i < 16; ++i) iv[i] = static_cast<std::uint8_t>(counter_ * 7 + i);
    ++counter_;
    MIPSEC_TRY(aes_.EncryptInPlace(iv, m.subspan(body + 16, n)));
    MIPSEC_ASSIGN_OR_RETURN(Bytes icv, crypto::HmacTruncated(crypto::HashAlg::kSha256, integ_key_,
                                                             m.first(m.size() - 16), 16));
    std::copy(icv.begin(), icv.end(), m.end() - 16);
    return Ok{};
  }

  Result<std::size_t> Open(MutableByteSpan m, std::size_t body) override {
    MIPSEC_ASSIGN_OR_RETURN(std::size_t n, CheckLayout(m.size(), body, 16, 16, 16));
    MIPSEC_TRY(crypto::VerifyHmac(crypto::HashAlg::kSha256, integ_key_, m.first(m.size() - 16),
                                  m.last(16)));
    MIPSEC_TRY(aes_.DecryptInPlace(m.subspan(body, 16), m.subspan(body + 16, n)));
    return n;
  }

 private:
  crypto::AesCbc aes_;
  SecretBytes integ_key_;
  std::uint32_t counter_ = 1;
};

class XorHmacTestCipher final : public SkCipher {
 public:
  explicit XorHmacTestCipher(std::size_t iv_size = 8, std::size_t pad_block = 1,
                             std::uint8_t key = 0x5a)
      : iv_size_(iv_size),
        pad_block_(pad_block),
        key_(key),
        integ_key_(Bytes(32, static_cast<std::uint8_t>(key ^ 0xff))) {}

  std::size_t IvSize() const override { return iv_size_; }
  std::size_t IcvSize() const override { return 16; }
  std::size_t PadBlock() const override { return pad_block_; }
  int seals() const { return seals_; }
  int opens() const { return opens_; }

  Status Seal(MutableByteSpan m, std::size_t body) override {
    MIPSEC_ASSIGN_OR_RETURN(std::size_t n, CheckLayout(m.size(), body, iv_size_, 16, pad_block_));
    ++seals_;
    for (std::size_t i = 0; i < iv_size_; ++i) {
      m[body + i] = static_cast<std::uint8_t>(seals_ + i);
    }
    Xor(m.subspan(body, iv_size_), m.subspan(body + iv_size_, n));
    MIPSEC_ASSIGN_OR_RETURN(Bytes icv, crypto::HmacTruncated(crypto::HashAlg::kSha256, integ_key_,
                                                             m.first(m.size() - 16), 16));
    std::copy(icv.begin(), icv.end(), m.end() - 16);
    return Ok{};
  }

  Result<std::size_t> Open(MutableByteSpan m, std::size_t body) override {
    ++opens_;
    MIPSEC_ASSIGN_OR_RETURN(std::size_t n, CheckLayout(m.size(), body, iv_size_, 16, pad_block_));
    MIPSEC_TRY(crypto::VerifyHmac(crypto::HashAlg::kSha256, integ_key_, m.first(m.size() - 16),
                                  m.last(16)));
    Xor(m.subspan(body, iv_size_), m.subspan(body + iv_size_, n));
    return n;
  }

 private:
  void Xor(ByteSpan iv, MutableByteSpan data) const {
    for (std::size_t i = 0; i < data.size(); ++i) {
      const std::uint8_t ivb = iv.empty() ? 0 : iv[i % iv.size()];
      data[i] ^= static_cast<std::uint8_t>(key_ + ivb + i * 31);
    }
  }

  std::size_t iv_size_;
  std::size_t pad_block_;
  std::uint8_t key_;
  SecretBytes integ_key_;
  int seals_ = 0;
  int opens_ = 0;
};

inline Bytes Seq(std::size_t n, std::uint8_t start = 1) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(start + i);
  return b;
}

// An IKE proposal: AES-CBC-128, HMAC-SHA2-256-128, PRF-HMAC-SHA2-256, `dh`.
inline Proposal IkeProposal(std::uint8_t number, DhId dh = DhId::kCurve25519) {
  Proposal p;
  p.number = number;
  p.protocol = ProtocolId::kIke;
  p.transforms = {
      Transform::Make(TransformType::kEncr, static_cast<std::uint16_t>(EncrId::kAesCbc), 128),
      Transform::Make(TransformType::kInteg,
                      static_cast<std::uint16_t>(IntegId::kHmacSha2_256_128)),
      Transform::Make(TransformType::kPrf, static_cast<std::uint16_t>(PrfId::kHmacSha2_256)),
      Transform::Make(TransformType::kDh, static_cast<std::uint16_t>(dh)),
  };
  return p;
}

// An ESP proposal: AES-GCM-16 with `key_bits`, no ESN, SPI `spi`.
inline Proposal EspGcmProposal(std::uint8_t number, std::uint32_t spi, std::uint16_t key_bits) {
  Proposal p;
  p.number = number;
  p.protocol = ProtocolId::kEsp;
  p.spi = {static_cast<std::uint8_t>(spi >> 24), static_cast<std::uint8_t>(spi >> 16),
           static_cast<std::uint8_t>(spi >> 8), static_cast<std::uint8_t>(spi)};
  p.transforms = {
      Transform::Make(TransformType::kEncr, static_cast<std::uint16_t>(EncrId::kAesGcm16),
                      key_bits),
      Transform::Make(TransformType::kEsn, static_cast<std::uint16_t>(EsnId::kNoEsn)),
  };
  return p;
}

// One payload of every type the codec knows, plus an unknown non-critical
// one, with non-trivial contents.
inline std::vector<Payload> EveryPayload() {
  std::vector<Payload> v;
  SaPayload sa;
  sa.proposals = {IkeProposal(1), IkeProposal(2, DhId::kEcp256),
                  EspGcmProposal(3, 0xc0ffee01, 256)};
  sa.proposals[0].transforms[0].attributes.push_back({0x1234, false, 0, Seq(5)});  // TLV
  v.push_back(Payload::Sa(sa));
  v.push_back(Payload::Ke({static_cast<std::uint16_t>(DhId::kCurve25519), Seq(32)}));
  v.push_back(Payload::Idi(IdPayload::Fqdn("mn@example.org")));
  v.push_back(Payload::Idr(IdPayload::Ipv4(Ipv4Address::FromOctets(203, 0, 113, 2))));
  v.push_back(Payload::Cert({CertEncoding::kX509Signature, Seq(300)}));
  v.push_back(Payload::CertReq({CertEncoding::kX509Signature, Seq(40)}));
  v.push_back(Payload::Auth({AuthMethod::kSharedKeyMic, Seq(32, 9)}));
  v.push_back(Payload::Nonce({Seq(32, 77)}));
  NotifyPayload rekey = NotifyPayload::Make(NotifyType::kRekeySa);
  rekey.protocol = ProtocolId::kEsp;
  rekey.spi = {1, 2, 3, 4};
  v.push_back(Payload::Notify(rekey));
  v.push_back(Payload::Notify(NotifyPayload::Make(NotifyType::kNatDetectionSourceIp, Seq(20))));
  v.push_back(Payload::Delete(DeletePayload::Esp({0x11223344, 0x55667788})));
  v.push_back(Payload::Delete(DeletePayload::Ike()));
  v.push_back(Payload::VendorId({Seq(16, 0xa0)}));
  TsPayload ts;
  ts.selectors = {
      TrafficSelector::Ipv4Range(Ipv4Address::FromOctets(192, 0, 2, 129),
                                 Ipv4Address::FromOctets(192, 0, 2, 129)),
      TrafficSelector::Ipv4Range(Ipv4Address::FromOctets(10, 0, 0, 0),
                                 Ipv4Address::FromOctets(10, 0, 255, 255), 17, 434, 434)};
  TrafficSelector v6;
  v6.ts_type = static_cast<std::uint8_t>(TsType::kIpv6AddrRange);
  v6.start_address = Bytes(16, 0);
  v6.end_address = Bytes(16, 0xff);
  ts.selectors.push_back(v6);
  v.push_back(Payload::Tsi(ts));
  TrafficSelector odd;
  odd.ts_type = 9;  // RFC 4595 FC_ADDR_RANGE: kept opaque
  odd.opaque = Seq(12);
  v.push_back(Payload::Tsr({{odd}}));
  CpPayload cp;
  cp.cfg_type = CfgType::kReply;
  cp.attributes = {
      CfgAttribute::Ipv4(CfgAttr::kInternalIp4Address, Ipv4Address::FromOctets(192, 0, 2, 129)),
      CfgAttribute::Empty(CfgAttr::kInternalIp4Dns)};
  v.push_back(Payload::Cp(cp));
  v.push_back(Payload::Eap({Bytes{1, 7, 0, 5, 1}}));  // EAP Request/Identity
  v.push_back(Payload::Unknown(static_cast<PayloadType>(99), Seq(6)));
  return v;
}

}  // namespace mipsec::ikev2::test

#endif  // MIPSEC_IKEV2_CODEC_CODEC_TEST_UTIL_H_
