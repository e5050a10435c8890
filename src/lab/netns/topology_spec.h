// TopologySpec: what a namespace test topology consists of, and the short
// text format that describes one.
//
// A topology is a set of network namespaces joined by veth pairs, with IPv4
// addresses, routes and optional nftables rules. It is only a description:
// lab/netns/topology.h turns it into real namespaces. Nothing here needs
// root or touches the system.
//
// Text format: one directive per line, tokens separated by blanks; `#` starts
// a comment (except in `nft` lines, see below); blank lines are ignored.
//
//   ns NAME [router]
//       A namespace. NAME: 1-16 of [A-Za-z0-9_]. `router` sets
//       net.ipv4.ip_forward=1 in it.
//   link NS:IF [ADDR/LEN] NS:IF [ADDR/LEN] [mtu N]
//       A veth pair, one end in each namespace (both may be the same one),
//       each end optionally with an IPv4 address; both ends are set up.
//       IF: 1-15 of [A-Za-z0-9_.-], not `lo`, `all` or `default`, unique in
//       its namespace. N: 68..65535.
//   addr NS:IF ADDR/LEN
//       One more address on a link end or on `lo`.
//   route NS DEST [via GW] [dev IF] [src ADDR] [metric N] [mtu N]
//       An IPv4 route. DEST: `default`, ADDR/LEN or ADDR (a host route). At
//       least one of `via` and `dev`; `dev` names an interface of NS.
//   nat NS masquerade oif IF [random] [fully-random] [persistent]
//       nftables source NAT: packets leaving NS through IF get IF's address
//       (`random`: randomised source ports, `fully-random`: fully
//       randomised, `persistent`: same mapping per client address).
//   nft NS COMMAND
//       One raw nftables command (the syntax of `nft -f`), e.g.
//       `add rule inet fw fchain udp dport 500 drop`. COMMAND is the rest of the
//       line, taken verbatim (a `#` in it is not a comment). If it starts
//       with `"`, it ends at the last `"` of the line and a comment may
//       follow. Commands run in order after the `nat` rules of NS.
//
// Every namespace and interface a directive names must be declared by an `ns`
// or `link` directive somewhere in the description. Example:
//
//   ns mn
//   ns gw router
//   ns server
//   link mn:eth0 10.1.0.2/24  gw:eth0 10.1.0.1/24  mtu 1400
//   link gw:eth1 192.168.5.1/24  server:eth0 192.168.5.10/24
//   route mn default via 10.1.0.1
//   nat gw masquerade oif eth1 random
//   nft gw "add table inet fw"
//
// Programmatic equivalent:
//
//   TopologySpec spec;
//   spec.Namespace("mn").Namespace("gw", /*router=*/true).Namespace("server")
//       .Link("mn:eth0", "10.1.0.2/24", "gw:eth0", "10.1.0.1/24", 1400)
//       .Link("gw:eth1", "192.168.5.1/24", "server:eth0", "192.168.5.10/24")
//       .Route("mn", "default", "10.1.0.1")
//       .Masquerade("gw", "eth1", /*random=*/true);
//
// Builder calls never fail; Validate() (called by Topology::Create) reports
// the first problem. Errors from ParseTopology() and from Validate() of a
// parsed spec start with "line N: ".
#ifndef MIPSEC_LAB_NETNS_TOPOLOGY_SPEC_H_
#define MIPSEC_LAB_NETNS_TOPOLOGY_SPEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace mipsec::lab {

struct NamespaceSpec {
  std::string name;
  bool router = false;
  int line = 0;  // source line in the text, 0 when built in code
};

struct EndpointSpec {
  std::string ns;
  std::string ifname;
  std::string address;  // "10.1.0.2/24", or empty for none
};

struct LinkSpec {
  EndpointSpec a;
  EndpointSpec b;
  std::optional<int> mtu;
  int line = 0;
};

struct AddressSpec {
  std::string ns;
  std::string ifname;   // a link end of `ns`, or "lo"
  std::string address;  // "10.1.0.2/24"
  int line = 0;
};

struct RouteSpec {
  std::string ns;
  std::string dest;  // "default", "10.2.0.0/16" or "10.2.0.1"
  std::string via;   // gateway address, or empty
  std::string dev;   // interface of `ns`, or empty
  std::string src;   // preferred source address, or empty
  std::optional<std::uint32_t> metric;
  std::optional<int> mtu;
  int line = 0;
};

struct NatSpec {
  std::string ns;
  std::string oif;
  bool random = false;
  bool fully_random = false;
  bool persistent = false;
  int line = 0;
};

struct NftSpec {
  std::string ns;
  std::string command;
  int line = 0;
};

struct TopologySpec {
  std::vector<NamespaceSpec> namespaces;
  std::vector<LinkSpec> links;
  std::vector<AddressSpec> addresses;
  std::vector<RouteSpec> routes;
  std::vector<NatSpec> nats;
  std::vector<NftSpec> nfts;

  // Builder. Endpoints are "ns:ifname"; an empty address means none.
  TopologySpec& Namespace(std::string name, bool router = false);
  TopologySpec& Link(std::string_view a_end, std::string a_address, std::string_view b_end,
                     std::string b_address, std::optional<int> mtu = std::nullopt);
  TopologySpec& Address(std::string_view end, std::string address);
  TopologySpec& Route(std::string ns, std::string dest, std::string via, std::string dev = "");
  TopologySpec& Masquerade(std::string ns, std::string oif, bool random = false);
  TopologySpec& Nft(std::string ns, std::string command);

  // Checks names, references, addresses and ranges (see the format above).
  Status Validate() const;

  const NamespaceSpec* FindNamespace(std::string_view name) const;
  // Interfaces of `ns` that links create, in declaration order.
  std::vector<std::string> InterfacesOf(std::string_view ns) const;
  bool UsesNftables() const { return !nats.empty() || !nfts.empty(); }

  // The description in the text format; ParseTopology(ToText()) gives back
  // an equal spec (apart from line numbers). Directives come out grouped by
  // kind, in the order above.
  std::string ToText() const;
};

// Parses the text format, then validates. Errors: kInvalidArgument,
// "line N: <reason>".
Result<TopologySpec> ParseTopology(std::string_view text);

// Helpers shared with the topology builder.
bool IsValidNsName(std::string_view name);
bool IsValidIfName(std::string_view name);
// "a.b.c.d" (strict dotted quad).
bool IsValidIpv4(std::string_view text);
// "a.b.c.d/len" with len 0..32.
bool IsValidIpv4Prefix(std::string_view text);

}  // namespace mipsec::lab

#endif  // MIPSEC_LAB_NETNS_TOPOLOGY_SPEC_H_
