#include "mip4/codec/agent_solicitation.h"

#include <string>

#include "common/ip/icmp.h"

namespace mipsec::mip4 {

Result<AgentSolicitation> ParseAgentSolicitation(ByteSpan icmp_message) {
  MIPSEC_ASSIGN_OR_RETURN(ip::IcmpMessage icmp, ip::ParseIcmp(icmp_message));
  if (icmp.type != ip::kIcmpRouterSolicitation) {
    return Error(Errc::kMalformed, "ICMP type " + std::to_string(icmp.type) +
                                       " is not a Router Solicitation (10)");
  }
  // RFC 1256 4.2.
  if (icmp.code != 0) {
    return Error(Errc::kMalformed,
                 "Router Solicitation code " + std::to_string(icmp.code) + " is not 0");
  }
  return AgentSolicitation{icmp.rest};
}

Bytes BuildAgentSolicitation() { return ip::BuildIcmp(ip::kIcmpRouterSolicitation, 0, 0, {}); }

Result<Bytes> BuildAgentSolicitationPacket(Ipv4Address src, Ipv4Address dst,
                                           std::uint16_t ip_identification) {
  // RFC 5944 2.2: TTL 1.
  return ip::BuildIcmpPacket(src, dst, BuildAgentSolicitation(), 1, ip_identification);
}

}  // namespace mipsec::mip4
