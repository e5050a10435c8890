#include "mip4/codec/mobility_agent_extension.h"

#include <string>

#include "common/wire/reader.h"
#include "mip4/codec/constants.h"

namespace mipsec::mip4 {

std::uint16_t MobilityAgentExtension::FlagsWord() const {
  return static_cast<std::uint16_t>(
      (registration_required ? 0x8000 : 0) | (busy ? 0x4000 : 0) | (home_agent ? 0x2000 : 0) |
      (foreign_agent ? 0x1000 : 0) | (minimal_encapsulation ? 0x0800 : 0) |
      (gre ? 0x0400 : 0) | (reserved_r ? 0x0200 : 0) | (reverse_tunnel ? 0x0100 : 0) |
      (udp_tunnel ? 0x0080 : 0) | (revocation ? 0x0040 : 0) | (regional ? 0x0020 : 0) |
      (reserved & 0x1f));
}

void MobilityAgentExtension::SetFlagsWord(std::uint16_t f) {
  registration_required = f & 0x8000;
  busy = f & 0x4000;
  home_agent = f & 0x2000;
  foreign_agent = f & 0x1000;
  minimal_encapsulation = f & 0x0800;
  gre = f & 0x0400;
  reserved_r = f & 0x0200;
  reverse_tunnel = f & 0x0100;
  udp_tunnel = f & 0x0080;
  revocation = f & 0x0040;
  regional = f & 0x0020;
  reserved = static_cast<std::uint8_t>(f & 0x1f);
}

Result<MobilityAgentExtension> DecodeMobilityAgentExtension(const Extension& e) {
  if (e.type != kAdvExtMobilityAgent || e.format != ExtensionFormat::kTlv) {
    return Error(Errc::kInvalidArgument, "not a Mobility Agent Advertisement extension");
  }
  // RFC 5944 2.1.1: Length = 6 + 4*N.
  if (e.data.size() < MobilityAgentExtension::kFixedLength ||
      (e.data.size() - MobilityAgentExtension::kFixedLength) % 4 != 0) {
    return Error(Errc::kMalformed, "Mobility Agent Advertisement length " +
                                       std::to_string(e.data.size()) +
                                       " is not 6 + 4*N (RFC 5944 2.1.1)");
  }
  wire::Reader r(e.data);
  MobilityAgentExtension m;
  MIPSEC_ASSIGN_OR_RETURN(m.sequence, r.U16("sequence number"));
  MIPSEC_ASSIGN_OR_RETURN(m.registration_lifetime, r.U16("registration lifetime"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint16_t flags, r.U16("agent flags"));
  m.SetFlagsWord(flags);
  while (!r.empty()) {
    MIPSEC_ASSIGN_OR_RETURN(std::uint32_t coa, r.U32("care-of address"));
    m.care_of_addresses.push_back(Ipv4Address::FromHostOrder(coa));
  }
  return m;
}

Status CheckMobilityAgentExtension(const Extension& e) {
  MIPSEC_TRY(DecodeMobilityAgentExtension(e));
  return Ok{};
}

Status AppendMobilityAgentExtension(wire::Writer& w, const MobilityAgentExtension& m) {
  if (m.care_of_addresses.size() > MobilityAgentExtension::kMaxCareOfAddresses) {
    return Error(Errc::kInvalidArgument, std::to_string(m.care_of_addresses.size()) +
                                             " care-of addresses do not fit (at most 62)");
  }
  w.U8(kAdvExtMobilityAgent);
  w.U8(static_cast<std::uint8_t>(MobilityAgentExtension::kFixedLength +
                                 4 * m.care_of_addresses.size()));
  w.U16(m.sequence).U16(m.registration_lifetime).U16(m.FlagsWord());
  for (Ipv4Address a : m.care_of_addresses) w.U32(a.ToHostOrder());
  return Ok{};
}

}  // namespace mipsec::mip4
