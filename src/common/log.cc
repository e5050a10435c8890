#include "common/log.h"


namespace mipsec {

std::string_view LogLevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kTrace: return "trace";
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kNotice: return "notice";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
    case LogLevel::kOff: return "off";
  }
  return "?";
}

std::optional<LogLevel> ParseLogLevel(std::string_view name) {
  for (LogLevel l : {LogLevel::kTrace, LogLevel::kDebug, LogLevel::kInfo, LogLevel::kNotice,
                     LogLevel::kWarning, LogLevel::kError, LogLevel::kOff}) {
    if (LogLevelName(l) == name) return l;
  }
  if (name == "warn") return LogLevel::kWarning;
  return std::nullopt;
}

void MemorySink::Write(const LogRecord& r) {
  lines_.push_back({r.level, std::string(r.component), std::string(r.message)});
}

bool MemorySink::Contains(std::string_view needle) const {
  for (const Line& l : lines_) {
    if (l.message.find(needle) != std::string::npos) return true;
  }
  return false;
}

Logger Logger::Child(std::string_view sub) const {
  std::string c = component_;
  if (!c.empty()) c += '.';
  c += sub;
  return Logger(sink_, std::move(c), min_);
}

void Logger::Write(LogLevel l, std::string_view message) const {
  if (!Enabled(l)) return;
  // One event, one line: a newline inside a message would let peer-supplied
  // text forge log lines, so it is escaped.
  std::string clean;
  clean.reserve(message.size());
  for (char ch : message) {
    if (ch == '\n') {
      clean += "\\n";
    } else if (ch == '\r') {
      clean += "\\r";
    } else {
      clean += ch;
    }
  }
  sink_->Write(LogRecord{l, component_, clean});
}

}  // namespace mipsec
