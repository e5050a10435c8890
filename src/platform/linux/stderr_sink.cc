#include "platform/linux/stderr_sink.h"

#include <cstdio>
#include <ctime>

namespace mipsec::platform {

void StderrSink::Write(const LogRecord& r) {
  char stamp[40] = "";
  if (with_time_) {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    tm tmv{};
    gmtime_r(&ts.tv_sec, &tmv);
    std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tmv);
    std::snprintf(stamp + n, sizeof stamp - n, ".%03ldZ ", ts.tv_nsec / 1'000'000);
  }
  std::string_view lvl = LogLevelName(r.level);
  std::fprintf(stderr, "%s%-7.*s [%.*s] %.*s\n", stamp, static_cast<int>(lvl.size()), lvl.data(),
               static_cast<int>(r.component.size()), r.component.data(),
               static_cast<int>(r.message.size()), r.message.data());
}

}  // namespace mipsec::platform
