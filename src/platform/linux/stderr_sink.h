// The daemons' log sink: one line per event on stderr, stamped with the real
// time clock (the one place logging reads a clock; cores never do).
#ifndef MIPSEC_PLATFORM_LINUX_STDERR_SINK_H_
#define MIPSEC_PLATFORM_LINUX_STDERR_SINK_H_

#include "common/log.h"

namespace mipsec::platform {

// "2026-11-30T04:05:06.789Z info    [ha] registration accepted ..."
class StderrSink final : public LogSink {
 public:
  explicit StderrSink(bool with_time = true) : with_time_(with_time) {}
  void Write(const LogRecord& record) override;

 private:
  bool with_time_;
};

}  // namespace mipsec::platform

#endif  // MIPSEC_PLATFORM_LINUX_STDERR_SINK_H_
