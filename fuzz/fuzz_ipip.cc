// Fuzz target: IP-in-IP decapsulation (common/ip/ipip.h), plus
// encapsulation and the tunnel MTU check on the same input.
//
// Properties: no out-of-bounds read; the inner view lies inside the input;
// decapsulate -> encapsulate (not forwarding, same outer fields) ->
// decapsulate gives the same inner datagram byte for byte.
#include "common/checksum.h"
#include "common/ip/ipip.h"
#include "fuzz_target.h"
#include "fuzz_util.h"

using namespace mipsec;  // NOLINT: a fuzz target, not library code

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteSpan in(data, size);
  const Ipv4Address a = Ipv4Address::FromOctets(10, 1, 0, 1);
  const Ipv4Address b = Ipv4Address::FromOctets(198, 51, 100, 7);

  Result<ip::IpipDecapsulated> strict = ip::IpipDecapsulate(in);
  Result<ip::IpipDecapsulated> d = ip::IpipDecapsulate(
      in, {.verify_outer_checksum = false, .verify_inner_checksum = false});
  FUZZ_CHECK(!strict.ok() || d.ok());
  if (d.ok()) {
    FUZZ_CHECK(d->outer.protocol == ip::kProtoIpip);
    FUZZ_CHECK(d->inner.ttl != 0);
    FUZZ_CHECK(d->inner_packet.data() == data + d->outer.header_length());
    FUZZ_CHECK(d->inner_packet.size() == d->inner.total_length);
    FUZZ_CHECK(d->outer.header_length() + d->inner_packet.size() <= size);
    const bool inner_valid =
        ChecksumIsValid(d->inner_packet.first(d->inner.header_length()));
    ip::IpipEncapsulateOptions o;
    o.forwarding = false;
    o.ttl = d->outer.ttl;
    o.identification = d->outer.identification;
    Result<Bytes> re = ip::IpipEncapsulate(d->inner_packet, d->outer.src, d->outer.dst, o);
    FUZZ_CHECK(re.ok() == inner_valid);
    if (re.ok()) {
      Result<ip::IpipDecapsulated> again = ip::IpipDecapsulate(*re);
      FUZZ_CHECK(again.ok());
      FUZZ_CHECK(fuzz::SameBytes(again->inner_packet, d->inner_packet));
      FUZZ_CHECK(again->outer.src == d->outer.src && again->outer.dst == d->outer.dst);
      FUZZ_CHECK(again->outer.tos == d->inner.tos);
      FUZZ_CHECK(again->outer.dont_fragment == d->inner.dont_fragment);
    }
  }

  // The input as an inner datagram to be tunnelled.
  Result<Bytes> fwd = ip::IpipEncapsulate(in, a, b);
  if (fwd.ok()) {
    Result<ip::IpipDecapsulated> back = ip::IpipDecapsulate(*fwd);
    FUZZ_CHECK(back.ok());
    Result<ip::Ipv4Packet> orig = ip::ParseIpv4(in);
    FUZZ_CHECK(orig.ok());
    FUZZ_CHECK(back->outer.src == a && back->outer.dst == b);
    FUZZ_CHECK(back->inner.ttl == orig->header.ttl - 1);
    // Only TTL and header checksum changed in the inner datagram.
    Bytes x(orig->datagram.begin(), orig->datagram.end());
    Bytes y(back->inner_packet.begin(), back->inner_packet.end());
    FUZZ_CHECK(x.size() == y.size());
    x[8] = y[8] = x[10] = y[10] = x[11] = y[11] = 0;
    FUZZ_CHECK(x == y);
  }
  for (std::size_t mtu : {std::size_t{88}, std::size_t{576}, std::size_t{1500}}) {
    Result<ip::IpipMtuCheck> c = ip::IpipCheckMtu(in, mtu, a);
    if (c.ok() && c->icmp) FUZZ_CHECK(c->verdict == ip::IpipMtuVerdict::kTooBig);
  }
  return 0;
}
