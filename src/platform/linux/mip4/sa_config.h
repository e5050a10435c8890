// From the daemons' parsed configuration (config/daemon_config.h) to the
// Mobile IPv4 cores' configuration: HomeAgentOptions and the security
// associations in a mip4::SaDatabase / the cores' peer SAs.
//
// Library: mip4_linux. Namespace mipsec::mip4d. Pure mapping, no I/O: a
// config that config::ParseHaConfig/ParseFaConfig accepted maps without
// error except where the cores are stricter (then the error names the
// config line, e.g. "mobile_node at line 12: spi: ..."). Keys are copied
// into the SAs and never appear in errors.
//
// Order of use for the HA (ha_daemon.cc):
//   mip4::SaDatabase db;
//   MIPSEC_TRY(AddHaMobileNodeSas(cfg, db));
//   auto ha = mip4::HomeAgent::Create(HomeAgentOptionsFromConfig(cfg, clock), db, rng, log);
//   MIPSEC_TRY(AddHaPeerSas(cfg, *ha));         // FA-HA SAs ([[fa_peer]])
// and for the FA:
//   MIPSEC_TRY(AddFaMobileNodeSas(cfg, db));     // optional MN-FA SAs
//   auto fa = mip4::ForeignAgent::Create(<options the FA builds>, db, rng, log);
//   MIPSEC_TRY(AddFaPeerSas(cfg, *fa));          // FA-HA SAs ([[ha_peer]])
// AddFaConfigSas(cfg, db, fa) does the FA's two steps at once.
#ifndef MIPSEC_PLATFORM_LINUX_MIP4_SA_CONFIG_H_
#define MIPSEC_PLATFORM_LINUX_MIP4_SA_CONFIG_H_

#include "common/result.h"
#include "common/time.h"
#include "config/daemon_config.h"
#include "mip4/fa/foreign_agent.h"
#include "mip4/ha/home_agent.h"
#include "mip4/security/ntp_time.h"
#include "mip4/security/sa_database.h"
#include "mip4/security/security_association.h"

namespace mipsec::mip4d {

// One SA from its config (algorithm, SPI, key) plus the replay method and
// timestamp tolerance (MN-HA SAs; FA-HA and MN-FA SAs use the defaults).
Result<mip4::SecurityAssociation> MakeSecurityAssociation(
    const config::SaConfig& sa, config::ReplayMethod replay = config::ReplayMethod::kTimestamp,
    Duration tolerance = mip4::kDefaultTimestampTolerance);

// [home_agent], [reverse_tunnel], [udp_tunnel] -> HomeAgentOptions:
// address, home_network, max_lifetime (seconds), trusted_subnets (RFC 5265
// 4.3 on: rfc5265_trusted_networks = true always), fa_ha_auth_required,
// reverse tunnel allowed/mandatory, UDP tunnelling enabled/forcing/keepalive
// interval; wall_clock = `wall_clock`. Other options keep the core's
// defaults; expected_bindings = number of configured mobile nodes.
mip4::HomeAgentOptions HomeAgentOptionsFromConfig(const config::HaConfig& config,
                                                  const mip4::WallClockMapping& wall_clock);

// Every [[mobile_node]] into `db` (home address and/or NAI, one MN-HA SA
// with its replay method and tolerance). On error `db` may hold the nodes
// before the failing one (the caller then discards it).
Status AddHaMobileNodeSas(const config::HaConfig& config, mip4::SaDatabase& db);
// Every [[fa_peer]] as an FA-HA SA (HomeAgent::AddForeignAgentSa).
Status AddHaPeerSas(const config::HaConfig& config, mip4::HomeAgent& ha);
// The same into a database of its own (a reload: HomeAgent::Reconfigure;
// the first SA per FA is its reply SA either way).
Status AddHaPeerSas(const config::HaConfig& config, mip4::SaDatabase& db);

// Every FA [[mobile_node]] (optional MN-FA keys) into `db`.
Status AddFaMobileNodeSas(const config::FaConfig& config, mip4::SaDatabase& db);
// Every [[ha_peer]] as an FA-HA SA (ForeignAgent::AddHomeAgentSa).
Status AddFaPeerSas(const config::FaConfig& config, mip4::ForeignAgent& fa);
// The same into a database of its own (a reload: ForeignAgent::Reconfigure).
Status AddFaPeerSas(const config::FaConfig& config, mip4::SaDatabase& db);
// Both of the above.
Status AddFaConfigSas(const config::FaConfig& config, mip4::SaDatabase& db,
                      mip4::ForeignAgent& fa);

// Maps the config's mirror enums.
mip4::AuthAlgorithm ToCoreAlgorithm(config::AuthAlgorithm a);
mip4::ReplayMethod ToCoreReplay(config::ReplayMethod m);

}  // namespace mipsec::mip4d

#endif  // MIPSEC_PLATFORM_LINUX_MIP4_SA_CONFIG_H_
