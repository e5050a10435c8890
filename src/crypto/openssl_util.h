// Internal to src/crypto: OpenSSL error mapping, owning handles and the
// algorithm objects fetched once per process. Nothing outside src/crypto
// includes this header; the public headers forward-declare the OpenSSL types
// they hold.
#ifndef MIPSEC_CRYPTO_OPENSSL_UTIL_H_
#define MIPSEC_CRYPTO_OPENSSL_UTIL_H_

#include <openssl/bn.h>
#include <openssl/evp.h>

#include <cstddef>
#include <limits>
#include <memory>
#include <string_view>

#include "common/result.h"
#include "crypto/hash.h"

namespace mipsec::crypto::internal {

// Drains the calling thread's OpenSSL error queue into one Error:
// "<op>: <ERR_error_string> [; <next error> ...]". Every failure path in
// src/crypto calls this (or ClearOpenSslErrors) so that no stale entry is
// left for an unrelated later call.
Error OpenSslError(Errc code, std::string_view op);
// Drops queued errors when the failure is already described by our own
// detail (peer input rejected by OpenSSL's checks, for instance).
void ClearOpenSslErrors();

// EVP_* functions take int lengths.
inline bool FitsInt(std::size_t n) {
  return n <= static_cast<std::size_t>(std::numeric_limits<int>::max());
}

// A pointer that is never null, for APIs that read "no key" from a null
// pointer even when the length is 0.
inline const unsigned char* NonNull(const std::uint8_t* p) {
  static const unsigned char kEmpty = 0;
  return p != nullptr ? p : &kEmpty;
}

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct EvpPkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct BignumDeleter {  // clears: BIGNUMs here may hold private values
  void operator()(BIGNUM* p) const { BN_clear_free(p); }
};
struct BnCtxDeleter {
  void operator()(BN_CTX* p) const { BN_CTX_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, EvpPkeyCtxDeleter>;
using BignumPtr = std::unique_ptr<BIGNUM, BignumDeleter>;
using BnCtxPtr = std::unique_ptr<BN_CTX, BnCtxDeleter>;

// Algorithms fetched from the default library context on first use and kept
// for the life of the process (explicit fetching avoids a provider lookup on
// every packet). Null when the provider does not offer the algorithm.
const EVP_MD* FetchedMd(HashAlg alg);
EVP_MAC* FetchedHmac();
// AES in `mode` ("GCM" or "CBC") for a key of `key_size` bytes (16, 24, 32).
const EVP_CIPHER* FetchedAes(std::string_view mode, std::size_t key_size);
// OpenSSL's provider name for a digest ("SHA2-256", ...).
const char* MdName(HashAlg alg);

}  // namespace mipsec::crypto::internal

#endif  // MIPSEC_CRYPTO_OPENSSL_UTIL_H_
