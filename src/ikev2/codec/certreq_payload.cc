#include "ikev2/codec/certreq_payload.h"

#include <string>

#include "common/wire/reader.h"

namespace mipsec::ikev2 {

Result<std::vector<ByteSpan>> CertReqPayload::AuthorityHashes() const {
  if (authorities.size() % kSha1Size != 0) {
    return Error(Errc::kMalformed, "CERTREQ authorities length " +
                                       std::to_string(authorities.size()) +
                                       " is not a multiple of 20");
  }
  std::vector<ByteSpan> out;
  const ByteSpan all(authorities);
  for (std::size_t i = 0; i < all.size(); i += kSha1Size) out.push_back(all.subspan(i, kSha1Size));
  return out;
}

Result<CertReqPayload> CertReqPayload::Decode(ByteSpan body) {
  wire::Reader r(body);
  CertReqPayload c;
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t enc, r.U8("CERTREQ encoding"));
  c.encoding = static_cast<CertEncoding>(enc);
  const ByteSpan data = r.TakeRest();
  c.authorities.assign(data.begin(), data.end());
  return c;
}

void CertReqPayload::Encode(wire::Writer& w) const {
  w.U8(static_cast<std::uint8_t>(encoding)).Append(authorities);
}

}  // namespace mipsec::ikev2
