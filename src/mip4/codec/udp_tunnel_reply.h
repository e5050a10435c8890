// UDP Tunnel Reply extension (RFC 3519 3.2), type 44, NON-skippable, short
// form, sub-type 0:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |    Length     |    Sub-Type   |  Reply Code   |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |F|        Reserved             |     Keepalive Interval        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//   Length 6. Reply Code (3.2.1): 0-63 assent (0 "will do tunnelling"),
//   64-255 decline (64 "declined, reason unspecified"). F: tunnelling is
//   forced because the request had F. Keepalive Interval in seconds; 0 means
//   "use your default".
//
// Being non-skippable, an unknown sub-type or length makes the whole
// message be discarded (RFC 5944 1.8).
#ifndef MIPSEC_MIP4_CODEC_UDP_TUNNEL_REPLY_H_
#define MIPSEC_MIP4_CODEC_UDP_TUNNEL_REPLY_H_

#include <cstdint>

#include "common/result.h"
#include "common/wire/writer.h"
#include "mip4/codec/extension.h"

namespace mipsec::mip4 {

inline constexpr std::uint8_t kUdpTunnelWillTunnel = 0;    // RFC 3519 3.2.1
inline constexpr std::uint8_t kUdpTunnelDeclined = 64;     // RFC 3519 3.2.1

struct UdpTunnelReply {
  static constexpr std::uint8_t kLength = 6;

  std::uint8_t reply_code = kUdpTunnelWillTunnel;
  bool forced = false;                    // F
  std::uint16_t reserved = 0;             // 15 bits, as received
  std::uint16_t keepalive_interval = 0;   // seconds

  // RFC 3519 3.2.1: codes 0..63 mean the HA will tunnel.
  bool assents() const { return reply_code < 64; }
};

Result<UdpTunnelReply> DecodeUdpTunnelReply(const Extension& e);
Status CheckUdpTunnelReply(const Extension& e);
void AppendUdpTunnelReply(wire::Writer& w, const UdpTunnelReply& rep);

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_CODEC_UDP_TUNNEL_REPLY_H_
