#include "ikev2/codec/id_payload.h"

#include "common/wire/reader.h"

namespace mipsec::ikev2 {

IdPayload IdPayload::Fqdn(std::string_view name) {
  const ByteSpan b = AsBytes(name);
  return {IdType::kFqdn, Bytes(b.begin(), b.end())};
}

IdPayload IdPayload::Rfc822(std::string_view addr) {
  const ByteSpan b = AsBytes(addr);
  return {IdType::kRfc822Addr, Bytes(b.begin(), b.end())};
}

IdPayload IdPayload::Ipv4(Ipv4Address a) {
  const auto b = a.ToBytes();
  return {IdType::kIpv4Addr, Bytes(b.begin(), b.end())};
}

IdPayload IdPayload::KeyId(ByteSpan id) { return {IdType::kKeyId, Bytes(id.begin(), id.end())}; }

Result<IdPayload> IdPayload::Decode(ByteSpan body) {
  wire::Reader r(body);
  IdPayload id;
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t type, r.U8("ID type"));
  id.type = static_cast<IdType>(type);
  MIPSEC_TRY(r.Skip(3, "ID reserved"));
  const ByteSpan data = r.TakeRest();
  id.data.assign(data.begin(), data.end());
  return id;
}

void IdPayload::Encode(wire::Writer& w) const {
  w.U8(static_cast<std::uint8_t>(type)).U8(0).U16(0).Append(data);
}

}  // namespace mipsec::ikev2
