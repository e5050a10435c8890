// MIP Tunnel Data message (RFC 3519 3.3), Mobile IP message type 4, sent on
// UDP port 434 ahead of the tunnelled packet:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |  Next Header  |           Reserved            |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//   Next Header: IP protocol number of what follows (4 IP, 47 GRE, 55
//   minimal encapsulation). Reserved: sent as 0, ignored.
//
// The receiver MUST drop a packet whose Next Header does not match the
// binding's tunnelling mode (3.3) — a core check, not a parse error.
#ifndef MIPSEC_MIP4_CODEC_TUNNEL_DATA_H_
#define MIPSEC_MIP4_CODEC_TUNNEL_DATA_H_

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "common/result.h"
#include "common/wire/writer.h"

namespace mipsec::mip4 {

struct TunnelData {
  static constexpr std::size_t kHeaderSize = 4;

  std::uint8_t next_header = 0;
  std::uint16_t reserved = 0;  // as received
  ByteSpan payload;            // the tunnelled packet, borrowed
};

// kMalformed if the type is not 4; kTruncated below 4 bytes.
Result<TunnelData> ParseTunnelData(ByteSpan message);
// Appends the 4-byte header (reserved 0); the caller appends the payload.
void AppendTunnelDataHeader(wire::Writer& w, std::uint8_t next_header);
// Header + payload.
Bytes BuildTunnelData(std::uint8_t next_header, ByteSpan payload);

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_CODEC_TUNNEL_DATA_H_
