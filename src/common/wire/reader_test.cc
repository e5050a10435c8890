#include "common/wire/reader.h"

#include <gtest/gtest.h>

namespace mipsec::wire {
namespace {

const Bytes kData = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b};

TEST(ReaderTest, BigEndianIntegers) {
  Reader r(kData);
  EXPECT_EQ(*r.U8("a"), 0x01);
  EXPECT_EQ(*r.U16("b"), 0x0203);
  EXPECT_EQ(*r.U32("c"), 0x04050607u);
  EXPECT_EQ(r.offset(), 7u);
  EXPECT_EQ(*r.U24("d"), 0x08090au);
  EXPECT_EQ(r.remaining(), 1u);
}

TEST(ReaderTest, U64) {
  Reader r(kData);
  EXPECT_EQ(*r.U64("x"), 0x0102030405060708ull);
}

TEST(ReaderTest, FailedReadNamesFieldAndDoesNotAdvance) {
  Reader r(ByteSpan(kData).first(3));
  ASSERT_TRUE(r.U16("type").ok());
  Result<std::uint32_t> v = r.U32("lifetime");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code(), Errc::kTruncated);
  EXPECT_EQ(v.error().detail(), "lifetime needs 4 bytes at offset 2, 1 left");
  EXPECT_EQ(r.offset(), 2u);  // unchanged
  EXPECT_EQ(*r.U8("last"), 0x03);
  EXPECT_FALSE(r.U8("past end").ok());
}

TEST(ReaderTest, SpanAndSkipAreBounded) {
  Reader r(kData);
  EXPECT_FALSE(r.Span(12, "body").ok());
  EXPECT_FALSE(r.Skip(12, "pad").ok());
  // A length near SIZE_MAX must not wrap the bounds check.
  EXPECT_FALSE(r.Span(static_cast<std::size_t>(-1), "huge").ok());
  EXPECT_EQ(r.offset(), 0u);
  Result<ByteSpan> s = r.Span(3, "body");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)[2], 0x03);
  ASSERT_TRUE(r.Skip(2, "pad").ok());
  EXPECT_EQ(*r.U8("next"), 0x06);
}

TEST(ReaderTest, SubReaderIsConfinedToItsBytes) {
  Reader r(kData);
  ASSERT_TRUE(r.Skip(1, "type").ok());
  Result<Reader> sub = r.Sub(2, "ext");
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(*sub->U16("v"), 0x0203);
  EXPECT_FALSE(sub->U8("beyond").ok());
  EXPECT_EQ(*r.U8("after"), 0x04);  // parent moved past the sub-range
}

TEST(ReaderTest, CopyPeekAndRest) {
  Reader r(kData);
  std::uint8_t out[2];
  ASSERT_TRUE(r.Copy(out, "two").ok());
  EXPECT_EQ(out[1], 0x02);
  EXPECT_EQ(*r.PeekU8("p"), 0x03);
  EXPECT_EQ(*r.PeekU16("p"), 0x0304);
  EXPECT_EQ(r.offset(), 2u);
  EXPECT_EQ(r.Rest().size(), 9u);
  EXPECT_EQ(r.Consumed().size(), 2u);
  EXPECT_EQ(r.TakeRest().size(), 9u);
  EXPECT_TRUE(r.empty());
  EXPECT_FALSE(r.PeekU8("p").ok());
}

TEST(ReaderTest, EmptyInput) {
  Reader r;
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.U8("x").error().detail(), "x needs 1 byte at offset 0, 0 left");
  EXPECT_TRUE(r.Span(0, "nothing").ok());
}

TEST(ReaderTest, MalformedCarriesOffset) {
  Reader r(kData);
  ASSERT_TRUE(r.Skip(4, "hdr").ok());
  Error e = r.Malformed("length", "shorter than the header");
  EXPECT_EQ(e.code(), Errc::kMalformed);
  EXPECT_EQ(e.detail(), "length at offset 4: shorter than the header");
}

}  // namespace
}  // namespace mipsec::wire
