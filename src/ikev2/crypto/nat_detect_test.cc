#include "ikev2/crypto/nat_detect.h"

#include <gtest/gtest.h>

namespace mipsec::ikev2 {
namespace {

// Expected values from Python's hashlib (script in keys_test.cc):
//   hashlib.sha1(spii + spir + ip + port.to_bytes(2, "big"))
TEST(NatDetectTest, KnownAnswers) {
  Result<Bytes> h = NatDetectionHash(0x0102030405060708, 0x1112131415161718,
                                     Ipv4Address::FromOctets(192, 0, 2, 1), 4500);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->size(), kNatDetectionHashSize);
  EXPECT_EQ(ToHex(*h), "5184f43875ff7d9e3dfdc92bd1dee1a08204de3e");
  // In the IKE_SA_INIT request SPIr is zero.
  Result<Bytes> z = NatDetectionHash(0x0102030405060708, 0,
                                     Ipv4Address::FromOctets(198, 51, 100, 10), 500);
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(ToHex(*z), "fa890f3780b7d7ca9e006a0e3b2ce6465c7e7609");
  // Port and address matter.
  EXPECT_NE(*NatDetectionHash(1, 2, Ipv4Address::FromOctets(192, 0, 2, 1), 4501),
            *NatDetectionHash(1, 2, Ipv4Address::FromOctets(192, 0, 2, 1), 4500));
  const Bytes v6(16, 0x20);
  EXPECT_TRUE(NatDetectionHash(1, 2, v6, 500).ok());
  const Bytes bad(5, 0);
  EXPECT_EQ(NatDetectionHash(1, 2, bad, 500).error().code(), Errc::kInvalidArgument);
}

}  // namespace
}  // namespace mipsec::ikev2
