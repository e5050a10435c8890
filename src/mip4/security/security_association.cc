#include "mip4/security/security_association.h"

#include <algorithm>
#include <string>
#include <utility>

#include "common/wire/writer.h"
#include "crypto/hash.h"

namespace mipsec::mip4 {

namespace {

crypto::HashAlg HashOf(AuthAlgorithm a) {
  switch (a) {
    case AuthAlgorithm::kHmacMd5: return crypto::HashAlg::kMd5;
  }
  return crypto::HashAlg::kMd5;
}

// Type(1) Length(1) SPI(4).
constexpr std::size_t kAuthExtHeader = 6;

}  // namespace

Status ValidateSpi(std::uint32_t spi) {
  // RFC 5944 1.6: SPI values 0 through 255 are reserved and MUST NOT be used.
  if (spi < kMinSpi) {
    return Error(Errc::kInvalidArgument,
                 std::to_string(spi) + " is reserved (SPIs 0-255, RFC 5944 1.6)");
  }
  return Ok{};
}

std::string_view AuthAlgorithmName(AuthAlgorithm a) {
  switch (a) {
    case AuthAlgorithm::kHmacMd5: return "hmac-md5";
  }
  return "unknown";
}

Result<AuthAlgorithm> ParseAuthAlgorithm(std::string_view name) {
  if (name == "hmac-md5") return AuthAlgorithm::kHmacMd5;
  return Error(Errc::kUnsupported, "'" + std::string(name) + "' is not a supported algorithm "
                                   "(supported: hmac-md5)");
}

std::size_t AuthenticatorSize(AuthAlgorithm a) { return crypto::HashSize(HashOf(a)); }

std::size_t MinKeySize(AuthAlgorithm a) {
  switch (a) {
    case AuthAlgorithm::kHmacMd5: return 16;  // RFC 5944 5.1: 128-bit keys
  }
  return 16;
}

std::string_view ReplayMethodName(ReplayMethod m) {
  switch (m) {
    case ReplayMethod::kTimestamp: return "timestamp";
    case ReplayMethod::kNonce: return "nonce";
  }
  return "unknown";
}

Result<ReplayMethod> ParseReplayMethod(std::string_view name) {
  if (name == "timestamp") return ReplayMethod::kTimestamp;
  if (name == "nonce") return ReplayMethod::kNonce;
  return Error(Errc::kUnsupported,
               "'" + std::string(name) + "' is not a replay method (timestamp or nonce)");
}

Result<SecurityAssociation> SecurityAssociation::Create(SecurityAssociationParams params) {
  if (Status st = ValidateSpi(params.spi); !st.ok()) {
    return Error(Errc::kInvalidArgument, "spi: " + st.error().detail());
  }
  if (AuthAlgorithmName(params.algorithm) == "unknown") {
    return Error(Errc::kInvalidArgument, "algorithm: unknown value");
  }
  if (params.key.size() < MinKeySize(params.algorithm)) {
    return Error(Errc::kInvalidArgument,
                 "key: " + std::to_string(params.key.size()) + " bytes, " +
                     std::string(AuthAlgorithmName(params.algorithm)) + " needs at least " +
                     std::to_string(MinKeySize(params.algorithm)) + " (RFC 5944 5.1)");
  }
  if (params.replay == ReplayMethod::kTimestamp &&
      params.timestamp_tolerance <= Duration::Zero()) {
    return Error(Errc::kInvalidArgument, "tolerance: must be positive");
  }
  SecretBytes key = std::move(params.key);
  return SecurityAssociation(params, std::move(key));
}

Result<crypto::HmacContext*> SecurityAssociation::Context() {
  if (!ctx_) {
    MIPSEC_ASSIGN_OR_RETURN(crypto::HmacContext c,
                            crypto::HmacContext::Create(HashOf(algorithm_), key_));
    ctx_.emplace(std::move(c));
  }
  return &*ctx_;
}

Status SecurityAssociation::ComputeInto(ByteSpan covered, MutableByteSpan out) {
  if (out.size() != authenticator_size()) {
    return Error(Errc::kInvalidArgument, "authenticator buffer of " + std::to_string(out.size()) +
                                             " bytes, SPI " + std::to_string(spi_) + " needs " +
                                             std::to_string(authenticator_size()));
  }
  MIPSEC_ASSIGN_OR_RETURN(crypto::HmacContext* ctx, Context());
  // RFC 5944 3.5.1: HMAC over exactly the covered bytes.
  MIPSEC_TRY(ctx->Update(covered));
  return ctx->FinishInto(out);
}

Result<Bytes> SecurityAssociation::Compute(ByteSpan covered) {
  Bytes out(authenticator_size());
  MIPSEC_TRY(ComputeInto(covered, out));
  return out;
}

Status SecurityAssociation::Verify(ByteSpan covered, ByteSpan authenticator) {
  // The length is public (it is on the wire); anything but the full
  // authenticator fails without computing.
  if (authenticator.size() != authenticator_size()) {
    return Error(Errc::kAuthFailed, "authenticator of " + std::to_string(authenticator.size()) +
                                        " bytes, SPI " + std::to_string(spi_) + " uses " +
                                        std::to_string(authenticator_size()));
  }
  MIPSEC_ASSIGN_OR_RETURN(crypto::HmacContext* ctx, Context());
  MIPSEC_TRY(ctx->Update(covered));
  Status st = ctx->Verify(authenticator);  // constant-time compare
  if (!st.ok() && st.error().code() == Errc::kAuthFailed) {
    return Error(Errc::kAuthFailed, "authenticator mismatch (SPI " + std::to_string(spi_) + ")");
  }
  return st;
}

Result<AuthExtensionView> ViewAuthExtension(ByteSpan message, std::size_t offset) {
  if (offset > message.size() || message.size() - offset < kAuthExtHeader) {
    return Error(Errc::kTruncated, "authentication extension at offset " + std::to_string(offset) +
                                       " needs 6 bytes, " +
                                       std::to_string(offset > message.size() ? 0 : message.size() - offset) +
                                       " left");
  }
  AuthExtensionView v;
  v.type = message[offset];
  const std::size_t length = message[offset + 1];
  if (length < 4) {
    return Error(Errc::kMalformed, "authentication extension type " + std::to_string(v.type) +
                                       ": length " + std::to_string(length) +
                                       " is less than 4 (SPI)");
  }
  if (message.size() - offset - 2 < length) {
    return Error(Errc::kTruncated, "authentication extension type " + std::to_string(v.type) +
                                       ": length " + std::to_string(length) + " but only " +
                                       std::to_string(message.size() - offset - 2) + " bytes left");
  }
  v.spi = wire::LoadU32(message, offset + 2);
  v.covered = message.first(offset + kAuthExtHeader);
  v.authenticator = message.subspan(offset + kAuthExtHeader, length - 4);
  v.end = offset + 2 + length;
  return v;
}

Status AppendAuthExtension(Bytes& message, AuthExtensionType type, SecurityAssociation& sa) {
  const std::size_t n = sa.authenticator_size();
  if (n + 4 > 255) return Error(Errc::kInvalidArgument, "authenticator too long for a TLV");
  const std::size_t start = message.size();
  message.resize(start + kAuthExtHeader + n);
  message[start] = static_cast<std::uint8_t>(type);
  message[start + 1] = static_cast<std::uint8_t>(4 + n);
  wire::StoreU32(message, start + 2, sa.spi());
  MutableByteSpan out = MutableByteSpan(message).subspan(start + kAuthExtHeader, n);
  Status st = sa.ComputeInto(ByteSpan(message).first(start + kAuthExtHeader), out);
  if (!st.ok()) message.resize(start);
  return st;
}

}  // namespace mipsec::mip4
