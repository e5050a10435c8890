// Shared by every fuzz target in fuzz/.
//
// A target defines LLVMFuzzerTestOneInput() and is linked either with
// libFuzzer (-DMIPSEC_LIBFUZZER=ON, clang) or with standalone_main.cc, which
// replays a seed corpus and deterministic mutations of it (the ctest `fuzz`
// label). Targets must never read outside [data, data + size): both drivers
// hand them an exactly-sized heap copy so ASan sees any over-read.
//
// FUZZ_CHECK states a property (round trip, invariant); a violation prints
// the condition and aborts, which both drivers report as a crash.
#ifndef MIPSEC_FUZZ_FUZZ_TARGET_H_
#define MIPSEC_FUZZ_FUZZ_TARGET_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

#define FUZZ_CHECK(cond)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

#endif  // MIPSEC_FUZZ_FUZZ_TARGET_H_
