#include "sim/apps/mip4_test_ha.h"

#include "mip4/ha/home_agent.h"

namespace mipsec::sim::testing {

Result<std::unique_ptr<Mip4HaApp>> MakeTestHaApp(Node& node, mip4::SaDatabase& sas,
                                                 const TestHaParams& p) {
  mip4::HomeAgentOptions o;
  o.address = p.address;
  o.home_network = p.home_network;
  o.max_lifetime = p.max_lifetime;
  o.rfc5265_trusted_networks = false;
  o.wall_clock = {Timestamp::Zero(), p.unix_nanos_at_zero};
  return Mip4HaApp::Create(node, o, sas, {.home_ifindex = p.home_ifindex});
}

}  // namespace mipsec::sim::testing
