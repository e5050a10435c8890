#include "lab/strongswan/swanctl_sas.h"

#include <charconv>

namespace mipsec::lab {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

template <typename T>
Status ParseNum(const ViciSection& s, std::string_view key, int base, T& out,
                const std::string& where) {
  std::string v = s.Get(key);
  if (v.empty()) return Ok{};
  T value{};
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), value, base);
  if (ec != std::errc() || p != v.data() + v.size()) {
    return Error(Errc::kMalformed, where + ": " + std::string(key) + " '" + v + "' is not a number");
  }
  out = value;
  return Ok{};
}

bool Yes(const ViciSection& s, std::string_view key) { return s.Get(key) == "yes"; }

std::vector<std::string> ListOf(const ViciSection& s, std::string_view key) {
  const auto* l = s.List(key);
  return l ? *l : std::vector<std::string>{};
}

Result<ChildSaInfo> ToChild(const std::string& section_name, const ViciSection& s,
                            const std::string& ike_where) {
  ChildSaInfo c;
  std::string where = ike_where + " child " + section_name;
  c.name = s.Get("name");
  if (c.name.empty()) c.name = section_name;
  MIPSEC_TRY(ParseNum(s, "uniqueid", 10, c.unique_id, where));
  MIPSEC_TRY(ParseNum(s, "reqid", 10, c.reqid, where));
  c.state = s.Get("state");
  c.mode = s.Get("mode");
  c.protocol = s.Get("protocol");
  c.encap = Yes(s, "encap");
  MIPSEC_TRY(ParseNum(s, "spi-in", 16, c.spi_in, where));
  MIPSEC_TRY(ParseNum(s, "spi-out", 16, c.spi_out, where));
  c.encr_alg = s.Get("encr-alg");
  MIPSEC_TRY(ParseNum(s, "encr-keysize", 10, c.encr_keysize, where));
  c.integ_alg = s.Get("integ-alg");
  c.dh_group = s.Get("dh-group");
  MIPSEC_TRY(ParseNum(s, "bytes-in", 10, c.bytes_in, where));
  MIPSEC_TRY(ParseNum(s, "packets-in", 10, c.packets_in, where));
  MIPSEC_TRY(ParseNum(s, "bytes-out", 10, c.bytes_out, where));
  MIPSEC_TRY(ParseNum(s, "packets-out", 10, c.packets_out, where));
  MIPSEC_TRY(ParseNum(s, "rekey-time", 10, c.rekey_in_s, where));
  MIPSEC_TRY(ParseNum(s, "life-time", 10, c.life_in_s, where));
  MIPSEC_TRY(ParseNum(s, "install-time", 10, c.installed_s, where));
  c.local_ts = ListOf(s, "local-ts");
  c.remote_ts = ListOf(s, "remote-ts");
  c.raw = s.values;
  return c;
}

Result<IkeSaInfo> ToIke(const std::string& name, const ViciSection& s) {
  IkeSaInfo ike;
  std::string where = "IKE_SA " + name;
  ike.name = name;
  MIPSEC_TRY(ParseNum(s, "uniqueid", 10, ike.unique_id, where));
  ike.state = s.Get("state");
  ike.local_host = s.Get("local-host");
  MIPSEC_TRY(ParseNum(s, "local-port", 10, ike.local_port, where));
  ike.local_id = s.Get("local-id");
  ike.remote_host = s.Get("remote-host");
  MIPSEC_TRY(ParseNum(s, "remote-port", 10, ike.remote_port, where));
  ike.remote_id = s.Get("remote-id");
  ike.initiator = Yes(s, "initiator");
  MIPSEC_TRY(ParseNum(s, "initiator-spi", 16, ike.initiator_spi, where));
  MIPSEC_TRY(ParseNum(s, "responder-spi", 16, ike.responder_spi, where));
  ike.nat_local = Yes(s, "nat-local");
  ike.nat_remote = Yes(s, "nat-remote");
  ike.nat_fake = Yes(s, "nat-fake");
  ike.nat_any = Yes(s, "nat-any");
  ike.encr_alg = s.Get("encr-alg");
  MIPSEC_TRY(ParseNum(s, "encr-keysize", 10, ike.encr_keysize, where));
  ike.integ_alg = s.Get("integ-alg");
  ike.prf_alg = s.Get("prf-alg");
  ike.dh_group = s.Get("dh-group");
  MIPSEC_TRY(ParseNum(s, "established", 10, ike.established_s, where));
  MIPSEC_TRY(ParseNum(s, "rekey-time", 10, ike.rekey_in_s, where));
  ike.local_vips = ListOf(s, "local-vips");
  ike.remote_vips = ListOf(s, "remote-vips");
  if (const ViciSection* children = s.Section("child-sas")) {
    for (const ViciSection& csec : children->sections) {
      MIPSEC_ASSIGN_OR_RETURN(ChildSaInfo c, ToChild(csec.name, csec, where));
      ike.children.push_back(std::move(c));
    }
  }
  ike.raw = s.values;
  return ike;
}

}  // namespace

std::string ViciSection::Get(std::string_view key) const {
  auto it = values.find(std::string(key));
  return it == values.end() ? std::string() : it->second;
}

const std::vector<std::string>* ViciSection::List(std::string_view key) const {
  auto it = lists.find(std::string(key));
  return it == lists.end() ? nullptr : &it->second;
}

const ViciSection* ViciSection::Section(std::string_view wanted) const {
  for (const ViciSection& s : sections) {
    if (s.name == wanted) return &s;
  }
  return nullptr;
}

Result<std::vector<ViciSection>> ParseViciPretty(std::string_view text) {
  std::vector<std::pair<std::string, ViciSection>> top;
  // Path of open sections; element 0 is a pseudo root whose sections are the
  // top-level messages.
  ViciSection root;
  std::vector<ViciSection*> stack = {&root};
  std::vector<std::string>* open_list = nullptr;
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    std::string_view line = Trim(raw);
    if (line.empty()) continue;
    auto bad = [&](std::string_view why) {
      return Error(Errc::kMalformed,
                   "swanctl output line " + std::to_string(line_no) + " '" + std::string(line) +
                       "': " + std::string(why));
    };
    if (open_list != nullptr) {
      if (line == "]") {
        open_list = nullptr;
      } else {
        open_list->emplace_back(line);
      }
      continue;
    }
    size_t eq = line.find(" =");
    if (eq != std::string_view::npos && line.find('{') > eq) {
      std::string key(Trim(line.substr(0, eq)));
      std::string_view value = Trim(line.substr(eq + 2));
      if (stack.size() < 2) return bad("key outside any message");
      if (value == "[") {
        open_list = &stack.back()->lists[key];
        open_list->clear();
      } else {
        stack.back()->values[key] = std::string(value);
      }
      continue;
    }
    if (line == "}") {
      if (stack.size() < 2) return bad("'}' without an open section");
      stack.pop_back();
      continue;
    }
    if (line.back() == '{') {
      std::string name(Trim(line.substr(0, line.size() - 1)));
      ViciSection* parent = stack.back();
      parent->sections.emplace_back();
      parent->sections.back().name = std::move(name);
      stack.push_back(&parent->sections.back());
      continue;
    }
    return bad("neither 'key = value', a section nor a list");
  }
  if (open_list != nullptr) return Error(Errc::kMalformed, "swanctl output: unterminated list");
  if (stack.size() != 1) return Error(Errc::kMalformed, "swanctl output: unterminated section");
  return std::move(root.sections);
}

Result<std::vector<IkeSaInfo>> ParseListSas(std::string_view pretty_output) {
  MIPSEC_ASSIGN_OR_RETURN(auto messages, ParseViciPretty(pretty_output));
  std::vector<IkeSaInfo> out;
  for (const ViciSection& body : messages) {
    if (body.name != "list-sa event") continue;
    for (const ViciSection& sec : body.sections) {
      MIPSEC_ASSIGN_OR_RETURN(IkeSaInfo ike, ToIke(sec.name, sec));
      out.push_back(std::move(ike));
    }
  }
  return out;
}

const ChildSaInfo* IkeSaInfo::InstalledChild(std::string_view child_name) const {
  for (const auto& c : children) {
    if (c.name == child_name && c.state == "INSTALLED") return &c;
  }
  return nullptr;
}

}  // namespace mipsec::lab
