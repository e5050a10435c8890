#include "config/toml_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace mipsec::config {

Result<Duration> ParseDurationText(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  std::string_view num = text.substr(0, i), unit = text.substr(i);
  double v = 0;
  auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
  if (num.empty() || ec != std::errc() || ptr != num.data() + num.size()) {
    return Error(Errc::kMalformed, "'" + std::string(text) + "' is not a duration like \"10ms\" or \"1.5s\"");
  }
  double ns;
  if (unit == "ns") {
    ns = v;
  } else if (unit == "us") {
    ns = v * 1e3;
  } else if (unit == "ms") {
    ns = v * 1e6;
  } else if (unit == "s") {
    ns = v * 1e9;
  } else if (unit == "m" || unit == "min") {
    ns = v * 60e9;
  } else if (unit == "h") {
    ns = v * 3600e9;
  } else {
    return Error(Errc::kMalformed, "'" + std::string(text) +
                                       "' needs a unit: ns, us, ms, s, m or h");
  }
  if (ns > 1e18) return Error(Errc::kMalformed, "'" + std::string(text) + "' is too long");
  return Duration::Nanos(static_cast<std::int64_t>(std::llround(ns)));
}

std::string Indexed(std::string_view key, std::size_t i) {
  return std::string(key) + "[" + std::to_string(i) + "]";
}

Result<toml::table> ParseTomlDocument(std::string_view text, std::string_view file) {
  toml::parse_result parsed = toml::parse(text, file);
  if (!parsed) {
    const toml::parse_error& e = parsed.error();
    return Error(Errc::kInvalidArgument, std::string(file) + ":" +
                                             std::to_string(e.source().begin.line) +
                                             ": TOML syntax: " + std::string(e.description()));
  }
  return std::move(parsed).table();
}

Error TomlReader::Err(const toml::node& n, const std::string& path, const std::string& why) const {
  return Error(Errc::kInvalidArgument,
               file_ + ":" + std::to_string(Line(n)) + ": " + path + ": " + why);
}

Status TomlReader::CheckKeys(const toml::table& t, const std::string& path,
                             std::initializer_list<std::string_view> allowed) const {
  for (auto&& [k, v] : t) {
    if (std::find(allowed.begin(), allowed.end(), k.str()) == allowed.end()) {
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return Err(v, Join(path, k.str()), "unknown key (expected one of: " + list + ")");
    }
  }
  return Ok{};
}

std::string TomlReader::Join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

Result<std::optional<std::string>> TomlReader::OptString(const toml::table& t,
                                                         const std::string& path,
                                                         std::string_view key) const {
  const toml::node* n = t.get(key);
  if (!n) return std::optional<std::string>();
  if (!n->is_string()) return Err(*n, Join(path, key), "must be a string");
  return std::optional<std::string>(n->as_string()->get());
}

Result<std::string> TomlReader::String(const toml::table& t, const std::string& path,
                                       std::string_view key) const {
  MIPSEC_ASSIGN_OR_RETURN(auto v, OptString(t, path, key));
  if (!v) return Err(t, Join(path, key), "missing (required)");
  if (v->empty()) return Err(*t.get(key), Join(path, key), "must not be empty");
  return *v;
}

Result<std::optional<std::int64_t>> TomlReader::OptInt(const toml::table& t,
                                                       const std::string& path,
                                                       std::string_view key, std::int64_t min,
                                                       std::int64_t max) const {
  const toml::node* n = t.get(key);
  if (!n) return std::optional<std::int64_t>();
  if (!n->is_integer()) return Err(*n, Join(path, key), "must be an integer");
  std::int64_t v = n->as_integer()->get();
  if (v < min || v > max) {
    return Err(*n, Join(path, key),
               std::to_string(v) + " is outside " + std::to_string(min) + ".." +
                   std::to_string(max));
  }
  return std::optional<std::int64_t>(v);
}

Result<std::optional<double>> TomlReader::OptProbability(const toml::table& t,
                                                         const std::string& path,
                                                         std::string_view key) const {
  const toml::node* n = t.get(key);
  if (!n) return std::optional<double>();
  double v;
  if (n->is_floating_point()) {
    v = n->as_floating_point()->get();
  } else if (n->is_integer()) {
    v = static_cast<double>(n->as_integer()->get());
  } else {
    return Err(*n, Join(path, key), "must be a number");
  }
  if (!(v >= 0.0 && v <= 1.0)) return Err(*n, Join(path, key), "must be a probability in [0, 1]");
  return std::optional<double>(v);
}

Result<std::optional<bool>> TomlReader::OptBool(const toml::table& t, const std::string& path,
                                                std::string_view key) const {
  const toml::node* n = t.get(key);
  if (!n) return std::optional<bool>();
  if (!n->is_boolean()) return Err(*n, Join(path, key), "must be true or false");
  return std::optional<bool>(n->as_boolean()->get());
}

Result<std::optional<Duration>> TomlReader::OptDuration(const toml::table& t,
                                                        const std::string& path,
                                                        std::string_view key) const {
  const toml::node* n = t.get(key);
  if (!n) return std::optional<Duration>();
  if (!n->is_string()) {
    return Err(*n, Join(path, key), "must be a string with a unit, e.g. \"10ms\" or \"1.5s\"");
  }
  Result<Duration> d = ParseDurationText(n->as_string()->get());
  if (!d.ok()) return Err(*n, Join(path, key), d.error().detail());
  return std::optional<Duration>(*d);
}

Result<std::vector<std::string>> TomlReader::StringOrList(const toml::table& t,
                                                          const std::string& path,
                                                          std::string_view key) const {
  std::vector<std::string> out;
  const toml::node* n = t.get(key);
  if (!n) return out;
  if (n->is_string()) {
    out.push_back(n->as_string()->get());
    return out;
  }
  const toml::array* arr = n->as_array();
  if (!arr) return Err(*n, Join(path, key), "must be a string or a list of strings");
  for (const toml::node& e : *arr) {
    if (!e.is_string()) return Err(e, Join(path, key), "must be a list of strings");
    out.push_back(e.as_string()->get());
  }
  return out;
}

Result<const toml::table*> TomlReader::OptTable(const toml::table& t, const std::string& path,
                                                std::string_view key) const {
  const toml::node* n = t.get(key);
  if (!n) return static_cast<const toml::table*>(nullptr);
  const toml::table* tt = n->as_table();
  if (!tt) return Err(*n, Join(path, key), "must be a table ([" + Join(path, key) + "])");
  return tt;
}

Result<std::vector<const toml::table*>> TomlReader::Tables(const toml::table& t,
                                                           const std::string& path,
                                                           std::string_view key) const {
  std::vector<const toml::table*> out;
  const toml::node* n = t.get(key);
  if (!n) return out;
  const toml::array* arr = n->as_array();
  if (!arr) {
    return Err(*n, Join(path, key), "must be an array of tables ([[" + std::string(key) + "]])");
  }
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const toml::table* tt = (*arr)[i].as_table();
    if (!tt) return Err((*arr)[i], Join(path, key) + "[" + std::to_string(i) + "]", "must be a table");
    out.push_back(tt);
  }
  return out;
}

Result<std::optional<LogLevel>> TomlReader::OptLogLevel(const toml::table& t,
                                                        const std::string& path) const {
  MIPSEC_ASSIGN_OR_RETURN(auto s, OptString(t, path, "log_level"));
  if (!s) return std::optional<LogLevel>();
  std::optional<LogLevel> l = ParseLogLevel(*s);
  if (!l) {
    return Err(*t.get("log_level"), Join(path, "log_level"),
               "'" + *s + "' is not one of trace, debug, info, notice, warning, error, off");
  }
  return l;
}

Result<std::optional<Ipv4Address>> TomlReader::OptUnicast(const toml::table& t,
                                                          const std::string& path,
                                                          std::string_view key) const {
  MIPSEC_ASSIGN_OR_RETURN(auto a, OptParsed<Ipv4Address>(t, path, key, Ipv4Address::Parse,
                                                         "an IPv4 address (a.b.c.d)"));
  if (a && !a->IsUnicast()) {
    return Err(*t.get(key), Join(path, key), a->ToString() + " is not a unicast address");
  }
  return a;
}

Result<Ipv4Address> TomlReader::Unicast(const toml::table& t, const std::string& path,
                                        std::string_view key) const {
  MIPSEC_ASSIGN_OR_RETURN(auto a, OptUnicast(t, path, key));
  if (!a) return Err(t, Join(path, key), "missing (required)");
  return *a;
}

}  // namespace mipsec::config
