#include "ikev2/codec/cp_payload.h"

#include "common/wire/reader.h"

namespace mipsec::ikev2 {

CfgAttribute CfgAttribute::Ipv4(CfgAttr type, Ipv4Address a) {
  const auto b = a.ToBytes();
  return {static_cast<std::uint16_t>(type), Bytes(b.begin(), b.end())};
}

std::optional<Ipv4Address> CfgAttribute::Ipv4Value() const {
  if (value.size() != 4) return std::nullopt;
  return Ipv4Address::FromOctets(value[0], value[1], value[2], value[3]);
}

const CfgAttribute* CpPayload::Find(CfgAttr type) const {
  for (const CfgAttribute& a : attributes) {
    if (a.type == static_cast<std::uint16_t>(type)) return &a;
  }
  return nullptr;
}

Result<CpPayload> CpPayload::Decode(ByteSpan body) {
  wire::Reader r(body);
  CpPayload cp;
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t type, r.U8("CP CFG type"));
  cp.cfg_type = static_cast<CfgType>(type);
  MIPSEC_TRY(r.Skip(3, "CP reserved"));
  while (!r.empty()) {
    CfgAttribute a;
    MIPSEC_ASSIGN_OR_RETURN(std::uint16_t t, r.U16("CP attribute type"));
    a.type = static_cast<std::uint16_t>(t & 0x7fff);  // R bit reserved (3.15.1)
    MIPSEC_ASSIGN_OR_RETURN(std::uint16_t len, r.U16("CP attribute length"));
    MIPSEC_ASSIGN_OR_RETURN(ByteSpan v, r.Span(len, "CP attribute value"));
    a.value.assign(v.begin(), v.end());
    cp.attributes.push_back(std::move(a));
  }
  return cp;
}

std::size_t CpPayload::EncodedSize() const {
  std::size_t n = 4;
  for (const CfgAttribute& a : attributes) n += 4 + a.value.size();
  return n;
}

void CpPayload::Encode(wire::Writer& w) const {
  w.U8(static_cast<std::uint8_t>(cfg_type)).U8(0).U16(0);
  for (const CfgAttribute& a : attributes) {
    w.U16(static_cast<std::uint16_t>(a.type & 0x7fff));
    w.U16(static_cast<std::uint16_t>(a.value.size())).Append(a.value);
  }
}

}  // namespace mipsec::ikev2
