// IKE fragmentation (RFC 7383 2.5, 2.6): splitting and reassembly.
#include "ikev2/codec/fragment.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "ikev2/codec/codec_test_util.h"

namespace mipsec::ikev2 {
namespace {

using test::Seq;

Message BigAuth(std::uint32_t mid = 1) {
  Message m;
  m.header.spi_i = 0xa1a2a3a4a5a6a7a8;
  m.header.spi_r = 0xb1b2b3b4b5b6b7b8;
  m.header.exchange = ExchangeType::kIkeAuth;
  m.header.initiator = true;
  m.header.message_id = mid;
  m.inner = {Payload::Idi(IdPayload::Fqdn("mn@example.org")),
             Payload::Cert({CertEncoding::kX509Signature, Seq(1500)}),
             Payload::Auth({AuthMethod::kDigitalSignature, Seq(260)})};
  return m;
}

TEST(FragmentTest, SplitsWithinSizeAndReassemblesInAnyOrder) {
  test::XorHmacTestCipher cipher(16, 16);
  const Message m = BigAuth();
  Result<std::vector<Bytes>> frags = EncodeFragmented(m, cipher, 544);
  ASSERT_TRUE(frags.ok()) << frags.error().ToString();
  ASSERT_GT(frags->size(), 3u);
  for (std::size_t i = 0; i < frags->size(); ++i) {
    const Bytes& f = (*frags)[i];
    EXPECT_LE(f.size(), 544u);
    Result<Message> outer = DecodeMessage(f);
    ASSERT_TRUE(outer.ok()) << outer.error().ToString();
    EXPECT_EQ(outer->header.next_payload, PayloadType::kSkf);
    EXPECT_EQ(outer->header.message_id, 1u);
    EXPECT_EQ(outer->encrypted->fragment_number, i + 1);
    EXPECT_EQ(outer->encrypted->total_fragments, frags->size());
    // RFC 7383 2.5: only fragment 1 names the first inner payload.
    EXPECT_EQ(outer->encrypted->first_inner, i == 0 ? PayloadType::kIdi : PayloadType::kNone);
    EXPECT_EQ(EncodeMessage(*outer).value(), f);
  }
  std::vector<std::size_t> order(frags->size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::mt19937 rng(7);
  for (int round = 0; round < 4; ++round) {
    if (round == 1) std::reverse(order.begin(), order.end());
    if (round >= 2) std::shuffle(order.begin(), order.end(), rng);
    FragmentReassembler r;
    for (std::size_t k = 0; k < order.size(); ++k) {
      Result<std::optional<Message>> out = r.Add((*frags)[order[k]], cipher);
      ASSERT_TRUE(out.ok()) << out.error().ToString();
      if (k + 1 < order.size()) {
        EXPECT_FALSE(out->has_value());
        EXPECT_EQ(r.fragments_held(), k + 1);
        continue;
      }
      ASSERT_TRUE(out->has_value());
      const Message& got = **out;
      EXPECT_EQ(got.inner, m.inner);
      EXPECT_EQ(got.header.message_id, 1u);
      EXPECT_EQ(got.header.exchange, ExchangeType::kIkeAuth);
      EXPECT_TRUE(got.encrypted->is_fragment());
      EXPECT_EQ(got.encrypted->total_fragments, frags->size());
      EXPECT_FALSE(r.in_progress());
      EXPECT_EQ(r.bytes_held(), 0u);
    }
  }
}

TEST(FragmentTest, SingleFragmentAndUnprotectedPayloadsInTheFirst) {
  test::XorHmacTestCipher cipher(8, 4);
  Message m = BigAuth();
  m.inner.resize(1);
  m.payloads = {Payload::VendorId({Seq(8)})};
  Result<std::vector<Bytes>> frags = EncodeFragmented(m, cipher, 1280);
  ASSERT_TRUE(frags.ok());
  ASSERT_EQ(frags->size(), 1u);
  FragmentReassembler r;
  Result<std::optional<Message>> out = r.Add((*frags)[0], cipher);
  ASSERT_TRUE(out.ok() && out->has_value());
  EXPECT_EQ((*out)->payloads, m.payloads);
  EXPECT_EQ((*out)->inner, m.inner);

  // With several fragments the unprotected payloads only ride in #1.
  Message big = BigAuth();
  big.payloads = m.payloads;
  frags = EncodeFragmented(big, cipher, 400);
  ASSERT_TRUE(frags.ok());
  ASSERT_GT(frags->size(), 1u);
  EXPECT_EQ(DecodeMessage((*frags)[0])->payloads.size(), 1u);
  EXPECT_TRUE(DecodeMessage((*frags)[1])->payloads.empty());
}

TEST(FragmentTest, DuplicateIsAReplayAndChangesNothing) {
  test::XorHmacTestCipher cipher;
  const std::vector<Bytes> frags = EncodeFragmented(BigAuth(), cipher, 600).value();
  FragmentReassembler r;
  ASSERT_TRUE(r.Add(frags[1], cipher).ok());
  const int opens = cipher.opens();
  Result<std::optional<Message>> dup = r.Add(frags[1], cipher);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code(), Errc::kReplay);
  EXPECT_EQ(cipher.opens(), opens);  // refused before the ICV (RFC 7383 2.6)
  EXPECT_EQ(r.fragments_held(), 1u);
}

TEST(FragmentTest, InvalidNumbersAreDropped) {
  test::XorHmacTestCipher cipher;
  IkeHeader h = BigAuth().header;
  FragmentReassembler r;
  auto make = [&](std::uint16_t num, std::uint16_t total, PayloadType first) {
    EncryptedPayload shape;
    shape.type = PayloadType::kSkf;
    shape.fragment_number = num;
    shape.total_fragments = total;
    shape.first_inner = first;
    return SealMessage(h, {}, shape, Seq(20), cipher).value();
  };
  EXPECT_EQ(r.Add(make(0, 3, PayloadType::kNone), cipher).error().code(), Errc::kMalformed);
  EXPECT_EQ(r.Add(make(4, 3, PayloadType::kNone), cipher).error().code(), Errc::kMalformed);
  EXPECT_EQ(r.Add(make(1, 0, PayloadType::kIdi), cipher).error().code(), Errc::kMalformed);
  EXPECT_EQ(r.Add(make(2, 3, PayloadType::kIdi), cipher).error().code(), Errc::kMalformed);
  EXPECT_FALSE(r.in_progress());
  // Not a fragment at all.
  Message plain = BigAuth();
  EXPECT_EQ(r.Add(EncodeProtected(plain, cipher).value(), cipher).error().code(), Errc::kMalformed);
}

TEST(FragmentTest, SmallerTotalIsDroppedLargerTotalStartsOver) {
  test::XorHmacTestCipher cipher;
  const Message m = BigAuth();
  const std::vector<Bytes> coarse = EncodeFragmented(m, cipher, 900).value();
  const std::vector<Bytes> fine = EncodeFragmented(m, cipher, 500).value();
  ASSERT_LT(coarse.size(), fine.size());
  FragmentReassembler r;
  ASSERT_TRUE(r.Add(fine[0], cipher).ok());
  ASSERT_TRUE(r.Add(fine[1], cipher).ok());
  // RFC 7383 2.6: a fragment of an older (smaller) set is discarded.
  EXPECT_EQ(r.Add(coarse[0], cipher).error().code(), Errc::kMalformed);
  EXPECT_EQ(r.total_fragments(), fine.size());
  EXPECT_EQ(r.fragments_held(), 2u);
  // Started with the coarse set, a finer (PMTU probe) set restarts.
  FragmentReassembler r2;
  ASSERT_TRUE(r2.Add(coarse[0], cipher).ok());
  ASSERT_TRUE(r2.Add(fine[2], cipher).ok());
  EXPECT_EQ(r2.total_fragments(), fine.size());
  EXPECT_EQ(r2.fragments_held(), 1u);
  std::optional<Message> done;
  for (std::size_t i = 0; i < fine.size(); ++i) {
    if (i == 2) continue;
    Result<std::optional<Message>> out = r2.Add(fine[i], cipher);
    ASSERT_TRUE(out.ok()) << out.error().ToString();
    if (out->has_value()) done = std::move(**out);
  }
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->inner, m.inner);
}

TEST(FragmentTest, NewMessageIdStartsOverAndHeaderMismatchIsDropped) {
  test::XorHmacTestCipher cipher;
  const std::vector<Bytes> one = EncodeFragmented(BigAuth(1), cipher, 600).value();
  const std::vector<Bytes> two = EncodeFragmented(BigAuth(2), cipher, 600).value();
  FragmentReassembler r;
  ASSERT_TRUE(r.Add(one[0], cipher).ok());
  ASSERT_TRUE(r.Add(two[1], cipher).ok());
  EXPECT_EQ(r.message_id(), 2u);
  EXPECT_EQ(r.fragments_held(), 1u);
  Message other = BigAuth(2);
  other.header.exchange = ExchangeType::kInformational;
  const std::vector<Bytes> mixed = EncodeFragmented(other, cipher, 600).value();
  EXPECT_EQ(r.Add(mixed[0], cipher).error().code(), Errc::kMalformed);
  EXPECT_EQ(r.fragments_held(), 1u);
}

TEST(FragmentTest, TamperedFragmentFailsAndChangesNothing) {
  test::XorHmacTestCipher cipher;
  const std::vector<Bytes> frags = EncodeFragmented(BigAuth(), cipher, 600).value();
  FragmentReassembler r;
  ASSERT_TRUE(r.Add(frags[0], cipher).ok());
  Bytes bad = frags[1];
  bad[bad.size() / 2] ^= 0x40;
  EXPECT_EQ(r.Add(bad, cipher).error().code(), Errc::kAuthFailed);
  EXPECT_EQ(r.fragments_held(), 1u);
  // A forged fragment of another message ID does not reset the reassembly.
  Bytes forged = EncodeFragmented(BigAuth(9), cipher, 600).value()[0];
  forged[forged.size() - 1] ^= 1;
  EXPECT_EQ(r.Add(forged, cipher).error().code(), Errc::kAuthFailed);
  EXPECT_EQ(r.message_id(), 1u);
  EXPECT_EQ(r.fragments_held(), 1u);
}

TEST(FragmentTest, MemoryIsBounded) {
  test::XorHmacTestCipher cipher;
  const std::vector<Bytes> frags = EncodeFragmented(BigAuth(), cipher, 400).value();
  FragmentReassembler few({.max_fragments = 3, .max_bytes = 64 * 1024});
  EXPECT_EQ(few.Add(frags[0], cipher).error().code(), Errc::kResource);
  FragmentReassembler small({.max_fragments = 64, .max_bytes = 700});
  Status last = Ok{};
  for (const Bytes& f : frags) {
    Result<std::optional<Message>> out = small.Add(f, cipher);
    if (!out.ok()) {
      last = out.error();
      break;
    }
  }
  ASSERT_FALSE(last.ok());
  EXPECT_EQ(last.error().code(), Errc::kResource);
  EXPECT_FALSE(small.in_progress());
  EXPECT_EQ(small.bytes_held(), 0u);
}

TEST(FragmentTest, TooSmallFragmentSizeIsRefused) {
  test::XorHmacTestCipher cipher(16, 16);
  EXPECT_EQ(EncodeFragmented(BigAuth(), cipher, 60).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(EncodeFragmented(BigAuth(), cipher, 0).error().code(), Errc::kInvalidArgument);
}

TEST(FragmentTest, MalformedReassembledChainSuggestsInvalidSyntax) {
  test::XorHmacTestCipher cipher;
  IkeHeader h = BigAuth().header;
  EncryptedPayload shape;
  shape.type = PayloadType::kSkf;
  shape.first_inner = PayloadType::kNonce;
  shape.fragment_number = 1;
  shape.total_fragments = 2;
  const Bytes f1 = SealMessage(h, {}, shape, FromHex("0000").value(), cipher).value();
  shape.fragment_number = 2;
  shape.first_inner = PayloadType::kNone;
  const Bytes f2 = SealMessage(h, {}, shape, FromHex("0010").value(), cipher).value();
  FragmentReassembler r;
  ASSERT_TRUE(r.Add(f1, cipher).ok());
  std::optional<ErrorNotify> notify;
  Result<std::optional<Message>> out = r.Add(f2, cipher, &notify);
  ASSERT_FALSE(out.ok());
  ASSERT_TRUE(notify.has_value());
  EXPECT_EQ(notify->type, NotifyType::kInvalidSyntax);
  EXPECT_FALSE(r.in_progress());
}

}  // namespace
}  // namespace mipsec::ikev2
