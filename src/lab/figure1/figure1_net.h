// Figure1Net: the RFC 5266 Figure 1 enterprise in network namespaces, with
// the real programs in it — the network that `scenarios/figure1/` tests and
// `mipsec demo --netns` walk a mobile node through (walk.h).
//
// What Create() builds, from the files beside this one (compiled into the
// program, files.h):
//   figure1.topo    the namespaces, links, addresses, routes and the NAT
//                   (lab/netns format; the same addresses as the
//                   simulated src/sim/scenario/figure1.toml);
//   the segments    home, core, c, f, pub and natnet are Linux bridges in the
//                   namespace `air`; the mobile node's one interface
//                   (mn:eth0, peer air:radio) starts detached; Attach() puts
//                   it on one of them, dropping the carrier in between, as a
//                   laptop roaming from WLAN to WLAN;
//   firewall.nft    the enterprise firewall in `fw` (RFC 5265 3.1: the
//                   outside never reaches the intranet; RFC 5265 4.2: the
//                   DMZ's VPN gateway reaches the i-HA);
//   DHCP            one dnsmasq per visited network (c: rc, f: ifa, pub:
//                   rext, natnet: nat), leases in the run directory;
//   the agents      (Options) `mipsec ha` in iha (ha.toml), `mipsec fa` in
//                   ifa (fa.toml), and as the mVPN in mvpn either
//                   `mipsec gw` (gw.toml) or strongSwan (StrongswanMvpn(),
//                   with mvpn-policy.nft); each started from its config with
//                   @RUN@ replaced by the run directory, and waited for
//                   until it listens.
//
// Everything is owned: the destructor stops the programs (SIGTERM, then
// SIGKILL), deletes the namespaces (lab/netns's reaper also does that if
// this process dies) and removes the run directory unless KeepRunDir() was
// called or MIPSEC_KEEP_FIGURE1=1 (then its path is printed).
#ifndef MIPSEC_LAB_FIGURE1_FIGURE1_NET_H_
#define MIPSEC_LAB_FIGURE1_FIGURE1_NET_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip/address.h"
#include "common/result.h"
#include "lab/netns/exec.h"
#include "lab/netns/topology.h"
#include "lab/strongswan/strongswan_peer.h"

namespace mipsec::lab {

// Where the mobile node's radio can be.
enum class Access {
  kHome,    // home 10.1.0.0/24, with the i-HA (the MN keeps its home address)
  kC,       // visit-c 10.2.0.0/24, DHCP, no foreign agent: mode c
  kF,       // visit-f 10.4.0.0/24, DHCP, the i-FA: mode f
  kPub,     // ext-pub 203.0.113.0/25, DHCP, public addresses: mode mc
  kNatNet,  // ext-nat 192.168.1.0/24 behind the NAT, DHCP: mode mc with NAT-T
};
std::string_view AccessName(Access a);  // "home", "c", "f", "pub", "natnet"

// Which program is the mVPN in the DMZ.
enum class Mvpn {
  kNone,
  kMipsec,      // `mipsec gw` (gw.toml)
  // strongSwan 5.9.8's charon (kernel-libipsec): RFC 5266 needs no Mobile IP
  // in the gateway, only IKEv2 with MOBIKE and NAT-T, TIAs routable in the
  // intranet and a policy passing Mobile IPv4 to the i-HA (mvpn-policy.nft).
  kStrongswan,
};

struct Figure1Options {
  bool start_ha = true;
  bool start_fa = true;
  Mvpn mvpn = Mvpn::kMipsec;
  bool start_dhcp = true;
  // The `mipsec` program whose `ha`, `fa`, `gw`, `mn` and `probe` run in the
  // namespaces. Empty: this program itself (/proc/self/exe), as for
  // `mipsec demo --netns`; tests name the built binary.
  std::string mipsec_binary = {};
};

class Figure1Net {
 public:
  // The MN's home address, its i-HA, the MN-HA SA of ha.toml, and the mVPN.
  static constexpr std::string_view kHomeAddress = "10.1.0.10";
  static constexpr std::string_view kHomeAgent = "10.1.0.2";
  static constexpr std::uint32_t kSpi = 4096;
  static constexpr std::string_view kKey = "000102030405060708090a0b0c0d0e0f";
  static constexpr std::string_view kGateway = "192.0.2.2";
  static constexpr std::string_view kGatewayId = "fqdn:mvpn.corp.example";
  static constexpr std::string_view kPsk = "6d697073656320666967757265203121";
  static constexpr std::string_view kCn = "10.0.0.100";

  // Needs root, ip, nft, ss, dnsmasq (MissingTools()) and the `mipsec`
  // program (Figure1Options::mipsec_binary).
  static Result<std::unique_ptr<Figure1Net>> Create(const Figure1Options& options = {});
  // What Create() needs and cannot find, one entry per tool naming its
  // Debian package ("dnsmasq (Debian package dnsmasq-base)"); empty: all
  // there. `have` says whether a program exists (default: FindExecutable).
  static std::vector<std::string> MissingTools(
      const Figure1Options& options,
      const std::function<bool(std::string_view)>& have = nullptr);
  ~Figure1Net();
  Figure1Net(const Figure1Net&) = delete;
  Figure1Net& operator=(const Figure1Net&) = delete;

  Topology& topo() { return *topo_; }
  // Keep the run directory (configs, leases, firewall) at destruction, e.g.
  // when the test failed.
  void KeepRunDir() { keep_run_dir_ = true; }
  const std::string& run_dir() const { return run_dir_; }
  // The `mipsec` program the agents run as (absolute).
  const std::string& mipsec_binary() const { return mipsec_binary_; }
  // The mVPN this network runs (Figure1Options::mvpn).
  Mvpn mvpn() const { return mvpn_; }

  // Moves the MN's radio to `a`'s segment: carrier down, off the old
  // bridge, onto the new one, carrier up.
  Status Attach(Access a);
  // Carrier down, off every bridge.
  Status Detach();

  // Packets the firewall rejected going from the outside into the intranet
  // (its `ext_to_intranet` counter).
  Result<std::uint64_t> FirewallRejects();

  // A program this fixture started ("ha", "fa", "gw", "dnsmasq-c", ...);
  // nullptr if not started.
  Child* program(std::string_view name);
  // The strongSwan mVPN (Mvpn::kStrongswan), else nullptr.
  StrongswanPeer* strongswan() { return swan_.get(); }
  // What the strongSwan mVPN runs.
  static StrongswanConfig StrongswanMvpn();
  // Its stderr so far (the daemons' logs).
  std::string Log(std::string_view name);
  // Every started program's state and the tail of its stderr, for failures.
  std::string Describe();

  // Writes `text` with @RUN@ replaced to the run directory; returns the path.
  Result<std::string> WriteConfig(std::string_view name, std::string_view text);
  // A file beside this header (figure1.topo, ha.toml, ...), as compiled in
  // (files.h).
  static Result<std::string> ReadSource(std::string_view name);

 private:
  Figure1Net() = default;
  Status Build(const Figure1Options& options);
  Status MakeBridges();
  Status StartDhcp(std::string_view name, std::string_view ns, std::string_view interface,
                   std::string_view first, std::string_view last, std::string_view router,
                   std::string_view dns, std::string_view domain);
  Status StartAgent(std::string_view kind, std::string_view ns, std::string_view listen);

  std::unique_ptr<Topology> topo_;
  std::unique_ptr<StrongswanPeer> swan_;  // destroyed before topo_
  std::string run_dir_;
  std::string mipsec_binary_;
  std::map<std::string, Child*, std::less<>> programs_;
  bool keep_run_dir_ = false;
  Mvpn mvpn_ = Mvpn::kNone;
};

}  // namespace mipsec::lab

#endif  // MIPSEC_LAB_FIGURE1_FIGURE1_NET_H_
