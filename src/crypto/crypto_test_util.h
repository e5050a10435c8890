// Helpers shared by the src/crypto tests (not part of the library).
#ifndef MIPSEC_CRYPTO_CRYPTO_TEST_UTIL_H_
#define MIPSEC_CRYPTO_CRYPTO_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"
#include "common/secret.h"

namespace mipsec::crypto::testing {

// Hex from a published vector; a typo in the test aborts loudly.
inline Bytes Hex(std::string_view hex) {
  Result<Bytes> b = FromHex(hex);
  if (!b.ok()) {
    ADD_FAILURE() << "bad hex in test vector: " << b.error().ToString();
    return Bytes();
  }
  return std::move(b).value();
}

inline SecretBytes Key(std::string_view hex) { return SecretBytes(Hex(hex)); }
inline SecretBytes Key(const Bytes& b) { return SecretBytes(ByteSpan(b)); }

inline Bytes Repeat(std::uint8_t b, std::size_t n) { return Bytes(n, b); }
inline Bytes Ascii(std::string_view s) { return Bytes(s.begin(), s.end()); }

// For EXPECT_EQ on secrets in tests only.
inline std::string RevealHex(const SecretBytes& s) { return ToHex(s.Reveal()); }

}  // namespace mipsec::crypto::testing

#endif  // MIPSEC_CRYPTO_CRYPTO_TEST_UTIL_H_
