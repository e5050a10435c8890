#include "platform/linux/sys_error.h"

#include <cstring>

namespace mipsec::platform {

std::string ErrnoString(int err) {
  // GNU strerror_r returns a pointer to a static or to our buffer.
  char buf[128];
  const char* s = strerror_r(err, buf, sizeof buf);
  return s != nullptr ? std::string(s) : "errno " + std::to_string(err);
}

Error SysError(std::string_view what, int err) {
  std::string d(what);
  d += ": ";
  d += ErrnoString(err);
  return Error(Errc::kSystem, std::move(d));
}

}  // namespace mipsec::platform
