#include "platform/linux/sysctl.h"

#include <fstream>

namespace mipsec::platform {

Result<std::string> ReadSysctl(const std::string& path) {
  std::ifstream f(path);
  std::string v;
  if (!(f >> v)) return Error(Errc::kSystem, "sysctl " + path + ": cannot read it");
  return v;
}

Status WriteSysctl(const std::string& path, const std::string& value) {
  std::ofstream f(path);
  f << value;
  f.close();
  if (!f.good()) return Error(Errc::kSystem, "sysctl " + path + " = " + value + ": cannot write it");
  return Ok{};
}

Status SysctlChanges::Set(const std::string& path, const std::string& value) {
  MIPSEC_ASSIGN_OR_RETURN(std::string old, ReadSysctl(path));
  if (old == value) return Ok{};
  MIPSEC_TRY(WriteSysctl(path, value));
  saved_.emplace_back(path, std::move(old));
  return Ok{};
}

void SysctlChanges::Restore() {
  for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) (void)WriteSysctl(it->first, it->second);
  saved_.clear();
}

}  // namespace mipsec::platform
