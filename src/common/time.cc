#include "common/time.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

namespace mipsec {

std::string Duration::ToString() const {
  if (IsInfinite()) return "inf";
  char buf[48];
  std::int64_t a = ns_ < 0 ? -ns_ : ns_;
  const char* sign = ns_ < 0 ? "-" : "";
  if (a >= 1'000'000'000) {
    std::snprintf(buf, sizeof buf, "%s%" PRId64 ".%03" PRId64 "s", sign, a / 1'000'000'000,
                  (a / 1'000'000) % 1000);
  } else if (a >= 1'000'000) {
    std::snprintf(buf, sizeof buf, "%s%" PRId64 ".%03" PRId64 "ms", sign, a / 1'000'000,
                  (a / 1'000) % 1000);
  } else if (a >= 1'000) {
    std::snprintf(buf, sizeof buf, "%s%" PRId64 ".%03" PRId64 "us", sign, a / 1'000, a % 1000);
  } else {
    std::snprintf(buf, sizeof buf, "%s%" PRId64 "ns", sign, a);
  }
  return buf;
}

std::string Timestamp::ToString() const {
  if (IsInfinite()) return "inf";
  char buf[48];
  std::int64_t a = ns_ < 0 ? -ns_ : ns_;
  std::snprintf(buf, sizeof buf, "%s%" PRId64 ".%09" PRId64, ns_ < 0 ? "-" : "", a / 1'000'000'000,
                a % 1'000'000'000);
  return buf;
}

}  // namespace mipsec
