// Fuzz target: the ICMP codec (common/ip/icmp.h).
//
// The input is tried as an ICMP message and as an IPv4 datagram carrying
// one. Properties: no out-of-bounds read; parse -> build -> parse (checksum
// verified) gives the same fields; an error message built about the input
// quotes exactly its header and up to 8 payload bytes, and parses back.
#include <algorithm>

#include "common/ip/icmp.h"
#include "fuzz_target.h"
#include "fuzz_util.h"

using namespace mipsec;  // NOLINT: a fuzz target, not library code

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteSpan in(data, size);
  (void)ip::ParseIpv4Icmp(in);

  Result<ip::IcmpMessage> strict = ip::ParseIcmp(in);
  Result<ip::IcmpMessage> m = ip::ParseIcmp(in, {.verify_checksum = false});
  FUZZ_CHECK(!strict.ok() || m.ok());
  if (m.ok()) {
    FUZZ_CHECK(m->body.size() + ip::IcmpMessage::kHeaderSize == size);
    const Bytes built = ip::BuildIcmp(m->type, m->code, m->rest, m->body);
    Result<ip::IcmpMessage> again = ip::ParseIcmp(built);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->type == m->type && again->code == m->code && again->rest == m->rest);
    FUZZ_CHECK(fuzz::SameBytes(again->body, m->body));
    if (m->IsError()) {
      Result<ip::Ipv4Packet> q = ip::ParseIcmpQuote(*m);
      if (q.ok()) FUZZ_CHECK(q->datagram.size() <= m->body.size());
    } else {
      FUZZ_CHECK(!ip::ParseIcmpQuote(*m).ok());
    }
  }

  // The input as an original datagram that an error is about.
  Result<Bytes> err = ip::BuildIcmpDestinationUnreachable(ip::kIcmpHostUnreachable, in);
  FUZZ_CHECK(err.ok() == ip::IcmpErrorAllowed(in).ok());
  if (err.ok()) {
    Result<ip::Ipv4Packet> orig = ip::ParseIpv4(in, {.verify_checksum = false,
                                                     .allow_truncated = true});
    FUZZ_CHECK(orig.ok());
    const std::size_t quoted =
        orig->header.header_length() + std::min<std::size_t>(orig->payload.size(), 8);
    Result<ip::IcmpMessage> e = ip::ParseIcmp(*err);
    FUZZ_CHECK(e.ok());
    FUZZ_CHECK(fuzz::SameBytes(e->body, in.first(quoted)));
    Result<ip::Ipv4Packet> q = ip::ParseIcmpQuote(*e);
    FUZZ_CHECK(q.ok());
    FUZZ_CHECK(fuzz::SameIpv4Fields(q->header, orig->header));
    Result<Bytes> te = ip::BuildIcmpTimeExceeded(ip::kIcmpTtlExceeded, in);
    FUZZ_CHECK(te.ok());
  }
  return 0;
}
