// ReloadReport: what every daemon's SIGHUP reload (ha, fa, gw, mn) says and
// returns, in one place, so that the four read alike in a log:
//   "reload: no config file to re-read; nothing changed"
//   "reload failed, running configuration kept: ha.toml:12: key: reason"
//   "reload ha.toml: not applied (needs a restart): listen, ..."
// The daemon does the work (load, validate, apply all or nothing) and logs
// its own "reloaded <path>: <summary>" line.
#ifndef MIPSEC_PLATFORM_LINUX_RELOAD_REPORT_H_
#define MIPSEC_PLATFORM_LINUX_RELOAD_REPORT_H_

#include <string>

#include "common/log.h"
#include "common/result.h"

namespace mipsec::platform {

class ReloadReport {
 public:
  // `log` and `path` must outlive the report.
  ReloadReport(Logger& log, const std::string& path) : log_(log), path_(path) {}

  // kState (logged) when the daemon was started without a file to re-read.
  Status CheckPath() const {
    if (!path_.empty()) return Ok{};
    MIPSEC_LOG(log_, kError) << "reload: no config file to re-read; nothing changed";
    return Error(Errc::kState, "reload: no config file");
  }
  // Logs that nothing changed, and returns `e` (a parse error already names
  // file, line and key).
  Error Failed(const Error& e) const {
    MIPSEC_LOG(log_, kError) << "reload failed, running configuration kept: " << e.detail();
    return e;
  }
  // The same for an error found after parsing: prefixed with the file.
  Error FailedIn(const Error& e) const { return Failed(Error(e.code(), path_ + ": " + e.detail())); }
  // The keys that changed in the file but need a restart ("" for none).
  void RestartOnly(const std::string& keys) const {
    if (keys.empty()) return;
    MIPSEC_LOG(log_, kWarning) << "reload " << path_ << ": not applied (needs a restart): "
                               << keys;
  }

 private:
  Logger& log_;
  const std::string& path_;
};

}  // namespace mipsec::platform

#endif  // MIPSEC_PLATFORM_LINUX_RELOAD_REPORT_H_
