// Typed, path-tracking access to a parsed TOML document, shared by every
// mipsec configuration format (daemon configs here, simulator scenarios in
// src/sim/scenario).
//
// Every error names the file, the line, the dotted key path and the reason:
//   "ha.toml:12: mobile_node[2].spi: 200 is reserved (SPIs 0-255, RFC 5944 1.6)"
// Getters are Opt* (absent -> nullopt) or required (absent -> "missing
// (required)"); a present value of the wrong type is always an error, and
// CheckKeys() makes unknown keys errors (a typo must not be silently
// ignored). The reader keeps no state besides the file name.
#ifndef MIPSEC_CONFIG_TOML_READER_H_
#define MIPSEC_CONFIG_TOML_READER_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip/address.h"
#include "common/log.h"
#include "common/result.h"
#include "common/time.h"
#include "config/toml.h"

namespace mipsec::config {

// "10ms", "1.5s", "250us", "2m", "1h" -> Duration (units ns, us, ms, s, m or
// min, h); kMalformed otherwise (no sign, no space, a unit is required).
Result<Duration> ParseDurationText(std::string_view text);

// "key[3]".
std::string Indexed(std::string_view key, std::size_t i);

// Parses `text` as TOML; `file` names it in errors:
// "ha.toml:3: TOML syntax: <toml++'s description>".
Result<toml::table> ParseTomlDocument(std::string_view text, std::string_view file);

class TomlReader {
 public:
  explicit TomlReader(std::string_view file) : file_(file) {}

  const std::string& file() const { return file_; }
  static int Line(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

  // kInvalidArgument "<file>:<line of n>: <path>: <why>".
  Error Err(const toml::node& n, const std::string& path, const std::string& why) const;

  // Every key of `t` must be in `allowed`.
  Status CheckKeys(const toml::table& t, const std::string& path,
                   std::initializer_list<std::string_view> allowed) const;

  // "a.b" ("b" when `path` is empty).
  static std::string Join(const std::string& path, std::string_view key);

  Result<std::optional<std::string>> OptString(const toml::table& t, const std::string& path,
                                               std::string_view key) const;
  // Required and non-empty.
  Result<std::string> String(const toml::table& t, const std::string& path,
                             std::string_view key) const;
  // An integer in [min, max].
  Result<std::optional<std::int64_t>> OptInt(const toml::table& t, const std::string& path,
                                             std::string_view key, std::int64_t min,
                                             std::int64_t max) const;
  // A number in [0, 1].
  Result<std::optional<double>> OptProbability(const toml::table& t, const std::string& path,
                                               std::string_view key) const;
  Result<std::optional<bool>> OptBool(const toml::table& t, const std::string& path,
                                      std::string_view key) const;
  // A unicast IPv4 address ("'x' is not an IPv4 address (a.b.c.d)", "x is
  // not a unicast address"); Unicast: required.
  Result<std::optional<Ipv4Address>> OptUnicast(const toml::table& t, const std::string& path,
                                                std::string_view key) const;
  Result<Ipv4Address> Unicast(const toml::table& t, const std::string& path,
                              std::string_view key) const;
  // `log_level`: trace, debug, info, notice, warning, error or off.
  Result<std::optional<LogLevel>> OptLogLevel(const toml::table& t, const std::string& path) const;
  // A string with a unit (ParseDurationText).
  Result<std::optional<Duration>> OptDuration(const toml::table& t, const std::string& path,
                                              std::string_view key) const;
  // A string parsed by `parse` (Result<T>(std::string_view)); on failure
  // "'<text>' is not <what>".
  template <typename T, typename F>
  Result<std::optional<T>> OptParsed(const toml::table& t, const std::string& path,
                                     std::string_view key, F parse, const char* what) const {
    MIPSEC_ASSIGN_OR_RETURN(auto s, OptString(t, path, key));
    if (!s) return std::optional<T>();
    Result<T> v = parse(*s);
    if (!v.ok()) return Err(*t.get(key), Join(path, key), "'" + *s + "' is not " + what);
    return std::optional<T>(*v);
  }
  // A string or a list of strings (absent: empty).
  Result<std::vector<std::string>> StringOrList(const toml::table& t, const std::string& path,
                                                std::string_view key) const;
  // A table at `key` (absent: nullptr).
  Result<const toml::table*> OptTable(const toml::table& t, const std::string& path,
                                      std::string_view key) const;
  // An array of tables at `key` (absent: empty).
  Result<std::vector<const toml::table*>> Tables(const toml::table& t, const std::string& path,
                                                 std::string_view key) const;

 private:
  std::string file_;
};

}  // namespace mipsec::config

#endif  // MIPSEC_CONFIG_TOML_READER_H_
