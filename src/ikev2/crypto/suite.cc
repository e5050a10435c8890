#include "ikev2/crypto/suite.h"

#include <string>

#include "common/bug.h"

namespace mipsec::ikev2 {

namespace {

bool IsGcm(EncrId e) {
  return e == EncrId::kAesGcm8 || e == EncrId::kAesGcm12 || e == EncrId::kAesGcm16;
}

std::string Num(std::uint16_t v) { return std::to_string(v); }

}  // namespace

Result<crypto::HashAlg> PrfHashOf(PrfId prf) {
  switch (prf) {
    case PrfId::kHmacSha2_256: return crypto::HashAlg::kSha256;
    case PrfId::kHmacSha2_384: return crypto::HashAlg::kSha384;
    case PrfId::kHmacSha2_512: return crypto::HashAlg::kSha512;
    default:
      return Error(Errc::kUnsupported,
                   "PRF transform " + Num(static_cast<std::uint16_t>(prf)) + " not supported");
  }
}

Status Suite::CheckEncrInteg(EncrId encr, std::uint16_t bits, std::optional<IntegId> integ) {
  if (encr != EncrId::kAesCbc && !IsGcm(encr)) {
    return Error(Errc::kUnsupported,
                 "ENCR transform " + Num(static_cast<std::uint16_t>(encr)) + " not supported");
  }
  // RFC 3602 5.3, RFC 5282 8: AES needs the Key Length attribute.
  if (bits == 0) return Error(Errc::kMalformed, "ENCR AES: Key Length attribute missing");
  if (bits != 128 && bits != 192 && bits != 256) {
    return Error(Errc::kUnsupported, "ENCR AES: key length " + Num(bits) + " not supported");
  }
  if (IsGcm(encr)) {
    // RFC 5282 8: an AEAD proposal has no integrity algorithm (or NONE).
    if (integ.has_value() && *integ != IntegId::kNone) {
      return Error(Errc::kMalformed, "AEAD proposal with an INTEG transform");
    }
    return Ok{};
  }
  // RFC 7296 3.3.3: a non-AEAD cipher needs integrity protection.
  if (!integ.has_value() || *integ == IntegId::kNone) {
    return Error(Errc::kMalformed, "AES-CBC proposal without an INTEG transform");
  }
  switch (*integ) {
    case IntegId::kHmacSha2_256_128:
    case IntegId::kHmacSha2_384_192:
    case IntegId::kHmacSha2_512_256: return Ok{};
    default:
      return Error(Errc::kUnsupported,
                   "INTEG transform " + Num(static_cast<std::uint16_t>(*integ)) + " not supported");
  }
}

Result<Suite> Suite::ForIke(EncrId encr, std::uint16_t encr_key_bits, PrfId prf,
                            std::optional<IntegId> integ, DhId dh) {
  MIPSEC_TRY(CheckEncrInteg(encr, encr_key_bits, integ));
  MIPSEC_TRY(PrfHashOf(prf));
  // RFC 7296 3.3.3: IKE proposals always carry a DH group.
  if (dh == DhId::kNone) return Error(Errc::kMalformed, "IKE proposal with DH group NONE");
  if (!crypto::DhGroupFromId(static_cast<std::uint16_t>(dh))) {
    return Error(Errc::kUnsupported,
                 "DH group " + Num(static_cast<std::uint16_t>(dh)) + " not supported");
  }
  Suite s;
  s.is_ike_ = true;
  s.encr_ = encr;
  s.key_bits_ = encr_key_bits;
  s.prf_ = prf;
  s.integ_ = integ.value_or(IntegId::kNone);
  s.dh_ = dh;
  return s;
}

Result<Suite> Suite::ForEsp(EncrId encr, std::uint16_t encr_key_bits,
                            std::optional<IntegId> integ, std::optional<DhId> dh, EsnId esn) {
  MIPSEC_TRY(CheckEncrInteg(encr, encr_key_bits, integ));
  DhId d = dh.value_or(DhId::kNone);
  if (d != DhId::kNone && !crypto::DhGroupFromId(static_cast<std::uint16_t>(d))) {
    return Error(Errc::kUnsupported,
                 "DH group " + Num(static_cast<std::uint16_t>(d)) + " not supported");
  }
  if (esn != EsnId::kNoEsn && esn != EsnId::kEsn) {
    return Error(Errc::kMalformed, "ESN transform " + Num(static_cast<std::uint16_t>(esn)));
  }
  Suite s;
  s.is_ike_ = false;
  s.encr_ = encr;
  s.key_bits_ = encr_key_bits;
  s.integ_ = integ.value_or(IntegId::kNone);
  s.dh_ = d;
  s.esn_ = esn;
  return s;
}

PrfId Suite::prf() const {
  MIPSEC_BUG_IF(!is_ike_, "Suite::prf() on an ESP suite");
  return prf_;
}

bool Suite::is_aead() const { return IsGcm(encr_); }

std::optional<crypto::DhGroup> Suite::dh_group() const {
  if (dh_ == DhId::kNone) return std::nullopt;
  return crypto::DhGroupFromId(static_cast<std::uint16_t>(dh_));
}

std::size_t Suite::IntegKeySize() const {
  switch (integ_) {
    case IntegId::kHmacSha2_256_128: return 32;
    case IntegId::kHmacSha2_384_192: return 48;
    case IntegId::kHmacSha2_512_256: return 64;
    default: return 0;
  }
}

std::size_t Suite::IcvSize() const {
  switch (encr_) {
    case EncrId::kAesGcm8: return 8;
    case EncrId::kAesGcm12: return 12;
    case EncrId::kAesGcm16: return 16;
    default: break;
  }
  // RFC 4868 2.3: the ICV is half the hash output.
  return IntegKeySize() / 2;
}

std::size_t Suite::PrfKeySize() const { return crypto::HashSize(PrfHash()); }

crypto::HashAlg Suite::PrfHash() const {
  MIPSEC_BUG_IF(!is_ike_, "Suite::PrfHash() on an ESP suite");
  Result<crypto::HashAlg> h = PrfHashOf(prf_);
  return h.ok() ? *h : crypto::HashAlg::kSha256;
}

crypto::HashAlg Suite::IntegHash() const {
  switch (integ_) {
    case IntegId::kHmacSha2_256_128: return crypto::HashAlg::kSha256;
    case IntegId::kHmacSha2_384_192: return crypto::HashAlg::kSha384;
    case IntegId::kHmacSha2_512_256: return crypto::HashAlg::kSha512;
    default: MIPSEC_BUG("Suite::IntegHash() on an AEAD suite"); return crypto::HashAlg::kSha256;
  }
}

std::string Suite::ToString() const {
  std::string s = "aes" + Num(key_bits_);
  switch (encr_) {
    case EncrId::kAesGcm8: s += "gcm8"; break;
    case EncrId::kAesGcm12: s += "gcm12"; break;
    case EncrId::kAesGcm16: s += "gcm16"; break;
    default: break;
  }
  if (!is_aead()) s += "-sha" + Num(static_cast<std::uint16_t>(IntegKeySize() * 8));
  if (is_ike_) s += "-prfsha" + Num(static_cast<std::uint16_t>(PrfKeySize() * 8));
  if (std::optional<crypto::DhGroup> g = dh_group()) {
    s += "-" + std::string(crypto::DhGroupName(*g));
  }
  if (!is_ike_) s += esn_ == EsnId::kEsn ? "-esn" : "-noesn";
  return s;
}

}  // namespace mipsec::ikev2
