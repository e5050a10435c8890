#include "mip4/codec/registration_request.h"

#include <string>

#include "common/wire/reader.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/registration_extensions.h"

namespace mipsec::mip4 {

std::uint8_t RegistrationRequest::FlagsByte() const {
  return static_cast<std::uint8_t>(
      (simultaneous_bindings ? 0x80 : 0) | (broadcast ? 0x40 : 0) |
      (decapsulation_by_mn ? 0x20 : 0) | (minimal_encapsulation ? 0x10 : 0) | (gre ? 0x08 : 0) |
      (reserved_r ? 0x04 : 0) | (reverse_tunnel ? 0x02 : 0) | (reserved_x ? 0x01 : 0));
}

void RegistrationRequest::SetFlagsByte(std::uint8_t f) {
  simultaneous_bindings = f & 0x80;
  broadcast = f & 0x40;
  decapsulation_by_mn = f & 0x20;
  minimal_encapsulation = f & 0x10;
  gre = f & 0x08;
  reserved_r = f & 0x04;
  reverse_tunnel = f & 0x02;
  reserved_x = f & 0x01;
}

Result<ParsedRegistrationRequest> ParseRegistrationRequest(ByteSpan message) {
  wire::Reader r(message);
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t type, r.U8("registration request type"));
  if (type != kMsgRegistrationRequest) {
    return Error(Errc::kMalformed,
                 "message type " + std::to_string(type) + " is not a Registration Request (1)");
  }
  ParsedRegistrationRequest p;
  RegistrationRequest& q = p.request;
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t flags, r.U8("registration request flags"));
  q.SetFlagsByte(flags);
  MIPSEC_ASSIGN_OR_RETURN(q.lifetime, r.U16("registration request lifetime"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint32_t hoa, r.U32("home address"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint32_t ha, r.U32("home agent"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint32_t coa, r.U32("care-of address"));
  MIPSEC_ASSIGN_OR_RETURN(q.identification, r.U64("identification"));
  q.home_address = Ipv4Address::FromHostOrder(hoa);
  q.home_agent = Ipv4Address::FromHostOrder(ha);
  q.care_of_address = Ipv4Address::FromHostOrder(coa);
  MIPSEC_ASSIGN_OR_RETURN(p.extensions,
                          ParseRegistrationExtensions(message, RegistrationRequest::kFixedSize));
  return p;
}

void AppendRegistrationRequestFixed(wire::Writer& w, const RegistrationRequest& q) {
  w.U8(kMsgRegistrationRequest).U8(q.FlagsByte()).U16(q.lifetime);
  w.U32(q.home_address.ToHostOrder()).U32(q.home_agent.ToHostOrder());
  w.U32(q.care_of_address.ToHostOrder()).U64(q.identification);
}

}  // namespace mipsec::mip4
