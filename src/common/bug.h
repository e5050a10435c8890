// BUG(): checks of local invariants (never of peer input).
//
// A peer sending garbage is not a bug: that is a returned Error mapped to a
// protocol code. A BUG is our own code breaking its contract. What happens
// then is the process-wide BugMode:
//   kAbort (default when NDEBUG is not defined): print and abort, so tests and
//          debug builds stop at the fault;
//   kLog   (default in release builds): print, count, and return, so the
//          caller can fail the one SA or binding instead of the daemon.
// MIPSEC_BUG_IF returns whether the condition held, for that recovery:
//
//   if (MIPSEC_BUG_IF(idx >= table_.size(), "timer index out of range")) return;
#ifndef MIPSEC_COMMON_BUG_H_
#define MIPSEC_COMMON_BUG_H_

#include <cstdint>
#include <string_view>

namespace mipsec {

enum class BugMode { kAbort, kLog };

void SetBugMode(BugMode mode);
BugMode GetBugMode();
// How many bugs were reported in kLog mode since the process started.
std::uint64_t BugCount();

[[gnu::cold]] void ReportBug(const char* file, int line, const char* condition,
                             std::string_view message);

}  // namespace mipsec

#define MIPSEC_BUG(msg) ::mipsec::ReportBug(__FILE__, __LINE__, nullptr, (msg))
#define MIPSEC_BUG_IF(cond, msg) \
  ((cond) ? (::mipsec::ReportBug(__FILE__, __LINE__, #cond, (msg)), true) : false)

#endif  // MIPSEC_COMMON_BUG_H_
