// Kernel parameters under /proc/sys, as the daemons change them: read,
// write, and the changes remembered so that they are undone at exit.
#ifndef MIPSEC_PLATFORM_LINUX_SYSCTL_H_
#define MIPSEC_PLATFORM_LINUX_SYSCTL_H_

#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace mipsec::platform {

// The first word of the file (e.g. "/proc/sys/net/ipv4/ip_forward" -> "1").
Result<std::string> ReadSysctl(const std::string& path);
// Writes `value`; the error names the path and the value.
Status WriteSysctl(const std::string& path, const std::string& value);

// Sysctls a daemon changed, restored in reverse order by Restore() or at
// destruction.
class SysctlChanges {
 public:
  SysctlChanges() = default;
  SysctlChanges(const SysctlChanges&) = delete;
  SysctlChanges& operator=(const SysctlChanges&) = delete;
  ~SysctlChanges() { Restore(); }

  // Writes `value` and remembers the old one (nothing is written or
  // remembered when it is already `value`).
  Status Set(const std::string& path, const std::string& value);
  void Restore();

 private:
  std::vector<std::pair<std::string, std::string>> saved_;
};

}  // namespace mipsec::platform

#endif  // MIPSEC_PLATFORM_LINUX_SYSCTL_H_
