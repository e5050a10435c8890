#include "mip4/codec/registration_reply.h"

#include <string>

#include "common/wire/reader.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/registration_extensions.h"

namespace mipsec::mip4 {

Result<ParsedRegistrationReply> ParseRegistrationReply(ByteSpan message) {
  wire::Reader r(message);
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t type, r.U8("registration reply type"));
  if (type != kMsgRegistrationReply) {
    return Error(Errc::kMalformed,
                 "message type " + std::to_string(type) + " is not a Registration Reply (3)");
  }
  ParsedRegistrationReply p;
  RegistrationReply& q = p.reply;
  MIPSEC_ASSIGN_OR_RETURN(q.code, r.U8("reply code"));
  MIPSEC_ASSIGN_OR_RETURN(q.lifetime, r.U16("registration reply lifetime"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint32_t hoa, r.U32("home address"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint32_t ha, r.U32("home agent"));
  MIPSEC_ASSIGN_OR_RETURN(q.identification, r.U64("identification"));
  q.home_address = Ipv4Address::FromHostOrder(hoa);
  q.home_agent = Ipv4Address::FromHostOrder(ha);
  MIPSEC_ASSIGN_OR_RETURN(p.extensions,
                          ParseRegistrationExtensions(message, RegistrationReply::kFixedSize));
  return p;
}

void AppendRegistrationReplyFixed(wire::Writer& w, const RegistrationReply& q) {
  w.U8(kMsgRegistrationReply).U8(q.code).U16(q.lifetime);
  w.U32(q.home_address.ToHostOrder()).U32(q.home_agent.ToHostOrder()).U64(q.identification);
}

}  // namespace mipsec::mip4
