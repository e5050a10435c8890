#include "ikev2/sa/traffic_selectors.h"

#include <algorithm>

namespace mipsec::ikev2 {

TrafficSelector AnyIpv4Selector() {
  return TrafficSelector::Ipv4Range(Ipv4Address::Any(), Ipv4Address::Broadcast());
}

std::optional<TrafficSelector> Intersect(const TrafficSelector& a, const TrafficSelector& b) {
  if (!a.is_ipv4() || !b.is_ipv4()) return std::nullopt;
  const auto as = a.StartIpv4(), ae = a.EndIpv4(), bs = b.StartIpv4(), be = b.EndIpv4();
  if (!as || !ae || !bs || !be) return std::nullopt;
  std::uint8_t proto = a.ip_protocol;
  if (a.ip_protocol == 0) {
    proto = b.ip_protocol;
  } else if (b.ip_protocol != 0 && b.ip_protocol != a.ip_protocol) {
    return std::nullopt;
  }
  const Ipv4Address start = std::max(*as, *bs);
  const Ipv4Address end = std::min(*ae, *be);
  const std::uint16_t sp = std::max(a.start_port, b.start_port);
  const std::uint16_t ep = std::min(a.end_port, b.end_port);
  if (start > end || sp > ep) return std::nullopt;
  return TrafficSelector::Ipv4Range(start, end, proto, sp, ep);
}

std::vector<TrafficSelector> Narrow(std::span<const TrafficSelector> proposed,
                                    std::span<const TrafficSelector> allowed) {
  std::vector<TrafficSelector> out;
  for (const TrafficSelector& p : proposed) {
    for (const TrafficSelector& a : allowed) {
      std::optional<TrafficSelector> i = Intersect(p, a);
      if (i && std::find(out.begin(), out.end(), *i) == out.end()) out.push_back(*i);
    }
  }
  return out;
}

bool IsSubset(const TrafficSelector& inner, const TrafficSelector& outer) {
  std::optional<TrafficSelector> i = Intersect(inner, outer);
  return i.has_value() && *i == inner;
}

bool OnlyNarrowed(std::span<const TrafficSelector> returned,
                  std::span<const TrafficSelector> proposed) {
  if (returned.empty()) return false;
  for (const TrafficSelector& r : returned) {
    bool ok = false;
    for (const TrafficSelector& p : proposed) ok = ok || IsSubset(r, p);
    if (!ok) return false;
  }
  return true;
}

std::string TsToString(const TrafficSelector& ts) {
  if (!ts.is_ipv4()) return "TS(type " + std::to_string(ts.ts_type) + ")";
  std::string s = ts.StartIpv4()->ToString() + "-" + ts.EndIpv4()->ToString();
  if (ts.ip_protocol != 0 || ts.start_port != 0 || ts.end_port != 0xffff) {
    s += "[" + std::to_string(ts.ip_protocol) + "/" + std::to_string(ts.start_port) + "-" +
         std::to_string(ts.end_port) + "]";
  }
  return s;
}

std::string TsListToString(std::span<const TrafficSelector> list) {
  std::string s;
  for (const TrafficSelector& ts : list) s += (s.empty() ? "" : " ") + TsToString(ts);
  return s.empty() ? "(none)" : s;
}

}  // namespace mipsec::ikev2
