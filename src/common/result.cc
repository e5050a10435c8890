#include "common/result.h"

namespace mipsec {

std::string_view ErrcName(Errc c) {
  switch (c) {
    case Errc::kTruncated: return "truncated";
    case Errc::kMalformed: return "malformed";
    case Errc::kUnsupported: return "unsupported";
    case Errc::kInvalidArgument: return "invalid argument";
    case Errc::kAuthFailed: return "authentication failed";
    case Errc::kReplay: return "replay";
    case Errc::kNotFound: return "not found";
    case Errc::kAlreadyExists: return "already exists";
    case Errc::kState: return "wrong state";
    case Errc::kResource: return "resource exhausted";
    case Errc::kTimeout: return "timeout";
    case Errc::kSystem: return "system error";
    case Errc::kInternal: return "internal error";
  }
  return "unknown";
}

std::string Error::ToString() const {
  std::string s(ErrcName(code_));
  if (!detail_.empty()) {
    s += ": ";
    s += detail_;
  }
  return s;
}

Error Error::WithContext(std::string_view context) const {
  std::string d(context);
  if (!detail_.empty()) {
    d += ": ";
    d += detail_;
  }
  return Error(code_, std::move(d));
}

}  // namespace mipsec
