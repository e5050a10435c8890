#include "ikev2/crypto/cookie.h"

#include <string>
#include <utility>

#include "crypto/ct_compare.h"
#include "crypto/hmac.h"

namespace mipsec::ikev2 {

Status CookieSecrets::Rotate(SecretBytes secret, Timestamp now) {
  if (secret.size() < kMinCookieSecretSize) {
    return Error(Errc::kInvalidArgument, "cookie secret of " + std::to_string(secret.size()) +
                                             " bytes, at least 16 needed");
  }
  if (current_) {
    previous_ = std::move(current_);
    previous_until_ = now + grace_;
  }
  current_ = Secret{next_version_++, std::move(secret), now};
  return Ok{};
}

void CookieSecrets::RotateIfDue(Timestamp now, Duration period, RandomSource& rng) {
  if (current_ && now - current_->installed < period) return;
  SecretBytes s(32);
  rng.Fill(s.RevealMutable());
  // 32 bytes always satisfies Rotate()'s length check.
  (void)Rotate(std::move(s), now);
}

Result<Bytes> CookieSecrets::Compute(const Secret& s, ByteSpan ni, ByteSpan ip,
                                     std::uint64_t spi_i) {
  // RFC 7296 2.6: <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>).
  MIPSEC_ASSIGN_OR_RETURN(crypto::HmacContext mac,
                          crypto::HmacContext::Create(crypto::HashAlg::kSha256, s.key));
  std::uint8_t spi[8];
  for (int i = 0; i < 8; ++i) spi[i] = static_cast<std::uint8_t>(spi_i >> (8 * (7 - i)));
  MIPSEC_TRY(mac.Update(ni));
  MIPSEC_TRY(mac.Update(ip));
  MIPSEC_TRY(mac.Update(spi));
  Bytes out(kCookieSize);
  for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(s.version >> (8 * (3 - i)));
  MIPSEC_TRY(mac.FinishInto(MutableByteSpan(out).subspan(4)));
  return out;
}

Result<Bytes> CookieSecrets::Make(ByteSpan ni, ByteSpan initiator_ip, std::uint64_t spi_i) const {
  if (!current_) return Error(Errc::kState, "cookie: no secret installed");
  return Compute(*current_, ni, initiator_ip, spi_i);
}

Status CookieSecrets::Verify(ByteSpan cookie, ByteSpan ni, ByteSpan initiator_ip,
                             std::uint64_t spi_i, Timestamp now) const {
  if (cookie.size() != kCookieSize) {
    return Error(Errc::kAuthFailed, "cookie of " + std::to_string(cookie.size()) +
                                        " octets, ours are 36");
  }
  const std::uint32_t version = static_cast<std::uint32_t>(cookie[0]) << 24 |
                                static_cast<std::uint32_t>(cookie[1]) << 16 |
                                static_cast<std::uint32_t>(cookie[2]) << 8 | cookie[3];
  const Secret* s = nullptr;
  if (current_ && current_->version == version) {
    s = &*current_;
  } else if (previous_ && previous_->version == version && now < previous_until_) {
    s = &*previous_;
  }
  if (s == nullptr) {
    return Error(Errc::kAuthFailed, "cookie: secret version " + std::to_string(version) +
                                        " unknown or expired");
  }
  MIPSEC_ASSIGN_OR_RETURN(Bytes expected, Compute(*s, ni, initiator_ip, spi_i));
  if (!crypto::ConstantTimeEqual(expected, cookie)) {
    return Error(Errc::kAuthFailed, "cookie does not match");
  }
  return Ok{};
}

}  // namespace mipsec::ikev2
