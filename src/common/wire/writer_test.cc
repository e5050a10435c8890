#include "common/wire/writer.h"

#include <gtest/gtest.h>

#include "common/bug.h"
#include "common/wire/reader.h"

namespace mipsec::wire {
namespace {

TEST(WriterTest, BigEndianRoundTrip) {
  Writer w;
  w.U8(0xab).U16(0x1234).U24(0x56789a).U32(0xdeadbeef).U64(0x0102030405060708ull);
  EXPECT_EQ(w.size(), 1u + 2 + 3 + 4 + 8);
  EXPECT_EQ(ToHex(w.View()), "ab123456789adeadbeef0102030405060708");
  Reader r(w.View());
  EXPECT_EQ(*r.U8("a"), 0xab);
  EXPECT_EQ(*r.U16("b"), 0x1234);
  EXPECT_EQ(*r.U24("c"), 0x56789au);
  EXPECT_EQ(*r.U32("d"), 0xdeadbeefu);
  EXPECT_EQ(*r.U64("e"), 0x0102030405060708ull);
}

TEST(WriterTest, PatchLengthAfterBody) {
  Writer w;
  w.U8(32);
  std::size_t len_at = w.size();
  w.U8(0);
  w.Append(AsBytes("abcd")).Zeros(2);
  w.PatchU8(len_at, static_cast<std::uint8_t>(w.size() - len_at - 1));
  EXPECT_EQ(ToHex(w.View()), "2006616263640000");
  w.PatchU16(0, 0xbeef);
  w.PatchU32(2, 0x01020304);
  EXPECT_EQ(ToHex(w.View()), "beef010203040000");
}

TEST(WriterTest, LoadStoreHelpers) {
  std::uint8_t buf[6] = {};
  StoreU16(buf, 0, 0x0102);
  StoreU32(buf, 2, 0x03040506);
  EXPECT_EQ(LoadU16(buf, 0), 0x0102);
  EXPECT_EQ(LoadU32(buf, 2), 0x03040506u);
}

TEST(WriterTest, OutOfBoundsPatchIsABugNotACorruption) {
  SetBugMode(BugMode::kLog);
  std::uint64_t before = BugCount();
  Writer w;
  w.U16(0x1111);
  w.PatchU32(0, 0xffffffff);  // would write past the end
  EXPECT_EQ(ToHex(w.View()), "1111");
  EXPECT_EQ(BugCount(), before + 1);
  SetBugMode(BugMode::kAbort);
  EXPECT_DEATH(w.PatchU16(1, 0), "BUG at .*PatchU16|BUG at .*Mutable|outside written bytes");
}

TEST(HexTest, RoundTripAndErrors) {
  Result<Bytes> b = FromHex("de:AD be ef");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(ToHex(*b), "deadbeef");
  EXPECT_FALSE(FromHex("abc").ok());
  EXPECT_FALSE(FromHex("zz").ok());
  EXPECT_FALSE(FromHex("a b").ok());
}

}  // namespace
}  // namespace mipsec::wire
