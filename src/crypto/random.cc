#include "crypto/random.h"

#include <openssl/err.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace mipsec::crypto {

void SystemRandom::Fill(MutableByteSpan out) {
  constexpr std::size_t kChunk = 1 << 20;  // RAND_bytes takes an int length
  std::size_t done = 0;
  while (done < out.size()) {
    const std::size_t n = std::min(kChunk, out.size() - done);
    if (RAND_bytes(out.data() + done, static_cast<int>(n)) != 1) {
      char err[256];
      ERR_error_string_n(ERR_get_error(), err, sizeof(err));
      std::fprintf(stderr, "mipsec: fatal: RAND_bytes failed (%s); refusing to continue\n", err);
      std::abort();
    }
    done += n;
  }
}

}  // namespace mipsec::crypto
