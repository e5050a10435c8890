// Mobility Security Associations (RFC 5944 1.6, 3.2, 3.5, 5.1) and the
// authenticators of the MN-HA (32), MN-FA (33) and FA-HA (34) extensions.
//
// A SecurityAssociation is what an SPI selects: the algorithm, the key, the
// replay-protection method and its timestamp tolerance. It computes and
// verifies authenticators over a byte span the caller hands in; it knows
// nothing of the message codec. RFC 5944 3.5.1 fixes that span: the UDP
// payload from its first byte through the Type, Length and SPI of the
// authentication extension itself (everything before the Authenticator).
// ViewAuthExtension() finds that span for an extension at a known offset, and
// AppendAuthExtension() writes one, so codecs and cores never re-derive it.
//
// The keyed HMAC context is created on first use and then reused for every
// message (the key is not re-processed); ReleaseContext() frees it again
// (SaDatabase does that to bound memory with many SAs, see sa_database.h).
// Because of that cache, Compute/Verify are non-const and an SA is not safe
// to share between threads; each core owns its own.
//
// Keys are SecretBytes, never printed; error details name SPIs and lengths,
// never key bytes.
#ifndef MIPSEC_MIP4_SECURITY_SECURITY_ASSOCIATION_H_
#define MIPSEC_MIP4_SECURITY_SECURITY_ASSOCIATION_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"
#include "common/secret.h"
#include "common/time.h"
#include "crypto/hmac.h"

namespace mipsec::mip4 {

// SPIs 0-255 are reserved (RFC 5944 1.6 "Security Parameter Index"); a
// configured SA may not use one.
constexpr std::uint32_t kMinSpi = 256;
// Ok for 256..2^32-1; kInvalidArgument naming the rule otherwise:
//   "200 is reserved (SPIs 0-255, RFC 5944 1.6)".
Status ValidateSpi(std::uint32_t spi);

// Authentication algorithms an SPI can select. RFC 5944 3.5.1 and 5.1
// require HMAC-MD5 (the default, 128-bit authenticator). The numbering is
// ours (RFC 5944 assigns none); add algorithms by extending this enum and
// the table in security_association.cc.
enum class AuthAlgorithm : std::uint8_t {
  kHmacMd5 = 1,
};
// "hmac-md5".
std::string_view AuthAlgorithmName(AuthAlgorithm a);
// The inverse of AuthAlgorithmName (case-sensitive); kUnsupported otherwise.
Result<AuthAlgorithm> ParseAuthAlgorithm(std::string_view name);
// Authenticator length in bytes (16 for HMAC-MD5).
std::size_t AuthenticatorSize(AuthAlgorithm a);
// Smallest accepted key, in bytes (16 for HMAC-MD5: RFC 5944 5.1 "key size
// of 128 bits"; longer keys of arbitrary binary value are allowed).
std::size_t MinKeySize(AuthAlgorithm a);

// Replay protection for registrations (RFC 5944 5.7). Timestamps are
// mandatory to implement, nonces optional; there is no "none": RFC 5944
// 3.8.2.1 (b) requires the HA to check the Identification.
enum class ReplayMethod : std::uint8_t { kTimestamp, kNonce };
// "timestamp", "nonce".
std::string_view ReplayMethodName(ReplayMethod m);
Result<ReplayMethod> ParseReplayMethod(std::string_view name);

// RFC 5944 5.7.1: "a default value of 7 seconds MAY be used"; "This value
// SHOULD be greater than 3 seconds".
constexpr Duration kDefaultTimestampTolerance = Duration::Seconds(7);

// The authentication extension types (RFC 5944 3.5.2-3.5.4).
enum class AuthExtensionType : std::uint8_t {
  kMobileHome = 32,
  kMobileForeign = 33,
  kForeignHome = 34,
};

struct SecurityAssociationParams {
  std::uint32_t spi = 0;
  AuthAlgorithm algorithm = AuthAlgorithm::kHmacMd5;
  SecretBytes key;
  ReplayMethod replay = ReplayMethod::kTimestamp;
  // Only meaningful with kTimestamp; must be positive.
  Duration timestamp_tolerance = kDefaultTimestampTolerance;
};

class SecurityAssociation {
 public:
  // Validates: SPI not reserved, key at least MinKeySize(algorithm), a
  // positive tolerance. kInvalidArgument with a detail naming the field.
  static Result<SecurityAssociation> Create(SecurityAssociationParams params);

  SecurityAssociation(SecurityAssociation&&) noexcept = default;
  SecurityAssociation& operator=(SecurityAssociation&&) noexcept = default;
  SecurityAssociation(const SecurityAssociation&) = delete;
  SecurityAssociation& operator=(const SecurityAssociation&) = delete;

  std::uint32_t spi() const { return spi_; }
  AuthAlgorithm algorithm() const { return algorithm_; }
  ReplayMethod replay_method() const { return replay_; }
  Duration timestamp_tolerance() const { return tolerance_; }
  std::size_t authenticator_size() const { return AuthenticatorSize(algorithm_); }

  // Writes the authenticator of `covered` (RFC 5944 3.5.1) into `out`, which
  // must be exactly authenticator_size() bytes (kInvalidArgument otherwise).
  Status ComputeInto(ByteSpan covered, MutableByteSpan out);
  Result<Bytes> Compute(ByteSpan covered);
  // Ok if `authenticator` is exactly the authenticator of `covered`;
  // kAuthFailed otherwise, including any other length (a truncated tag never
  // verifies). Constant time in the compared bytes.
  Status Verify(ByteSpan covered, ByteSpan authenticator);

  // Whether a keyed context is currently cached, and dropping it (the next
  // Compute/Verify re-keys from the stored key).
  bool has_context() const { return ctx_.has_value(); }
  void ReleaseContext() { ctx_.reset(); }

 private:
  SecurityAssociation(const SecurityAssociationParams& p, SecretBytes key)
      : spi_(p.spi), algorithm_(p.algorithm), replay_(p.replay),
        tolerance_(p.timestamp_tolerance), key_(std::move(key)) {}
  Result<crypto::HmacContext*> Context();

  std::uint32_t spi_;
  AuthAlgorithm algorithm_;
  ReplayMethod replay_;
  Duration tolerance_;
  SecretBytes key_;
  std::optional<crypto::HmacContext> ctx_;
};

// An authentication extension located in a message (no copies: every span
// points into the message given to ViewAuthExtension).
struct AuthExtensionView {
  std::uint8_t type = 0;
  std::uint32_t spi = 0;
  // Message bytes [0, offset + 6): the data the authenticator protects.
  ByteSpan covered;
  // The Authenticator (Length - 4 bytes).
  ByteSpan authenticator;
  // Offset just past this extension.
  std::size_t end = 0;
};

// Reads the authentication extension whose Type byte is at `offset` of
// `message` (the UDP payload): Type(1) Length(1) SPI(4) Authenticator. Does
// not check the type value. kTruncated if the extension runs past the end,
// kMalformed if Length < 4.
Result<AuthExtensionView> ViewAuthExtension(ByteSpan message, std::size_t offset);

// Appends Type, Length, SPI and the authenticator computed over all of
// `message` as it then stands (RFC 5944 3.5.1), i.e. the message must already
// hold everything the authenticator covers. On error `message` is unchanged.
Status AppendAuthExtension(Bytes& message, AuthExtensionType type, SecurityAssociation& sa);

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_SECURITY_SECURITY_ASSOCIATION_H_
