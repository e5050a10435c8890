// Fuzz target: the IPv4 header codec (common/ip/ipv4.h).
//
// Properties: parsing never reads outside the input; a parsed datagram's
// views lie inside it; parse -> build -> parse gives the same fields and
// payload, with a valid checksum; DecrementTtl keeps a valid checksum valid.
#include <cstring>

#include "common/checksum.h"
#include "common/ip/ipv4.h"
#include "fuzz_target.h"
#include "fuzz_util.h"

using namespace mipsec;  // NOLINT: a fuzz target, not library code

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteSpan in(data, size);
  Result<ip::Ipv4Packet> p = ip::ParseIpv4(in, {.verify_checksum = false});
  Result<ip::Ipv4Packet> verified = ip::ParseIpv4(in);
  Result<ip::Ipv4Packet> lenient =
      ip::ParseIpv4(in, {.verify_checksum = false, .allow_truncated = true});
  // Verification and truncation tolerance only ever add or remove one check.
  FUZZ_CHECK(!verified.ok() || p.ok());
  FUZZ_CHECK(!p.ok() || lenient.ok());
  if (!p.ok()) return 0;

  const ip::Ipv4Header& h = p->header;
  FUZZ_CHECK(h.header_length() >= ip::Ipv4Header::kMinSize);
  FUZZ_CHECK(h.header_length() <= ip::Ipv4Header::kMaxSize);
  FUZZ_CHECK(p->datagram.data() == data && p->datagram.size() == h.total_length);
  FUZZ_CHECK(p->datagram.size() <= size);
  FUZZ_CHECK(p->payload.data() == data + h.header_length());
  FUZZ_CHECK(p->payload.size() == h.total_length - h.header_length());
  (void)h.ToString();

  // Round trip.
  Result<Bytes> built = ip::BuildIpv4(h, p->payload);
  FUZZ_CHECK(built.ok());
  FUZZ_CHECK(built->size() == p->datagram.size());
  Result<ip::Ipv4Packet> again = ip::ParseIpv4(*built);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(fuzz::SameIpv4Fields(again->header, h));
  FUZZ_CHECK(fuzz::SameBytes(again->payload, p->payload));
  // Only the checksum field may differ from the input datagram.
  Bytes a(p->datagram.begin(), p->datagram.end());
  Bytes b = *built;
  a[10] = a[11] = b[10] = b[11] = 0;
  FUZZ_CHECK(a == b);

  // TTL decrement in place keeps the header valid.
  Bytes copy(p->datagram.begin(), p->datagram.end());
  Result<std::uint8_t> ttl = ip::DecrementTtl(copy);
  FUZZ_CHECK(ttl.ok() == (h.ttl != 0));
  if (ttl.ok()) {
    FUZZ_CHECK(*ttl == h.ttl - 1);
    if (verified.ok()) FUZZ_CHECK(ip::ParseIpv4(copy).ok());
  }
  return 0;
}
