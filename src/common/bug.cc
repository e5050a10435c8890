#include "common/bug.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace mipsec {
namespace {
#ifdef NDEBUG
std::atomic<BugMode> g_mode{BugMode::kLog};
#else
std::atomic<BugMode> g_mode{BugMode::kAbort};
#endif
std::atomic<std::uint64_t> g_count{0};
}  // namespace

void SetBugMode(BugMode mode) { g_mode.store(mode); }
BugMode GetBugMode() { return g_mode.load(); }
std::uint64_t BugCount() { return g_count.load(); }

void ReportBug(const char* file, int line, const char* condition, std::string_view message) {
  // Written straight to stderr: a bug report must not depend on the logger
  // being configured, and carries no peer data.
  std::fprintf(stderr, "BUG at %s:%d%s%s%s: %.*s\n", file, line, condition ? " (" : "",
               condition ? condition : "", condition ? ")" : "", static_cast<int>(message.size()),
               message.data());
  if (g_mode.load() == BugMode::kAbort) std::abort();
  g_count.fetch_add(1);
}

}  // namespace mipsec
