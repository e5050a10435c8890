// Message digests: MD5, SHA-1, SHA-256, SHA-384, SHA-512 over OpenSSL EVP.
//
// One-shot Hash() for small inputs, and Hasher for data that arrives in
// pieces. MD5 and SHA-1 are here for the protocols that still name them
// (RFC 5944 MN-HA authentication is HMAC-MD5, IKEv2 NAT detection is SHA-1);
// never use them for anything new.
//
// Digest outputs are returned as Bytes: they are public values. Digests of
// key material belong to the HMAC/PRF layer, which returns SecretBytes.
#ifndef MIPSEC_CRYPTO_HASH_H_
#define MIPSEC_CRYPTO_HASH_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"

struct evp_md_ctx_st;  // OpenSSL EVP_MD_CTX

namespace mipsec::crypto {

enum class HashAlg : std::uint8_t { kMd5, kSha1, kSha256, kSha384, kSha512 };

// Output length in bytes: 16, 20, 32, 48, 64.
constexpr std::size_t HashSize(HashAlg alg) {
  switch (alg) {
    case HashAlg::kMd5: return 16;
    case HashAlg::kSha1: return 20;
    case HashAlg::kSha256: return 32;
    case HashAlg::kSha384: return 48;
    case HashAlg::kSha512: return 64;
  }
  return 0;
}
// Internal block length in bytes (the HMAC "B" of RFC 2104): 64 or 128.
constexpr std::size_t HashBlockSize(HashAlg alg) {
  return alg == HashAlg::kSha384 || alg == HashAlg::kSha512 ? 128 : 64;
}
constexpr std::size_t kMaxHashSize = 64;

// "MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512".
std::string_view HashAlgName(HashAlg alg);

// The digest of `data`, HashSize(alg) bytes.
Result<Bytes> Hash(HashAlg alg, ByteSpan data);

// Incremental digest. Create(), any number of Update(), then Finish() or
// FinishInto(); after that the Hasher is reset and can digest a new message.
// Movable, not copyable; a moved-from Hasher must not be used (BUG).
class Hasher {
 public:
  static Result<Hasher> Create(HashAlg alg);

  Hasher(Hasher&& o) noexcept;
  Hasher& operator=(Hasher&& o) noexcept;
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  ~Hasher();

  HashAlg alg() const { return alg_; }
  std::size_t size() const { return HashSize(alg_); }

  Status Update(ByteSpan data);
  Result<Bytes> Finish();
  // Writes the digest to `out`, which must be exactly size() bytes
  // (kInvalidArgument otherwise, and the message state is kept).
  Status FinishInto(MutableByteSpan out);

 private:
  Hasher(HashAlg alg, evp_md_ctx_st* ctx) : alg_(alg), ctx_(ctx) {}
  Status CheckUsable() const;

  HashAlg alg_;
  evp_md_ctx_st* ctx_;
};

}  // namespace mipsec::crypto

#endif  // MIPSEC_CRYPTO_HASH_H_
