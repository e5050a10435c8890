// Agent Solicitation (RFC 5944 2.2): an ICMP Router Solicitation
// (RFC 1256 3, ICMP type 10) sent with IP TTL 1:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |     Code      |           Checksum            |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                           Reserved                            |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// RFC 1256 4.2: a router discards a solicitation with a bad checksum, a
// code other than 0 or fewer than 8 bytes; Reserved and any bytes after
// the first 8 are ignored. (The IP source and TTL checks are the agent's.)
#ifndef MIPSEC_MIP4_CODEC_AGENT_SOLICITATION_H_
#define MIPSEC_MIP4_CODEC_AGENT_SOLICITATION_H_

#include <cstdint>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/result.h"

namespace mipsec::mip4 {

struct AgentSolicitation {
  std::uint32_t reserved = 0;  // as received
};

// The ICMP message bytes; kMalformed for another type, a non-zero code or
// a bad checksum; kTruncated below 8 bytes.
Result<AgentSolicitation> ParseAgentSolicitation(ByteSpan icmp_message);
// The 8-byte ICMP message (reserved 0), checksum computed.
Bytes BuildAgentSolicitation();
// An IPv4 datagram with TTL 1 (RFC 5944 2.2), e.g. to 224.0.0.11 or
// 255.255.255.255.
Result<Bytes> BuildAgentSolicitationPacket(Ipv4Address src, Ipv4Address dst,
                                           std::uint16_t ip_identification = 0);

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_CODEC_AGENT_SOLICITATION_H_
