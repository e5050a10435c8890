#include "config/config_reload.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mipsec::config {
namespace {

bool SameSa(const SaConfig& a, const SaConfig& b) {
  return a.spi == b.spi && a.algorithm == b.algorithm && a.key.Equals(b.key);
}

bool SameMobileNode(const MobileNodeConfig& a, const MobileNodeConfig& b) {
  return SameSa(a.sa, b.sa) && a.replay == b.replay && a.tolerance == b.tolerance &&
         a.nai == b.nai && a.home_address == b.home_address;
}

// The mobile node of `list` with `mn`'s identity (home address, else NAI).
const MobileNodeConfig* FindSame(const std::vector<MobileNodeConfig>& list,
                                 const MobileNodeConfig& mn) {
  for (const MobileNodeConfig& m : list) {
    if (mn.home_address ? m.home_address == mn.home_address
                        : (!m.home_address && m.nai == mn.nai)) {
      return &m;
    }
  }
  return nullptr;
}

void DiffMobileNodes(const std::vector<MobileNodeConfig>& running,
                     const std::vector<MobileNodeConfig>& loaded, ReloadDiff& d) {
  for (const MobileNodeConfig& n : loaded) {
    const MobileNodeConfig* o = FindSame(running, n);
    if (o == nullptr) {
      ++d.mobile_nodes_added;
    } else if (!SameMobileNode(*o, n)) {
      ++d.mobile_nodes_rekeyed;
    }
  }
  for (const MobileNodeConfig& o : running) {
    if (FindSame(loaded, o) == nullptr) ++d.mobile_nodes_removed;
  }
}

const PeerConfig* FindPeer(const std::vector<PeerConfig>& list, const PeerConfig& p) {
  for (const PeerConfig& q : list) {
    if (q.address == p.address && q.sa.spi == p.sa.spi) return &q;
  }
  return nullptr;
}

void DiffPeers(const std::vector<PeerConfig>& running, const std::vector<PeerConfig>& loaded,
               ReloadDiff& d) {
  for (const PeerConfig& n : loaded) {
    const PeerConfig* o = FindPeer(running, n);
    if (o == nullptr) {
      ++d.peers_added;
    } else if (!SameSa(o->sa, n.sa)) {
      ++d.peers_rekeyed;
    }
  }
  for (const PeerConfig& o : running) {
    if (FindPeer(loaded, o) == nullptr) ++d.peers_removed;
  }
}

template <typename T>
void Key(std::vector<std::string>& out, const char* name, const T& a, const T& b) {
  if (!(a == b)) out.emplace_back(name);
}

void Count(std::string& s, int n, const std::string& what, const std::string& verb) {
  if (n == 0) return;
  if (!s.empty()) s += ", ";
  s += std::to_string(n) + " " + what + (n == 1 || what.empty() ? "" : "s");
  s += " " + verb;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& k : v) s += (s.empty() ? "" : ", ") + k;
  return s;
}

}  // namespace

std::string ReloadDiff::Summary(std::string_view peer_kind) const {
  std::string s;
  Count(s, mobile_nodes_added, "mobile node", "added");
  Count(s, mobile_nodes_removed, "mobile node", "removed");
  Count(s, mobile_nodes_rekeyed, "mobile node", "re-keyed");
  Count(s, peers_added, std::string(peer_kind), "added");
  Count(s, peers_removed, std::string(peer_kind), "removed");
  Count(s, peers_rekeyed, std::string(peer_kind), "re-keyed");
  if (!changed.empty()) s += (s.empty() ? "changed: " : "; changed: ") + Join(changed);
  if (!restart_only.empty()) {
    s += (s.empty() ? "not applied (restart needed): " : "; not applied (restart needed): ") +
         Join(restart_only);
  }
  return s.empty() ? "no changes" : s;
}

std::string ReloadDiff::RestartKeys() const { return Join(restart_only); }

ReloadDiff DiffHaConfig(const HaConfig& r, const HaConfig& l) {
  ReloadDiff d;
  DiffMobileNodes(r.mobile_nodes, l.mobile_nodes, d);
  DiffPeers(r.fa_peers, l.fa_peers, d);
  std::vector<std::string>& c = d.changed;
  Key(c, "max_lifetime", r.max_lifetime, l.max_lifetime);
  Key(c, "trusted_subnets", r.trusted_subnets, l.trusted_subnets);
  Key(c, "require_fa_ha_auth", r.require_fa_ha_auth, l.require_fa_ha_auth);
  const bool adv_switch = (r.advertisement_interval == Duration::Zero()) !=
                          (l.advertisement_interval == Duration::Zero());
  if (!adv_switch) {
    Key(c, "advertisement_interval", r.advertisement_interval, l.advertisement_interval);
  }
  Key(c, "advertisement_lifetime", r.advertisement_lifetime, l.advertisement_lifetime);
  Key(c, "log_level", r.log_level, l.log_level);
  Key(c, "reverse_tunnel.allowed", r.reverse_tunnel_allowed, l.reverse_tunnel_allowed);
  Key(c, "reverse_tunnel.mandatory", r.reverse_tunnel_mandatory, l.reverse_tunnel_mandatory);
  Key(c, "udp_tunnel.enabled", r.udp_tunnel_enabled, l.udp_tunnel_enabled);
  Key(c, "udp_tunnel.accept_forcing", r.udp_tunnel_accept_forcing, l.udp_tunnel_accept_forcing);
  Key(c, "udp_tunnel.keepalive_interval", r.udp_keepalive_interval, l.udp_keepalive_interval);
  std::vector<std::string>& x = d.restart_only;
  Key(x, "address", r.address, l.address);
  Key(x, "home_network", r.home_network, l.home_network);
  Key(x, "interface", r.interface, l.interface);
  Key(x, "port", r.port, l.port);
  Key(x, "control_socket", r.control_socket, l.control_socket);
  if (adv_switch) x.emplace_back("advertisement_interval (on/off)");
  return d;
}

HaConfig MergeRestartKeys(const HaConfig& r, HaConfig l) {
  l.address = r.address;
  l.home_network = r.home_network;
  l.interface = r.interface;
  l.port = r.port;
  l.control_socket = r.control_socket;
  if ((r.advertisement_interval == Duration::Zero()) !=
      (l.advertisement_interval == Duration::Zero())) {
    l.advertisement_interval = r.advertisement_interval;
    l.advertisement_lifetime = r.advertisement_lifetime;
  }
  return l;
}

namespace {
bool SameInterface(const FaInterfaceConfig& a, const FaInterfaceConfig& b) {
  return a.name == b.name && a.address == b.address && a.prefix_length == b.prefix_length &&
         a.care_of_addresses == b.care_of_addresses;
}
}  // namespace

ReloadDiff DiffFaConfig(const FaConfig& r, const FaConfig& l) {
  ReloadDiff d;
  DiffMobileNodes(r.mobile_nodes, l.mobile_nodes, d);
  DiffPeers(r.ha_peers, l.ha_peers, d);
  std::vector<std::string>& c = d.changed;
  Key(c, "advertisement_interval", r.advertisement_interval, l.advertisement_interval);
  Key(c, "advertisement_lifetime", r.advertisement_lifetime, l.advertisement_lifetime);
  Key(c, "max_lifetime", r.max_lifetime, l.max_lifetime);
  Key(c, "registration_required", r.registration_required, l.registration_required);
  Key(c, "reverse_tunnel", r.reverse_tunnel, l.reverse_tunnel);
  Key(c, "udp_tunnel", r.udp_tunnel, l.udp_tunnel);
  Key(c, "behind_nat", r.behind_nat, l.behind_nat);
  Key(c, "max_visitors", r.max_visitors, l.max_visitors);
  Key(c, "pending_timeout", r.pending_timeout, l.pending_timeout);
  Key(c, "log_level", r.log_level, l.log_level);
  std::vector<std::string>& x = d.restart_only;
  Key(x, "port", r.port, l.port);
  Key(x, "control_socket", r.control_socket, l.control_socket);
  const bool same_ifs =
      r.interfaces.size() == l.interfaces.size() &&
      std::equal(r.interfaces.begin(), r.interfaces.end(), l.interfaces.begin(), SameInterface);
  if (!same_ifs) x.emplace_back("interface");
  return d;
}

FaConfig MergeRestartKeys(const FaConfig& r, FaConfig l) {
  l.port = r.port;
  l.control_socket = r.control_socket;
  l.interfaces = r.interfaces;
  return l;
}

}  // namespace mipsec::config
