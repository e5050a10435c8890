// Errors from system calls: Error(Errc::kSystem, "<what>: <strerror>").
#ifndef MIPSEC_PLATFORM_LINUX_SYS_ERROR_H_
#define MIPSEC_PLATFORM_LINUX_SYS_ERROR_H_

#include <cerrno>
#include <string>
#include <string_view>

#include "common/result.h"

namespace mipsec::platform {

// The description of an errno value ("File exists"), thread-safe.
std::string ErrnoString(int err);

// Error(Errc::kSystem, "<what>: <strerror(err)>"). Pass errno explicitly
// when anything may have run since the failing call.
Error SysError(std::string_view what, int err = errno);

}  // namespace mipsec::platform

#endif  // MIPSEC_PLATFORM_LINUX_SYS_ERROR_H_
