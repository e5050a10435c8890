// Fuzz target: ESP decapsulation (esp/sa_table.h, esp/sa.h) against fixed
// SAs, including UDP-4500 classification (RFC 3948) and outer IPv4 parsing.
// Byte 0 picks the input form (fuzz_esp_fixture.h); the rest is the packet.
//
// Properties: no out-of-bounds access; a delivered packet lies inside the
// buffer and is a valid IPv4 datagram whose Total Length is its length; a
// drop never moves the replay window and never counts as delivered; the same
// bytes a second time are never delivered again (anti-replay); a delivered
// inner packet encapsulated again by the peer's outbound SA comes back
// byte for byte; IKE/keepalive classification agrees with ClassifyUdp4500.
#include <cstring>

#include "common/ip/ipv4.h"
#include "esp/sa_table.h"
#include "esp/udp_encap.h"
#include "fuzz_esp_fixture.h"
#include "fuzz_target.h"
#include "fuzz_util.h"

using namespace mipsec;  // NOLINT: a fuzz target, not library code

namespace {

struct Buf {
  Buf(ByteSpan b) : storage(esp::kEncapHeadroom + b.size() + esp::kEncapTailroom) {  // NOLINT
    if (!b.empty()) std::memcpy(storage.data() + esp::kEncapHeadroom, b.data(), b.size());
    pb = esp::PacketBuf{storage, esp::kEncapHeadroom, b.size()};
  }
  Bytes storage;
  esp::PacketBuf pb;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const esp::InputForm form = fuzz::InputFormOf(data[0]);
  const ByteSpan in(data + 1, size - 1);

  // Classification on its own.
  const esp::Udp4500Classified c = esp::ClassifyUdp4500(in);
  FUZZ_CHECK(c.offset <= in.size());
  Result<esp::OuterPacket> outer = esp::LocateEsp(in);
  if (outer.ok()) FUZZ_CHECK(outer->offset + outer->length <= in.size());

  esp::SaTable table = fuzz::EspFuzzTable();
  Buf b(in);
  const esp::PacketResult r = table.Decapsulate(Timestamp::Zero(), b.pb, form);
  FUZZ_CHECK(b.pb.Valid());
  if (form == esp::InputForm::kUdp4500) {
    if (c.kind == esp::Udp4500Kind::kIke) FUZZ_CHECK(r.action == esp::Action::kToIke);
    if (c.kind == esp::Udp4500Kind::kKeepalive) FUZZ_CHECK(r.action == esp::Action::kKeepalive);
    if (c.kind == esp::Udp4500Kind::kInvalid) FUZZ_CHECK(r.action == esp::Action::kDrop);
  }
  if (r.action == esp::Action::kToIke) {
    FUZZ_CHECK(b.pb.offset >= esp::kEncapHeadroom);
    FUZZ_CHECK(b.pb.offset + b.pb.length <= esp::kEncapHeadroom + in.size());
  }
  std::uint64_t delivered = 0;
  for (const fuzz::EspFuzzSa& s : fuzz::kEspFuzzSas) {
    const esp::Sa* sa = table.Find(s.spi);
    FUZZ_CHECK(sa != nullptr);
    delivered += sa->counters().packets;
    if (!(r.action == esp::Action::kDeliver && r.spi == s.spi)) {
      // Only an authenticated packet moves a window (RFC 4303 3.4.3); a
      // dummy or badly padded packet is authentic, the rest are not.
      const bool authentic = r.spi == s.spi && (r.reason == esp::DropReason::kDummy ||
                                                r.reason == esp::DropReason::kBadPadding ||
                                                r.reason == esp::DropReason::kBadNextHeader ||
                                                r.reason == esp::DropReason::kBadInner);
      if (!authentic) FUZZ_CHECK(sa->replay_window().top() == 0);
    }
  }
  FUZZ_CHECK(delivered == (r.action == esp::Action::kDeliver ? 1u : 0u));
  if (r.action != esp::Action::kDeliver) return 0;

  // Delivered: a valid inner datagram inside the buffer.
  FUZZ_CHECK(b.pb.offset >= esp::kEncapHeadroom);
  FUZZ_CHECK(b.pb.offset + b.pb.length <= esp::kEncapHeadroom + in.size());
  const Bytes inner(b.pb.packet().begin(), b.pb.packet().end());
  Result<ip::Ipv4Packet> ip4 = ip::ParseIpv4(inner);
  FUZZ_CHECK(ip4.ok());
  FUZZ_CHECK(ip4->datagram.size() == inner.size());
  FUZZ_CHECK(table.Find(r.spi)->replay_window().top() == r.seq);

  // The same bytes again are a replay.
  Buf again(in);
  const esp::PacketResult r2 = table.Decapsulate(Timestamp::Zero(), again.pb, form);
  FUZZ_CHECK(r2.action == esp::Action::kDrop && r2.reason == esp::DropReason::kReplay);

  // Round trip through the peer's outbound SA and a fresh inbound SA.
  for (const fuzz::EspFuzzSa& s : fuzz::kEspFuzzSas) {
    if (s.spi != r.spi) continue;
    esp::Sa out = fuzz::EspFuzzMakeSa(s, esp::Direction::kOutbound);
    esp::Sa fresh = fuzz::EspFuzzMakeSa(s, esp::Direction::kInbound);
    Buf rt(inner);
    FUZZ_CHECK(out.Encapsulate(Timestamp::Zero(), rt.pb).action == esp::Action::kSend);
    FUZZ_CHECK(fresh.Decapsulate(Timestamp::Zero(), rt.pb).action == esp::Action::kDeliver);
    FUZZ_CHECK(fuzz::SameBytes(rt.pb.packet(), inner));
  }
  return 0;
}
