#include "lab/netns/topology_spec.h"

#include <arpa/inet.h>

#include <charconv>
#include <set>
#include <utility>

namespace mipsec::lab {
namespace {

constexpr std::string_view kBlanks = " \t\r";

bool IsNameChar(char c, bool extra) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') {
    return true;
  }
  return extra && (c == '.' || c == '-');
}

template <typename T>
std::optional<T> ParseNumber(std::string_view s) {
  T v{};
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || p != end || s.empty()) return std::nullopt;
  return v;
}

// "line 3: " for parsed directives, "link: " for built ones.
std::string Where(int line, std::string_view directive) {
  if (line > 0) return "line " + std::to_string(line) + ": ";
  return std::string(directive) + ": ";
}

Error Invalid(int line, std::string_view directive, const std::string& reason) {
  return Error(Errc::kInvalidArgument, Where(line, directive) + reason);
}

std::pair<std::string, std::string> SplitEnd(std::string_view end) {
  auto colon = end.find(':');
  if (colon == std::string_view::npos) return {std::string(end), ""};
  return {std::string(end.substr(0, colon)), std::string(end.substr(colon + 1))};
}

std::vector<std::string_view> Tokenize(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    i = s.find_first_not_of(kBlanks, i);
    if (i == std::string_view::npos) break;
    size_t j = s.find_first_of(kBlanks, i);
    if (j == std::string_view::npos) j = s.size();
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  size_t b = s.find_first_not_of(kBlanks);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(kBlanks);
  return s.substr(b, e - b + 1);
}

bool IsRouteDest(std::string_view d) {
  return d == "default" || IsValidIpv4(d) || IsValidIpv4Prefix(d);
}

std::optional<int> ParseMtu(std::string_view s) {
  auto v = ParseNumber<int>(s);
  if (!v || *v < 68 || *v > 65535) return std::nullopt;
  return v;
}

// Parses one endpoint token "ns:if" for the parser; the names themselves are
// checked by Validate().
Result<std::pair<std::string, std::string>> ParseEnd(int line, std::string_view directive,
                                                     std::string_view tok) {
  auto colon = tok.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == tok.size()) {
    if (IsValidIpv4(tok)) {
      return Invalid(line, directive,
                     "address '" + std::string(tok) + "' needs a prefix length, e.g. " +
                         std::string(tok) + "/24");
    }
    return Invalid(line, directive,
                   "expected NS:IF (namespace:interface), got '" + std::string(tok) + "'");
  }
  return SplitEnd(tok);
}

Status ParseLink(int line, const std::vector<std::string_view>& t, TopologySpec& spec) {
  LinkSpec link;
  link.line = line;
  size_t i = 1;
  auto take_end = [&](EndpointSpec& ep) -> Status {
    if (i >= t.size()) return Invalid(line, "link", "expected NS:IF [ADDR/LEN] twice");
    MIPSEC_ASSIGN_OR_RETURN(auto end, ParseEnd(line, "link", t[i]));
    ep.ns = std::move(end.first);
    ep.ifname = std::move(end.second);
    ++i;
    if (i < t.size() && t[i].find(':') == std::string_view::npos && t[i] != "mtu") {
      if (IsValidIpv4(t[i])) {
        return Invalid(line, "link",
                       "address '" + std::string(t[i]) + "' for " + ep.ns + ":" + ep.ifname +
                           " needs a prefix length, e.g. " + std::string(t[i]) + "/24");
      }
      if (!IsValidIpv4Prefix(t[i])) {
        return Invalid(line, "link",
                       "bad address '" + std::string(t[i]) + "' for " + ep.ns + ":" + ep.ifname +
                           " (expected a.b.c.d/len)");
      }
      ep.address = std::string(t[i]);
      ++i;
    }
    return Ok{};
  };
  MIPSEC_TRY(take_end(link.a));
  MIPSEC_TRY(take_end(link.b));
  while (i < t.size()) {
    if (t[i] == "mtu") {
      if (i + 1 >= t.size()) return Invalid(line, "link", "mtu needs a value");
      auto mtu = ParseMtu(t[i + 1]);
      if (!mtu) return Invalid(line, "link", "bad mtu '" + std::string(t[i + 1]) + "' (68..65535)");
      link.mtu = mtu;
      i += 2;
    } else {
      return Invalid(line, "link", "unexpected '" + std::string(t[i]) + "'");
    }
  }
  spec.links.push_back(std::move(link));
  return Ok{};
}

Status ParseRoute(int line, const std::vector<std::string_view>& t, TopologySpec& spec) {
  if (t.size() < 3) return Invalid(line, "route", "expected: route NS DEST [via GW] [dev IF] ...");
  RouteSpec r;
  r.line = line;
  r.ns = std::string(t[1]);
  r.dest = std::string(t[2]);
  for (size_t i = 3; i < t.size(); i += 2) {
    std::string_view key = t[i];
    if (key != "via" && key != "dev" && key != "src" && key != "metric" && key != "mtu") {
      return Invalid(
          line, "route",
          "unexpected '" + std::string(key) + "' (expected via, dev, src, metric or mtu)");
    }
    if (i + 1 >= t.size()) return Invalid(line, "route", std::string(key) + " needs a value");
    std::string_view val = t[i + 1];
    if (key == "via") {
      r.via = std::string(val);
    } else if (key == "dev") {
      r.dev = std::string(val);
    } else if (key == "src") {
      r.src = std::string(val);
    } else if (key == "metric") {
      auto m = ParseNumber<std::uint32_t>(val);
      if (!m) return Invalid(line, "route", "bad metric '" + std::string(val) + "'");
      r.metric = m;
    } else {
      auto mtu = ParseMtu(val);
      if (!mtu) return Invalid(line, "route", "bad mtu '" + std::string(val) + "' (68..65535)");
      r.mtu = mtu;
    }
  }
  spec.routes.push_back(std::move(r));
  return Ok{};
}

Status ParseNat(int line, const std::vector<std::string_view>& t, TopologySpec& spec) {
  if (t.size() < 5 || t[2] != "masquerade" || t[3] != "oif") {
    return Invalid(line, "nat",
                   "expected: nat NS masquerade oif IF [random] [fully-random] "
                   "[persistent]");
  }
  NatSpec n;
  n.line = line;
  n.ns = std::string(t[1]);
  n.oif = std::string(t[4]);
  for (size_t i = 5; i < t.size(); ++i) {
    if (t[i] == "random") {
      n.random = true;
    } else if (t[i] == "fully-random") {
      n.fully_random = true;
    } else if (t[i] == "persistent") {
      n.persistent = true;
    } else {
      return Invalid(
          line, "nat",
          "unexpected '" + std::string(t[i]) + "' (expected random, fully-random or persistent)");
    }
  }
  spec.nats.push_back(std::move(n));
  return Ok{};
}

// `nft NS COMMAND`: the command is raw text, so this line is not tokenised
// past the namespace and `#` is not a comment unless the command is quoted.
Status ParseNft(int line, std::string_view rest, TopologySpec& spec) {
  rest = Trim(rest);
  size_t sp = rest.find_first_of(kBlanks);
  std::string_view ns = rest.substr(0, sp);
  if (ns.empty() || ns.front() == '#' || ns.front() == '"') {
    return Invalid(line, "nft", "expected: nft NS COMMAND");
  }
  std::string_view cmd = sp == std::string_view::npos ? std::string_view() : Trim(rest.substr(sp));
  if (!cmd.empty() && cmd.front() == '"') {
    size_t close = cmd.rfind('"');
    if (close == 0) return Invalid(line, "nft", "unterminated quote");
    std::string_view after = Trim(cmd.substr(close + 1));
    if (!after.empty() && after.front() != '#') {
      return Invalid(line, "nft",
                     "unexpected '" + std::string(after) + "' after the quoted command");
    }
    cmd = Trim(cmd.substr(1, close - 1));
  }
  if (cmd.empty()) return Invalid(line, "nft", "empty nftables command");
  spec.nfts.push_back(NftSpec{std::string(ns), std::string(cmd), line});
  return Ok{};
}

Status ParseLine(int line, std::string_view text, TopologySpec& spec) {
  std::string_view body = Trim(text);
  if (body.empty() || body.front() == '#') return Ok{};
  size_t sp = body.find_first_of(kBlanks);
  std::string_view word = body.substr(0, sp);
  if (word == "nft") {
    return ParseNft(line, sp == std::string_view::npos ? std::string_view() : body.substr(sp),
                    spec);
  }
  size_t hash = body.find('#');
  if (hash != std::string_view::npos) body = body.substr(0, hash);
  auto t = Tokenize(body);
  if (word == "ns") {
    if (t.size() < 2 || t.size() > 3 || (t.size() == 3 && t[2] != "router")) {
      return Invalid(line, "ns", "expected: ns NAME [router]");
    }
    spec.namespaces.push_back(NamespaceSpec{std::string(t[1]), t.size() == 3, line});
    return Ok{};
  }
  if (word == "link") return ParseLink(line, t, spec);
  if (word == "addr") {
    if (t.size() != 3) return Invalid(line, "addr", "expected: addr NS:IF ADDR/LEN");
    MIPSEC_ASSIGN_OR_RETURN(auto end, ParseEnd(line, "addr", t[1]));
    spec.addresses.push_back(
        AddressSpec{std::move(end.first), std::move(end.second), std::string(t[2]), line});
    return Ok{};
  }
  if (word == "route") return ParseRoute(line, t, spec);
  if (word == "nat") return ParseNat(line, t, spec);
  return Invalid(
      line, "",
      "unknown directive '" + std::string(word) + "' (expected ns, link, addr, route, nat or nft)");
}

}  // namespace

bool IsValidNsName(std::string_view name) {
  if (name.empty() || name.size() > 16) return false;
  for (char c : name) {
    if (!IsNameChar(c, false)) return false;
  }
  return true;
}

bool IsValidIfName(std::string_view name) {
  if (name.empty() || name.size() > 15) return false;  // IFNAMSIZ - 1
  if (name == "." || name == "..") return false;
  for (char c : name) {
    if (!IsNameChar(c, true)) return false;
  }
  return true;
}

bool IsValidIpv4(std::string_view text) {
  if (text.empty() || text.size() > 15) return false;
  std::string s(text);
  in_addr a{};
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool IsValidIpv4Prefix(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view len = text.substr(slash + 1);
  if (len.empty() || len.size() > 2) return false;
  auto n = ParseNumber<int>(len);
  return n && *n >= 0 && *n <= 32 && IsValidIpv4(text.substr(0, slash));
}

TopologySpec& TopologySpec::Namespace(std::string name, bool router) {
  namespaces.push_back(NamespaceSpec{std::move(name), router, 0});
  return *this;
}

TopologySpec& TopologySpec::Link(std::string_view a_end, std::string a_address,
                                 std::string_view b_end, std::string b_address,
                                 std::optional<int> mtu) {
  auto [ans, aif] = SplitEnd(a_end);
  auto [bns, bif] = SplitEnd(b_end);
  links.push_back(LinkSpec{EndpointSpec{std::move(ans), std::move(aif), std::move(a_address)},
                           EndpointSpec{std::move(bns), std::move(bif), std::move(b_address)}, mtu,
                           0});
  return *this;
}

TopologySpec& TopologySpec::Address(std::string_view end, std::string address) {
  auto [ns, ifname] = SplitEnd(end);
  addresses.push_back(AddressSpec{std::move(ns), std::move(ifname), std::move(address), 0});
  return *this;
}

TopologySpec& TopologySpec::Route(std::string ns, std::string dest, std::string via,
                                  std::string dev) {
  RouteSpec r;
  r.ns = std::move(ns);
  r.dest = std::move(dest);
  r.via = std::move(via);
  r.dev = std::move(dev);
  routes.push_back(std::move(r));
  return *this;
}

TopologySpec& TopologySpec::Masquerade(std::string ns, std::string oif, bool random) {
  NatSpec n;
  n.ns = std::move(ns);
  n.oif = std::move(oif);
  n.random = random;
  nats.push_back(std::move(n));
  return *this;
}

TopologySpec& TopologySpec::Nft(std::string ns, std::string command) {
  nfts.push_back(NftSpec{std::move(ns), std::move(command), 0});
  return *this;
}

const NamespaceSpec* TopologySpec::FindNamespace(std::string_view name) const {
  for (const auto& n : namespaces) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

std::vector<std::string> TopologySpec::InterfacesOf(std::string_view ns) const {
  std::vector<std::string> out;
  for (const auto& l : links) {
    if (l.a.ns == ns) out.push_back(l.a.ifname);
    if (l.b.ns == ns) out.push_back(l.b.ifname);
  }
  return out;
}

Status TopologySpec::Validate() const {
  std::set<std::string> seen_ns;
  for (const auto& n : namespaces) {
    if (!IsValidNsName(n.name)) {
      return Invalid(n.line, "ns",
                     "bad namespace name '" + n.name + "' (1-16 characters of A-Z a-z 0-9 _)");
    }
    if (!seen_ns.insert(n.name).second) {
      return Invalid(n.line, "ns", "namespace '" + n.name + "' declared twice");
    }
  }
  if (namespaces.empty()) return Invalid(0, "topology", "no namespaces (add an `ns` line)");

  auto need_ns = [&](int line, std::string_view directive, const std::string& ns) -> Status {
    if (FindNamespace(ns) == nullptr) {
      return Invalid(line, directive, "unknown namespace '" + ns + "'");
    }
    return Ok{};
  };
  std::set<std::pair<std::string, std::string>> ifs;  // (ns, ifname) of link ends
  for (const auto& l : links) {
    for (const EndpointSpec* ep : {&l.a, &l.b}) {
      MIPSEC_TRY(need_ns(l.line, "link", ep->ns));
      if (!IsValidIfName(ep->ifname) || ep->ifname == "lo" || ep->ifname == "all" ||
          ep->ifname == "default") {
        return Invalid(l.line, "link",
                       "bad interface name '" + ep->ifname + "' in " + ep->ns +
                           " (1-15 characters of A-Z a-z 0-9 _ . -; not lo, all or default)");
      }
      if (!ifs.insert({ep->ns, ep->ifname}).second) {
        return Invalid(l.line, "link", "interface " + ep->ns + ":" + ep->ifname + " exists twice");
      }
      if (!ep->address.empty() && !IsValidIpv4Prefix(ep->address)) {
        return Invalid(l.line, "link",
                       "bad address '" + ep->address + "' for " + ep->ns + ":" + ep->ifname +
                           " (expected a.b.c.d/len)");
      }
    }
    if (l.mtu && (*l.mtu < 68 || *l.mtu > 65535)) {
      return Invalid(l.line, "link", "bad mtu " + std::to_string(*l.mtu) + " (68..65535)");
    }
  }
  auto has_if = [&](const std::string& ns, const std::string& ifname, bool allow_lo) {
    return (allow_lo && ifname == "lo") || ifs.count({ns, ifname}) > 0;
  };
  for (const auto& a : addresses) {
    MIPSEC_TRY(need_ns(a.line, "addr", a.ns));
    if (!has_if(a.ns, a.ifname, true)) {
      return Invalid(a.line, "addr",
                     "no interface " + a.ns + ":" + a.ifname + " (use lo or a link end)");
    }
    if (!IsValidIpv4Prefix(a.address)) {
      return Invalid(a.line, "addr", "bad address '" + a.address + "' (expected a.b.c.d/len)");
    }
  }
  for (const auto& r : routes) {
    MIPSEC_TRY(need_ns(r.line, "route", r.ns));
    if (!IsRouteDest(r.dest)) {
      return Invalid(r.line, "route",
                     "bad destination '" + r.dest + "' (default, a.b.c.d/len or a.b.c.d)");
    }
    if (r.via.empty() && r.dev.empty()) {
      return Invalid(r.line, "route", "route to " + r.dest + " needs via or dev");
    }
    if (!r.via.empty() && !IsValidIpv4(r.via)) {
      return Invalid(r.line, "route", "bad gateway '" + r.via + "'");
    }
    if (!r.dev.empty() && !has_if(r.ns, r.dev, true)) {
      return Invalid(r.line, "route", "no interface " + r.ns + ":" + r.dev);
    }
    if (!r.src.empty() && !IsValidIpv4(r.src)) {
      return Invalid(r.line, "route", "bad src '" + r.src + "'");
    }
    if (r.mtu && (*r.mtu < 68 || *r.mtu > 65535)) {
      return Invalid(r.line, "route", "bad mtu " + std::to_string(*r.mtu) + " (68..65535)");
    }
  }
  for (const auto& n : nats) {
    MIPSEC_TRY(need_ns(n.line, "nat", n.ns));
    if (!has_if(n.ns, n.oif, false)) {
      return Invalid(n.line, "nat", "no interface " + n.ns + ":" + n.oif + " for oif");
    }
  }
  for (const auto& n : nfts) {
    MIPSEC_TRY(need_ns(n.line, "nft", n.ns));
    if (Trim(n.command).empty()) return Invalid(n.line, "nft", "empty nftables command");
    if (n.command.find_first_of("\n\r") != std::string::npos) {
      return Invalid(n.line, "nft", "one command per nft directive (no line breaks)");
    }
  }
  return Ok{};
}

std::string TopologySpec::ToText() const {
  std::string out;
  for (const auto& n : namespaces) {
    out += "ns " + n.name + (n.router ? " router" : "") + "\n";
  }
  for (const auto& l : links) {
    out += "link";
    for (const EndpointSpec* ep : {&l.a, &l.b}) {
      out += " " + ep->ns + ":" + ep->ifname;
      if (!ep->address.empty()) out += " " + ep->address;
    }
    if (l.mtu) out += " mtu " + std::to_string(*l.mtu);
    out += "\n";
  }
  for (const auto& a : addresses) out += "addr " + a.ns + ":" + a.ifname + " " + a.address + "\n";
  for (const auto& r : routes) {
    out += "route " + r.ns + " " + r.dest;
    if (!r.via.empty()) out += " via " + r.via;
    if (!r.dev.empty()) out += " dev " + r.dev;
    if (!r.src.empty()) out += " src " + r.src;
    if (r.metric) out += " metric " + std::to_string(*r.metric);
    if (r.mtu) out += " mtu " + std::to_string(*r.mtu);
    out += "\n";
  }
  for (const auto& n : nats) {
    out += "nat " + n.ns + " masquerade oif " + n.oif;
    if (n.random) out += " random";
    if (n.fully_random) out += " fully-random";
    if (n.persistent) out += " persistent";
    out += "\n";
  }
  for (const auto& n : nfts) out += "nft " + n.ns + " \"" + n.command + "\"\n";
  return out;
}

Result<TopologySpec> ParseTopology(std::string_view text) {
  TopologySpec spec;
  int line = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    ++line;
    MIPSEC_TRY(ParseLine(line, text.substr(pos, nl - pos), spec));
    pos = nl + 1;
  }
  MIPSEC_TRY(spec.Validate());
  return spec;
}

}  // namespace mipsec::lab
