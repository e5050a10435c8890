// Test helper: builds a Mip4HaApp with a plain RFC 5944 home agent
// configuration, so that the scenario tests need only the app's header.
#ifndef MIPSEC_SIM_APPS_MIP4_TEST_HA_H_
#define MIPSEC_SIM_APPS_MIP4_TEST_HA_H_

#include <cstdint>
#include <memory>

#include "common/ip/address.h"
#include "common/result.h"
#include "mip4/security/sa_database.h"
#include "sim/apps/mip4_ha_app.h"
#include "sim/node.h"

namespace mipsec::sim::testing {

struct TestHaParams {
  Ipv4Address address{};
  Ipv4Prefix home_network{};
  int home_ifindex = 0;
  std::uint16_t max_lifetime = 1800;
  std::int64_t unix_nanos_at_zero = 0;  // wall clock at virtual time zero
};

// No RFC 5265 trusted-subnet filter, reverse tunnelling and RFC 3519 allowed.
Result<std::unique_ptr<Mip4HaApp>> MakeTestHaApp(Node& node, mip4::SaDatabase& sas,
                                                 const TestHaParams& p);

}  // namespace mipsec::sim::testing

#endif  // MIPSEC_SIM_APPS_MIP4_TEST_HA_H_
