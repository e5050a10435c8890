#include "platform/linux/mip4/sa_config.h"

#include <string>
#include <utility>
#include <vector>

namespace mipsec::mip4d {
namespace {

Error AtLine(const char* what, int line, const Error& e) {
  return Error(e.code(), std::string(what) + " at line " + std::to_string(line) + ": " +
                             e.detail());
}

std::uint16_t LifetimeSeconds(Duration d) {
  std::int64_t s = d.seconds();
  if (s < 0) return 0;
  if (s > 0xffff) return 0xffff;
  return static_cast<std::uint16_t>(s);
}

Status AddMobileNodes(const std::vector<config::MobileNodeConfig>& nodes, mip4::SaDatabase& db,
                      bool with_replay) {
  for (const config::MobileNodeConfig& mn : nodes) {
    auto sa = with_replay ? MakeSecurityAssociation(mn.sa, mn.replay, mn.tolerance)
                          : MakeSecurityAssociation(mn.sa);
    if (!sa.ok()) return AtLine("mobile_node", mn.sa.line, sa.error());
    std::vector<mip4::SecurityAssociation> sas;
    sas.push_back(std::move(sa).value());
    auto added = db.AddMobileNode(mn.home_address, mn.nai, std::move(sas));
    if (!added.ok()) return AtLine("mobile_node", mn.sa.line, added.error());
  }
  return Ok{};
}

}  // namespace

mip4::AuthAlgorithm ToCoreAlgorithm(config::AuthAlgorithm a) {
  switch (a) {
    case config::AuthAlgorithm::kHmacMd5:
      return mip4::AuthAlgorithm::kHmacMd5;
  }
  return mip4::AuthAlgorithm::kHmacMd5;
}

mip4::ReplayMethod ToCoreReplay(config::ReplayMethod m) {
  switch (m) {
    case config::ReplayMethod::kTimestamp:
      return mip4::ReplayMethod::kTimestamp;
    case config::ReplayMethod::kNonce:
      return mip4::ReplayMethod::kNonce;
  }
  return mip4::ReplayMethod::kTimestamp;
}

Result<mip4::SecurityAssociation> MakeSecurityAssociation(const config::SaConfig& sa,
                                                          config::ReplayMethod replay,
                                                          Duration tolerance) {
  mip4::SecurityAssociationParams p;
  p.spi = sa.spi;
  p.algorithm = ToCoreAlgorithm(sa.algorithm);
  p.key = sa.key;
  p.replay = ToCoreReplay(replay);
  p.timestamp_tolerance = tolerance;
  return mip4::SecurityAssociation::Create(std::move(p));
}

mip4::HomeAgentOptions HomeAgentOptionsFromConfig(const config::HaConfig& c,
                                                  const mip4::WallClockMapping& wall_clock) {
  mip4::HomeAgentOptions o;
  o.address = c.address;
  o.home_network = c.home_network;
  o.max_lifetime = LifetimeSeconds(c.max_lifetime);
  o.rfc5265_trusted_networks = true;  // RFC 5265 4.3: an i-HA
  o.trusted_subnets = c.trusted_subnets;
  o.fa_ha_auth_required = c.require_fa_ha_auth;
  o.reverse_tunnel_allowed = c.reverse_tunnel_allowed;
  o.reverse_tunnel_mandatory = c.reverse_tunnel_mandatory;
  o.udp_tunnelling_enabled = c.udp_tunnel_enabled;
  o.udp_accept_forcing = c.udp_tunnel_accept_forcing;
  o.udp_keepalive_interval = LifetimeSeconds(c.udp_keepalive_interval);
  o.expected_bindings = c.mobile_nodes.size();
  o.wall_clock = wall_clock;
  return o;
}

Status AddHaMobileNodeSas(const config::HaConfig& c, mip4::SaDatabase& db) {
  return AddMobileNodes(c.mobile_nodes, db, /*with_replay=*/true);
}

Status AddHaPeerSas(const config::HaConfig& c, mip4::HomeAgent& ha) {
  for (const config::PeerConfig& p : c.fa_peers) {
    auto sa = MakeSecurityAssociation(p.sa);
    if (!sa.ok()) return AtLine("fa_peer", p.sa.line, sa.error());
    Status st = ha.AddForeignAgentSa(p.address, std::move(sa).value());
    if (!st.ok()) return AtLine("fa_peer", p.sa.line, st.error());
  }
  return Ok{};
}

Status AddHaPeerSas(const config::HaConfig& c, mip4::SaDatabase& db) {
  for (const config::PeerConfig& p : c.fa_peers) {
    auto sa = MakeSecurityAssociation(p.sa);
    if (!sa.ok()) return AtLine("fa_peer", p.sa.line, sa.error());
    Status st = db.AddPeerSa(p.address, std::move(sa).value());
    if (!st.ok()) return AtLine("fa_peer", p.sa.line, st.error());
  }
  return Ok{};
}

Status AddFaMobileNodeSas(const config::FaConfig& c, mip4::SaDatabase& db) {
  return AddMobileNodes(c.mobile_nodes, db, /*with_replay=*/false);
}

Status AddFaPeerSas(const config::FaConfig& c, mip4::ForeignAgent& fa) {
  for (const config::PeerConfig& p : c.ha_peers) {
    auto sa = MakeSecurityAssociation(p.sa);
    if (!sa.ok()) return AtLine("ha_peer", p.sa.line, sa.error());
    Status st = fa.AddHomeAgentSa(p.address, std::move(sa).value());
    if (!st.ok()) return AtLine("ha_peer", p.sa.line, st.error());
  }
  return Ok{};
}

Status AddFaPeerSas(const config::FaConfig& c, mip4::SaDatabase& db) {
  for (const config::PeerConfig& p : c.ha_peers) {
    auto sa = MakeSecurityAssociation(p.sa);
    if (!sa.ok()) return AtLine("ha_peer", p.sa.line, sa.error());
    Status st = db.AddPeerSa(p.address, std::move(sa).value());
    if (!st.ok()) return AtLine("ha_peer", p.sa.line, st.error());
  }
  return Ok{};
}

Status AddFaConfigSas(const config::FaConfig& c, mip4::SaDatabase& db, mip4::ForeignAgent& fa) {
  MIPSEC_TRY(AddFaMobileNodeSas(c, db));
  return AddFaPeerSas(c, fa);
}

}  // namespace mipsec::mip4d
