// Mobile IPv4 numbers: the UDP port, message types and the extension types
// of both extension number spaces (RFC 5944 1.8, 6; IANA "Mobile IPv4
// Numbers").
//
// RFC 5944 1.8 keeps two separate extension spaces: one for the messages on
// UDP port 434 (registration), one for ICMP Router Discovery (agent
// advertisement). The same value may mean different things in each; the
// constants below are prefixed accordingly (kExt... for registration,
// kAdvExt... for advertisements).
#ifndef MIPSEC_MIP4_CODEC_CONSTANTS_H_
#define MIPSEC_MIP4_CODEC_CONSTANTS_H_

#include <cstdint>

namespace mipsec::mip4 {

// RFC 5944 1.8: the well-known port of every Mobile IP control message.
inline constexpr std::uint16_t kMip4Port = 434;

// Message types (RFC 5944 6.1, RFC 3519 8, RFC 3543 7.1).
inline constexpr std::uint8_t kMsgRegistrationRequest = 1;
inline constexpr std::uint8_t kMsgRegistrationReply = 3;
inline constexpr std::uint8_t kMsgTunnelData = 4;           // RFC 3519 3.3
inline constexpr std::uint8_t kMsgRevocation = 7;           // RFC 3543 3.3
inline constexpr std::uint8_t kMsgRevocationAck = 15;       // RFC 3543 3.4

// Registration extension types (UDP port 434 space).
inline constexpr std::uint8_t kExtPadding = 0;              // RFC 5944 1.8
inline constexpr std::uint8_t kExtMnHaAuth = 32;            // RFC 5944 3.5.2
inline constexpr std::uint8_t kExtMnFaAuth = 33;            // RFC 5944 3.5.3
inline constexpr std::uint8_t kExtFaHaAuth = 34;            // RFC 5944 3.5.4
inline constexpr std::uint8_t kExtCvse = 38;                // RFC 3115 (long form)
inline constexpr std::uint8_t kExtUdpTunnelReply = 44;      // RFC 3519 3.2 (short form)
inline constexpr std::uint8_t kExtDeliveryStyle = 130;      // RFC 3024 3.3
inline constexpr std::uint8_t kExtNai = 131;                // RFC 2794 2
inline constexpr std::uint8_t kExtNvse = 134;               // RFC 3115
inline constexpr std::uint8_t kExtRevocationSupport = 137;  // RFC 3543 3.2
inline constexpr std::uint8_t kExtUdpTunnelRequest = 144;   // RFC 3519 3.1 (short form)
inline constexpr std::uint8_t kExtTnc = 149;                // RFC 5265 3.4 (short form)

// Router Discovery extension types (agent advertisement space).
inline constexpr std::uint8_t kAdvExtPadding = 0;           // RFC 5944 2.1.3
inline constexpr std::uint8_t kAdvExtMobilityAgent = 16;    // RFC 5944 2.1.1
inline constexpr std::uint8_t kAdvExtPrefixLengths = 19;    // RFC 5944 2.1.2

// Sub-types of the short-form extensions we implement.
inline constexpr std::uint8_t kUdpTunnelRequestSubType = 0;  // RFC 3519 3.1
inline constexpr std::uint8_t kUdpTunnelReplySubType = 0;    // RFC 3519 3.2
inline constexpr std::uint8_t kTncSubType = 0;               // RFC 5265 3.4

// RFC 5944 1.8: types 128-255 are skippable, 0-127 are not.
constexpr bool IsSkippableExtension(std::uint8_t type) { return type >= 128; }

// The authentication extensions (SPI + authenticator, RFC 5944 3.5.2-3.5.4).
constexpr bool IsAuthExtension(std::uint8_t type) {
  return type == kExtMnHaAuth || type == kExtMnFaAuth || type == kExtFaHaAuth;
}

// Encapsulations, as IP protocol numbers (RFC 3519 3.1.4, 3.3).
inline constexpr std::uint8_t kEncapIpInIp = 4;     // RFC 2003
inline constexpr std::uint8_t kEncapGre = 47;       // RFC 2784
inline constexpr std::uint8_t kEncapMinimal = 55;   // RFC 2004

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_CODEC_CONSTANTS_H_
