// Stateless COOKIE generation and checking for the IKE_SA_INIT responder
// (RFC 7296 2.6):
//
//   Cookie = VersionIDofSecret | HMAC-SHA-256(secret, Ni | IPi | SPIi)
//
// 4 + 32 = 36 octets (the notify allows 1 to 64). The keyed HMAC plays the
// role of the RFC's Hash(Ni | IPi | SPIi | secret). Secrets are rotated by
// the caller (on a timer it owns, or more often under attack); a cookie made
// with the secret just replaced stays valid for `previous_grace` after the
// rotation, never longer (2.6: "should not accept cookies indefinitely").
// Time and randomness are passed in.
#ifndef MIPSEC_IKEV2_CRYPTO_COOKIE_H_
#define MIPSEC_IKEV2_CRYPTO_COOKIE_H_

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/bytes.h"
#include "common/random.h"
#include "common/result.h"
#include "common/secret.h"
#include "common/time.h"

namespace mipsec::ikev2 {

constexpr std::size_t kCookieSize = 36;
constexpr std::size_t kMinCookieSecretSize = 16;

class CookieSecrets {
 public:
  explicit CookieSecrets(Duration previous_grace = Duration::Seconds(5))
      : grace_(previous_grace) {}

  // Makes `secret` (at least kMinCookieSecretSize bytes, else
  // kInvalidArgument) the current secret with the next version number; the
  // current one becomes the previous one, accepted until now + grace.
  Status Rotate(SecretBytes secret, Timestamp now);
  // Rotate() with 32 bytes from `rng` if there is no secret yet or the
  // current one was installed `period` or more before `now`.
  void RotateIfDue(Timestamp now, Duration period, RandomSource& rng);

  bool has_secret() const { return current_.has_value(); }
  std::uint32_t current_version() const { return current_ ? current_->version : 0; }

  // The cookie for an IKE_SA_INIT request: `ni` its Nonce Data,
  // `initiator_ip` its source address (4 or 16 octets), `spi_i` its SPIi.
  // kState if no secret was installed.
  Result<Bytes> Make(ByteSpan ni, ByteSpan initiator_ip, std::uint64_t spi_i) const;

  // Ok if `cookie` is what Make() gives now with the current secret, or with
  // the previous one while its grace lasts. kAuthFailed otherwise (a wrong
  // length, unknown version, or wrong hash); the RFC then says to ignore the
  // cookie and answer as if there was none. Constant time in the hash.
  Status Verify(ByteSpan cookie, ByteSpan ni, ByteSpan initiator_ip, std::uint64_t spi_i,
                Timestamp now) const;

 private:
  struct Secret {
    std::uint32_t version;
    SecretBytes key;
    Timestamp installed;
  };
  static Result<Bytes> Compute(const Secret& s, ByteSpan ni, ByteSpan ip, std::uint64_t spi_i);

  Duration grace_;
  std::optional<Secret> current_;
  std::optional<Secret> previous_;
  Timestamp previous_until_;
  std::uint32_t next_version_ = 1;
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CRYPTO_COOKIE_H_
