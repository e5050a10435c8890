// Logging: levels, component tags, one line per event, no key material.
//
// A Logger is a small value (sink pointer, component tag, minimum level) that
// each core receives at construction; there is no global logger. The sink
// decides where lines go and stamps them with time (the simulator's sink uses
// virtual time, the daemon's the wall clock: platform/linux/stderr_sink.h),
// so cores never read a clock to log.
//
//   MIPSEC_LOG(log_, kInfo) << "registration accepted, lifetime " << lifetime;
//
// The message is only formatted when the level is enabled. Anything marked as
// secret (a type with `static constexpr bool kIsSecret = true`, such as
// SecretBytes) is refused at compile time, and LogStream has no overload for
// raw byte spans, so key bytes cannot reach a log by accident.
#ifndef MIPSEC_COMMON_LOG_H_
#define MIPSEC_COMMON_LOG_H_

#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/bytes.h"

namespace mipsec {

enum class LogLevel : std::uint8_t { kTrace, kDebug, kInfo, kNotice, kWarning, kError, kOff };

std::string_view LogLevelName(LogLevel l);  // "trace", "debug", ...
std::optional<LogLevel> ParseLogLevel(std::string_view name);

struct LogRecord {
  LogLevel level;
  std::string_view component;  // "ha", "ike", "esp", "sim", ...
  std::string_view message;    // one line, no trailing newline
};

class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void Write(const LogRecord& record) = 0;
};

// Keeps every record in memory (tests, simulator event logs).
class MemorySink final : public LogSink {
 public:
  struct Line {
    LogLevel level;
    std::string component;
    std::string message;
  };
  void Write(const LogRecord& record) override;
  const std::vector<Line>& lines() const { return lines_; }
  bool Contains(std::string_view needle) const;
  void Clear() { lines_.clear(); }

 private:
  std::vector<Line> lines_;
};

class Logger {
 public:
  // A logger with no sink discards everything.
  Logger() = default;
  Logger(LogSink* sink, std::string component, LogLevel min_level = LogLevel::kInfo)
      : sink_(sink), component_(std::move(component)), min_(min_level) {}

  // Same sink and level, another component tag: log.Child("ha.binding").
  Logger Child(std::string_view sub) const;

  bool Enabled(LogLevel l) const { return sink_ != nullptr && l >= min_ && l != LogLevel::kOff; }
  void Write(LogLevel l, std::string_view message) const;
  const std::string& component() const { return component_; }
  LogLevel min_level() const { return min_; }
  void set_min_level(LogLevel l) { min_ = l; }

 private:
  LogSink* sink_ = nullptr;
  std::string component_;
  LogLevel min_ = LogLevel::kInfo;
};

namespace log_internal {
template <typename T, typename = void>
struct IsSecret : std::false_type {};
template <typename T>
struct IsSecret<T, std::void_t<decltype(T::kIsSecret)>> : std::bool_constant<T::kIsSecret> {};
}  // namespace log_internal

// Collects one line and hands it to the Logger when destroyed.
class LogStream {
 public:
  LogStream(const Logger& logger, LogLevel level) : logger_(logger), level_(level) {}
  LogStream(const LogStream&) = delete;
  LogStream& operator=(const LogStream&) = delete;
  ~LogStream() { logger_.Write(level_, os_.str()); }

  template <typename T>
  LogStream& operator<<(const T& v) {
    using U = std::remove_cvref_t<T>;
    static_assert(!log_internal::IsSecret<U>::value, "key material must never be logged");
    static_assert(!std::is_same_v<U, ByteSpan> && !std::is_same_v<U, MutableByteSpan> &&
                      !std::is_same_v<U, Bytes>,
                  "log bytes explicitly (ToHex) and only when they are public");
    if constexpr (std::is_same_v<U, std::uint8_t> || std::is_same_v<U, std::int8_t>) {
      os_ << static_cast<int>(v);  // numbers, not characters
    } else {
      os_ << v;
    }
    return *this;
  }

 private:
  const Logger& logger_;
  LogLevel level_;
  std::ostringstream os_;
};

}  // namespace mipsec

// MIPSEC_LOG(logger, kInfo) << ...; formats only when the level is enabled.
#define MIPSEC_LOG(logger, level)                                     \
  if (!(logger).Enabled(::mipsec::LogLevel::level)) {                 \
  } else                                                              \
    ::mipsec::LogStream((logger), ::mipsec::LogLevel::level)

#endif  // MIPSEC_COMMON_LOG_H_
