#include "crypto/ct_compare.h"

#include <openssl/crypto.h>

namespace mipsec::crypto {

bool ConstantTimeEqual(ByteSpan a, ByteSpan b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace mipsec::crypto
