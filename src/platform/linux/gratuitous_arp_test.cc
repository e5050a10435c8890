// The gratuitous ARP of RFC 5944 4.6 byte for byte (RFC 826 layout): an
// ARP Request whose sender and target protocol addresses are both the
// announced address, with the sender's hardware address and an unknown
// target hardware address. Sending it is exercised end to end by
// scenarios/figure1/figure1_walk_test, whose TCP session dies at the first
// move without it.
#include "platform/linux/gratuitous_arp.h"

#include <gtest/gtest.h>

namespace mipsec::platform {
namespace {

TEST(GratuitousArp, Rfc5944_4_6_PayloadAnnouncesTheAddressAtTheSender) {
  const MacAddress mac = {0x02, 0x00, 0x5e, 0x10, 0x20, 0x30};
  const Bytes p = GratuitousArpPayload(Ipv4Address::Parse("10.1.0.10").value(), mac);
  const Bytes want = {
      0x00, 0x01,                          // hardware type: Ethernet
      0x08, 0x00,                          // protocol type: IPv4
      6,    4,                             // address lengths
      0x00, 0x01,                          // operation: request
      0x02, 0x00, 0x5e, 0x10, 0x20, 0x30,  // sender hardware address
      10,   1,    0,    10,                // sender protocol address
      0,    0,    0,    0,    0,    0,     // target hardware address: unknown
      10,   1,    0,    10,                // target protocol address = sender's
  };
  EXPECT_EQ(p, want);
}

}  // namespace
}  // namespace mipsec::platform
