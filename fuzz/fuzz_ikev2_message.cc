// Fuzz target: the IKEv2 message codec (ikev2/codec/).
//
// The input is tried three ways:
//  1. as an IKE message: DecodeMessage, Validate, and DecodeProtected with
//     FuzzCipher (a keyless XOR + FNV "cipher", so seeds sealed with it open
//     and mutations reach the inner-chain decoder);
//  2. as an inner payload chain: first byte = first payload type, the rest
//     the chain (DecodePayloadChain);
//  3. as a fragment sequence: [u16 length][IKE message]... fed to a
//     FragmentReassembler with small limits.
// Properties: no out-of-bounds read; anything that decodes re-encodes to
// bytes that decode to an equal message (a fixed point: encoding a second
// time gives the same bytes); the header Length of an encoded message is its
// size; a reassembler never holds more than its limits.
//
// Built a second time with -DMIPSEC_IKEV2_GEN_CORPUS as
// fuzz_ikev2_gen_corpus, which writes the seeds with our encoder:
//   build/<dir>/fuzz/fuzz_ikev2_gen_corpus fuzz/corpus
#include <cstring>
#include <vector>

#include "common/wire/reader.h"
#include "common/wire/writer.h"
#include "fuzz_target.h"
#include "fuzz_util.h"
#include "ikev2/codec/fragment.h"
#include "ikev2/codec/message.h"
#include "ikev2/codec/message_rules.h"
#include "ikev2/codec/notify_data.h"

using namespace mipsec;         // NOLINT: a fuzz target, not library code
using namespace mipsec::ikev2;  // NOLINT

namespace {

// IV 4 bytes, ICV 4 bytes (FNV-1a over everything before it), block 4.
class FuzzCipher final : public SkCipher {
 public:
  std::size_t IvSize() const override { return 4; }
  std::size_t IcvSize() const override { return 4; }
  std::size_t PadBlock() const override { return 4; }

  Status Seal(MutableByteSpan m, std::size_t body) override {
    MIPSEC_ASSIGN_OR_RETURN(std::size_t n, Layout(m, body));
    for (std::size_t i = 0; i < 4; ++i) m[body + i] = static_cast<std::uint8_t>(++iv_ + i);
    Xor(m, body, n);
    wire::StoreU32(m, m.size() - 4, Fnv(m.first(m.size() - 4)));
    return Ok{};
  }
  Result<std::size_t> Open(MutableByteSpan m, std::size_t body) override {
    MIPSEC_ASSIGN_OR_RETURN(std::size_t n, Layout(m, body));
    if (wire::LoadU32(m, m.size() - 4) != Fnv(m.first(m.size() - 4))) {
      return Error(Errc::kAuthFailed, "fuzz ICV");
    }
    Xor(m, body, n);
    return n;
  }

 private:
  static Result<std::size_t> Layout(MutableByteSpan m, std::size_t body) {
    if (body > m.size() || m.size() - body < 9) return Error(Errc::kTruncated, "fuzz SK");
    const std::size_t n = m.size() - body - 8;
    if (n % 4 != 0) return Error(Errc::kMalformed, "fuzz SK block");
    return n;
  }
  static void Xor(MutableByteSpan m, std::size_t body, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
      m[body + 4 + i] ^= static_cast<std::uint8_t>(m[body + i % 4] + i);
  }
  static std::uint32_t Fnv(ByteSpan b) {
    std::uint32_t h = 2166136261u;
    for (std::uint8_t c : b) h = (h ^ c) * 16777619u;
    return h;
  }
  std::uint8_t iv_ = 0;
};

// Encoding a decoded message must give bytes that decode to the same message.
void CheckOuterFixedPoint(const Message& m) {
  Result<Bytes> wire = EncodeMessage(m);
  FUZZ_CHECK(wire.ok());
  FUZZ_CHECK(wire->size() == EncodedSize(m));
  FUZZ_CHECK(wire::LoadU32(*wire, 24) == wire->size());
  Result<Message> again = DecodeMessage(*wire);
  FUZZ_CHECK(again.ok());
  Message a = m;
  Message b = *again;
  // As-received fields the encoder computes.
  a.header.length = b.header.length = 0;
  a.header.next_payload = b.header.next_payload = PayloadType::kNone;
  FUZZ_CHECK(a == b);
  FUZZ_CHECK(fuzz::SameBytes(EncodeMessage(*again).value(), *wire));
}

void CheckChainFixedPoint(PayloadType first, const std::vector<Payload>& chain) {
  Result<Bytes> wire = EncodePayloadChain(chain);
  FUZZ_CHECK(wire.ok());
  FUZZ_CHECK(wire->size() == EncodedChainSize(chain));
  Result<std::vector<Payload>> again =
      DecodePayloadChain(chain.empty() ? PayloadType::kNone : first, *wire);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == chain);
}

void AsMessage(ByteSpan in) {
  std::optional<ErrorNotify> notify;
  Result<Message> m = DecodeMessage(in, &notify);
  if (!m.ok()) {
    // Only requests are ever answered.
    if (notify && in.size() >= IkeHeader::kSize) FUZZ_CHECK((in[19] & 0x20) == 0);
    return;
  }
  FUZZ_CHECK(!notify.has_value());
  CheckOuterFixedPoint(*m);
  (void)Validate(*m);
  if (!m->is_protected()) return;
  FuzzCipher cipher;
  Result<Message> p = DecodeProtected(in, cipher, &notify);
  if (!p.ok()) return;
  (void)Validate(*p);
  CheckChainFixedPoint(p->encrypted->first_inner, p->inner);
  // Sealing what we opened opens again to the same payloads.
  Result<Bytes> sealed = EncodeProtected(*p, cipher);
  FUZZ_CHECK(sealed.ok());
  Result<Message> reopened = DecodeProtected(*sealed, cipher);
  FUZZ_CHECK(reopened.ok());
  FUZZ_CHECK(reopened->inner == p->inner);
}

void AsChain(ByteSpan in) {
  if (in.empty()) return;
  const PayloadType first = static_cast<PayloadType>(in[0]);
  Result<std::vector<Payload>> chain = DecodePayloadChain(first, in.subspan(1));
  if (chain.ok()) CheckChainFixedPoint(first, *chain);
}

void AsFragments(ByteSpan in) {
  const ReassemblyLimits limits{.max_fragments = 8, .max_bytes = 1024};
  FragmentReassembler r(limits);
  FuzzCipher cipher;
  wire::Reader rd(in);
  while (!rd.empty()) {
    Result<std::uint16_t> len = rd.U16("len");
    if (!len.ok()) break;
    Result<ByteSpan> frag = rd.Span(*len, "fragment");
    if (!frag.ok()) break;
    Result<std::optional<Message>> out = r.Add(*frag, cipher);
    FUZZ_CHECK(r.bytes_held() <= limits.max_bytes);
    FUZZ_CHECK(r.fragments_held() <= limits.max_fragments);
    if (out.ok() && out->has_value()) {
      FUZZ_CHECK(!r.in_progress());
      CheckChainFixedPoint((*out)->encrypted->first_inner, (*out)->inner);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteSpan in(data, size);
  AsMessage(in);
  AsChain(in);
  AsFragments(in);
  return 0;
}

#ifdef MIPSEC_IKEV2_GEN_CORPUS
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

std::filesystem::path g_dir;

void Write(const std::string& name, ByteSpan bytes) {
  std::ofstream f(g_dir / name, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

Bytes Seq(std::size_t n, std::uint8_t start = 1) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(start + i);
  return b;
}

IkeHeader Hdr(ExchangeType x, bool response, std::uint32_t mid) {
  IkeHeader h;
  h.spi_i = 0x0102030405060708;
  h.spi_r = x == ExchangeType::kIkeSaInit && !response ? 0 : 0x1112131415161718;
  h.exchange = x;
  h.initiator = !response;
  h.response = response;
  h.message_id = mid;
  return h;
}

Proposal Prop(std::uint8_t n, ProtocolId proto, std::uint16_t dh) {
  Proposal p;
  p.number = n;
  p.protocol = proto;
  if (proto == ProtocolId::kEsp) p.spi = {0xc1, 0xc2, 0xc3, 0xc4};
  p.transforms = {Transform::Make(TransformType::kEncr, 12, 128),
                  Transform::Make(TransformType::kInteg, 12),
                  Transform::Make(TransformType::kPrf, 5), Transform::Make(TransformType::kDh, dh)};
  return p;
}

TsPayload AnyTs() {
  return {{TrafficSelector::Ipv4Range(Ipv4Address::Any(), Ipv4Address::Broadcast())}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_ROOT\n", argv[0]);
    return 2;
  }
  g_dir = std::filesystem::path(argv[1]) / "ikev2_message";
  std::filesystem::create_directories(g_dir);
  FuzzCipher cipher;

  Message init;
  init.header = Hdr(ExchangeType::kIkeSaInit, false, 0);
  init.payloads = {Payload::Sa({{Prop(1, ProtocolId::kIke, 31), Prop(2, ProtocolId::kIke, 19)}}),
                   Payload::Ke({31, Seq(32)}),
                   Payload::Nonce({Seq(32)}),
                   Payload::Notify(MakeNatDetection(NotifyType::kNatDetectionSourceIp, {})),
                   Payload::Notify(MakeSignatureHashAlgorithms({2, 3, 4})),
                   Payload::VendorId({Seq(8)}),
                   Payload::Unknown(static_cast<PayloadType>(99), Seq(3))};
  Write("ike_sa_init_request", EncodeMessage(init).value());
  Message init_r;
  init_r.header = Hdr(ExchangeType::kIkeSaInit, true, 0);
  init_r.payloads = {Payload::Notify(MakeInvalidKePayload(19))};
  Write("ike_sa_init_invalid_ke", EncodeMessage(init_r).value());

  Message auth;
  auth.header = Hdr(ExchangeType::kIkeAuth, false, 1);
  auth.inner = {
      Payload::Idi(IdPayload::Fqdn("mn@example.org")),
      Payload::Cert({CertEncoding::kX509Signature, Seq(40)}),
      Payload::CertReq({CertEncoding::kX509Signature, Seq(20)}),
      Payload::Auth({AuthMethod::kSharedKeyMic, Seq(32)}),
      Payload::Cp({CfgType::kRequest, {CfgAttribute::Empty(CfgAttr::kInternalIp4Address)}}),
      Payload::Sa({{Prop(1, ProtocolId::kEsp, 0)}}),
      Payload::Tsi(AnyTs()),
      Payload::Tsr(AnyTs()),
      Payload::Eap({Bytes{2, 1, 0, 4}})};
  const Bytes auth_wire = EncodeProtected(auth, cipher).value();
  Write("ike_auth_request_sk", auth_wire);
  // The same inner payloads as a bare chain (first byte: first type).
  Bytes chain{static_cast<std::uint8_t>(PayloadType::kIdi)};
  const Bytes inner = EncodePayloadChain(auth.inner).value();
  chain.insert(chain.end(), inner.begin(), inner.end());
  Write("chain_ike_auth", chain);

  Message info;
  info.header = Hdr(ExchangeType::kInformational, true, 2);
  NotifyPayload rekey = MakeRekeySa(ProtocolId::kEsp, 7);
  info.inner = {Payload::Notify(MakeUpdateSaAddresses()),
                Payload::Notify(MakeCookie2(Seq(8)).value()),
                Payload::Notify(MakeAdditionalIp4Address(Ipv4Address::FromOctets(192, 0, 2, 1))),
                Payload::Notify(rekey), Payload::Delete(DeletePayload::Esp({1, 2}))};
  Write("informational_sk", EncodeProtected(info, cipher).value());
  Message empty;
  empty.header = Hdr(ExchangeType::kInformational, false, 3);
  Write("informational_empty_sk", EncodeProtected(empty, cipher).value());

  // Fragments, length-prefixed, out of order and with a duplicate.
  const std::vector<Bytes> frags = EncodeFragmented(auth, cipher, 120).value();
  wire::Writer seq;
  for (std::size_t i : {2u, 0u, 1u, 1u, 3u}) {
    if (i >= frags.size()) continue;
    seq.U16(static_cast<std::uint16_t>(frags[i].size())).Append(frags[i]);
  }
  for (std::size_t i = 4; i < frags.size(); ++i) {
    seq.U16(static_cast<std::uint16_t>(frags[i].size())).Append(frags[i]);
  }
  Write("fragments_ike_auth", seq.View());
  Write("fragment_single", frags[0]);
  std::printf("wrote %s\n", g_dir.c_str());
  return 0;
}
#endif  // MIPSEC_IKEV2_GEN_CORPUS
