// Fuzz target: the UDP codec (common/ip/udp.h).
//
// Input: 4 bytes source address, 4 bytes destination address, then a UDP
// segment. The whole input is also tried as an IPv4+UDP datagram.
// Properties: no out-of-bounds read; parse -> build -> parse (with the
// checksum verified) gives the same ports, length and payload.
#include "common/ip/udp.h"
#include "common/wire/reader.h"
#include "fuzz_target.h"
#include "fuzz_util.h"

using namespace mipsec;  // NOLINT: a fuzz target, not library code

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteSpan in(data, size);
  if (Result<ip::Ipv4UdpPacket> whole = ip::ParseIpv4Udp(in); whole.ok()) {
    FUZZ_CHECK(whole->payload.size() + ip::UdpHeader::kSize == whole->udp.length);
    (void)whole->source().ToString();
  }
  (void)ip::ParseIpv4Udp(in, {.verify_checksum = false}, {.verify_checksum = false});

  wire::Reader r(in);
  Result<std::uint32_t> src = r.U32("src");
  Result<std::uint32_t> dst = r.U32("dst");
  if (!src.ok() || !dst.ok()) return 0;
  const Ipv4Address s = Ipv4Address::FromHostOrder(*src);
  const Ipv4Address d = Ipv4Address::FromHostOrder(*dst);
  const ByteSpan segment = r.Rest();

  Result<ip::UdpDatagram> strict = ip::ParseUdp(segment, s, d);
  Result<ip::UdpDatagram> u = ip::ParseUdp(segment, s, d, {.verify_checksum = false});
  FUZZ_CHECK(!strict.ok() || u.ok());
  if (!u.ok()) return 0;
  FUZZ_CHECK(u->header.length >= ip::UdpHeader::kSize && u->header.length <= segment.size());
  FUZZ_CHECK(u->payload.data() == segment.data() + ip::UdpHeader::kSize);
  FUZZ_CHECK(u->payload.size() == u->header.length - ip::UdpHeader::kSize);

  const bool with_checksum = u->header.checksum != 0;
  Result<Bytes> built =
      ip::BuildUdp(s, d, u->header.src_port, u->header.dst_port, u->payload, with_checksum);
  FUZZ_CHECK(built.ok());
  Result<ip::UdpDatagram> again = ip::ParseUdp(*built, s, d);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->header.src_port == u->header.src_port);
  FUZZ_CHECK(again->header.dst_port == u->header.dst_port);
  FUZZ_CHECK(again->header.length == u->header.length);
  FUZZ_CHECK((again->header.checksum != 0) == with_checksum);
  FUZZ_CHECK(fuzz::SameBytes(again->payload, u->payload));
  // A segment that verified carries the checksum we compute (up to the
  // one's complement zero, 0x0000 vs 0xffff).
  if (strict.ok() && with_checksum) {
    const std::uint16_t ours = again->header.checksum;
    const std::uint16_t theirs = u->header.checksum;
    FUZZ_CHECK(ours == theirs || (ours == 0xffff && theirs == 0x0000));
  }
  return 0;
}
