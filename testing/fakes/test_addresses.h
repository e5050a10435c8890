// Address literals for tests: Ip("10.0.0.1"), Pfx("10.0.0.0/8"),
// Ifa("10.0.0.1/24"), Ep("10.0.0.1:500"). A malformed literal is a bug in
// the test and aborts.
#ifndef MIPSEC_TESTING_FAKES_TEST_ADDRESSES_H_
#define MIPSEC_TESTING_FAKES_TEST_ADDRESSES_H_

#include <string_view>

#include "common/ip/address.h"
#include "platform/netlink.h"

namespace mipsec::testing {

inline Ipv4Address Ip(std::string_view s) { return Ipv4Address::Parse(s).value(); }
inline Ipv4Prefix Pfx(std::string_view s) { return Ipv4Prefix::Parse(s).value(); }
inline platform::InterfaceAddress Ifa(std::string_view s) {
  return platform::InterfaceAddress::Parse(s).value();
}
inline Ipv4Endpoint Ep(std::string_view s) { return Ipv4Endpoint::Parse(s).value(); }

}  // namespace mipsec::testing

#endif  // MIPSEC_TESTING_FAKES_TEST_ADDRESSES_H_
