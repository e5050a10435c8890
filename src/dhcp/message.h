// The BOOTP/DHCPv4 message (RFC 2131 section 2, RFC 951) and the options
// mipsec uses (RFC 2132), as a typed value with a codec.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +---------------+---------------+---------------+---------------+
//   |     op (1)    |   htype (1)   |   hlen (1)    |   hops (1)    |
//   +---------------+---------------+---------------+---------------+
//   |                            xid (4)                            |
//   +-------------------------------+-------------------------------+
//   |           secs (2)            |           flags (2)           |
//   +-------------------------------+-------------------------------+
//   |                          ciaddr  (4)                          |
//   |                          yiaddr  (4)                          |
//   |                          siaddr  (4)                          |
//   |                          giaddr  (4)                          |
//   +---------------------------------------------------------------+
//   |                          chaddr  (16)                         |
//   |                          sname   (64)                         |
//   |                          file    (128)                        |
//   +---------------------------------------------------------------+
//   |  magic cookie 99.130.83.99 (4) | options (variable) ... END    |
//   +---------------------------------------------------------------+
//
// flags: bit 0 (the most significant) is BROADCAST; the rest MUST be zero
// (RFC 2131 2, figure 2) and are kept as received.
//
// Options are code/length/data triples (RFC 2132 2), except PAD (0) and END
// (255), which are one octet. Several instances of one code are concatenated
// in order (RFC 3396 / RFC 2131 4.1: "the client concatenates the values of
// multiple instances of the same option"), then decoded; so a fixed-size
// option that appears twice has the wrong length and is refused.
//
// Parsing (ParseMessage) refuses, with an Error naming the field/option and
// offset:
//   - fewer than 240 bytes (236 fixed + cookie), op other than 1/2, hlen > 16,
//     a wrong magic cookie;
//   - an option whose length runs past the end, no END option;
//   - option 53 (message type) missing, repeated, or not 1 byte; value 0;
//   - a wrong length for a fixed-size option (1, 50, 51, 54, 58, 59: 4;
//     57: 2 and >= 576), an address list (3, 6) not a non-empty multiple of
//     4, an empty 15/55/56, a client identifier (61) shorter than 2;
//   - option 52 (overload: options in sname/file) — kUnsupported; mipsec
//     never sends it and refuses rather than half-reads it.
// Bytes after END are padding and ignored (a BOOTP message is at least 300
// bytes, RFC 1542 2.1). Options we do not know are kept raw, in order of
// first appearance.
//
// Serializing (SerializeMessage) cannot fail: it writes the fixed part, the
// cookie, the typed options in a fixed order (53, 54, 50, 51, 58, 59, 1, 3, 6,
// 15, 61, 55, 57, 56), the raw ones, END, and pads with zeros to 300 bytes.
// Values longer than 255 bytes are split into several instances (RFC 3396).
// Empty lists and strings are "absent" and not written, so every message
// SerializeMessage writes parses back to an equal Message.
#ifndef MIPSEC_DHCP_MESSAGE_H_
#define MIPSEC_DHCP_MESSAGE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/result.h"

namespace mipsec::dhcp {

inline constexpr std::uint16_t kServerPort = 67;  // "DHCP server" (RFC 2131 4.1)
inline constexpr std::uint16_t kClientPort = 68;  // "DHCP client"
inline constexpr std::uint32_t kMagicCookie = 0x63825363;  // 99.130.83.99 (RFC 2131 3)
inline constexpr std::size_t kFixedSize = 236;   // op .. file
inline constexpr std::size_t kMinParseSize = kFixedSize + 4;  // + cookie
inline constexpr std::size_t kMinMessageSize = 300;  // BOOTP minimum (RFC 1542 2.1)
inline constexpr std::uint16_t kBroadcastFlag = 0x8000;
inline constexpr std::uint8_t kHtypeEthernet = 1;
// Lease time value meaning "infinity" (RFC 2131 3.3).
inline constexpr std::uint32_t kInfiniteLease = 0xffffffffu;

enum class Op : std::uint8_t { kBootRequest = 1, kBootReply = 2 };

// Option 53 values (RFC 2132 9.6). The enum may hold other values a peer
// sends (RFC 3203 and later define more); cores treat those as unexpected.
enum class MessageType : std::uint8_t {
  kDiscover = 1,
  kOffer = 2,
  kRequest = 3,
  kDecline = 4,
  kAck = 5,
  kNak = 6,
  kRelease = 7,
  kInform = 8,
};
// "DHCPDISCOVER", ...; "DHCP type N" for other values.
std::string MessageTypeName(MessageType t);

// Option codes (RFC 2132).
namespace option {
inline constexpr std::uint8_t kPad = 0;
inline constexpr std::uint8_t kSubnetMask = 1;
inline constexpr std::uint8_t kRouter = 3;
inline constexpr std::uint8_t kDnsServer = 6;
inline constexpr std::uint8_t kDomainName = 15;
inline constexpr std::uint8_t kRequestedIp = 50;
inline constexpr std::uint8_t kLeaseTime = 51;
inline constexpr std::uint8_t kOverload = 52;
inline constexpr std::uint8_t kMessageType = 53;
inline constexpr std::uint8_t kServerId = 54;
inline constexpr std::uint8_t kParameterRequestList = 55;
inline constexpr std::uint8_t kMessage = 56;
inline constexpr std::uint8_t kMaxMessageSize = 57;
inline constexpr std::uint8_t kRenewalTime = 58;
inline constexpr std::uint8_t kRebindingTime = 59;
inline constexpr std::uint8_t kClientId = 61;
inline constexpr std::uint8_t kEnd = 255;
// Whether `code` is decoded into Options' typed fields (or is PAD, END or
// the refused overload option), i.e. never held in Options::unknown.
bool IsTyped(std::uint8_t code);
}  // namespace option

// An option we do not decode, kept as received (instances concatenated).
struct RawOption {
  std::uint8_t code = 0;
  Bytes data;
  bool operator==(const RawOption&) const = default;
};

// Every option but 53 (which is Message::type). Times are seconds as on the
// wire (kInfiniteLease = infinity). Empty vectors/strings mean "absent".
struct Options {
  std::optional<Ipv4Address> subnet_mask;      // 1
  std::vector<Ipv4Address> routers;            // 3
  std::vector<Ipv4Address> dns_servers;        // 6
  std::string domain_name;                     // 15
  std::optional<Ipv4Address> requested_ip;     // 50
  std::optional<std::uint32_t> lease_time;     // 51
  std::optional<Ipv4Address> server_id;        // 54
  Bytes parameter_request_list;                // 55
  std::string message;                         // 56 (text, e.g. why a NAK)
  std::optional<std::uint16_t> max_message_size;  // 57
  std::optional<std::uint32_t> renewal_time;   // 58 (T1)
  std::optional<std::uint32_t> rebinding_time; // 59 (T2)
  Bytes client_id;                             // 61 (type octet + identifier)
  // Options not listed above, in order of first appearance. Never holds a
  // code for which option::IsTyped() is true (SerializeMessage skips those,
  // and reports a BUG).
  std::vector<RawOption> unknown;

  bool operator==(const Options&) const = default;
};

struct Message {
  Op op = Op::kBootRequest;
  std::uint8_t htype = kHtypeEthernet;
  std::uint8_t hlen = 6;  // at most 16
  std::uint8_t hops = 0;
  std::uint32_t xid = 0;
  std::uint16_t secs = 0;
  std::uint16_t flags = 0;
  Ipv4Address ciaddr;
  Ipv4Address yiaddr;
  Ipv4Address siaddr;
  Ipv4Address giaddr;
  std::array<std::uint8_t, 16> chaddr{};
  std::array<std::uint8_t, 64> sname{};
  std::array<std::uint8_t, 128> file{};
  MessageType type = MessageType::kDiscover;  // option 53
  Options options;

  bool broadcast() const { return (flags & kBroadcastFlag) != 0; }
  void set_broadcast(bool on) {
    flags = static_cast<std::uint16_t>(on ? (flags | kBroadcastFlag) : (flags & ~kBroadcastFlag));
  }
  // The first hlen octets of chaddr (all 16 if hlen says more).
  ByteSpan hardware_address() const;

  bool operator==(const Message&) const = default;
};

// Parses a DHCP message (the UDP payload). See the file comment for what is
// refused; on success the Message is complete.
Result<Message> ParseMessage(ByteSpan bytes);

// The wire form, END-terminated and zero-padded to at least 300 bytes.
Bytes SerializeMessage(const Message& message);

// A contiguous subnet mask as a prefix length ("255.255.255.0" -> 24), or
// nullopt when the mask has holes.
std::optional<int> MaskToPrefixLength(Ipv4Address mask);

// One line for logs: "DHCPOFFER xid 0x3903f326 yiaddr 10.1.0.10 server 10.1.0.1".
std::string Describe(const Message& message);

// Where a datagram was received: the sans-I/O Path (docs/ARCHITECTURE.md).
struct Path {
  Ipv4Endpoint local;   // destination address and port as received
  Ipv4Endpoint remote;  // source address and port
  int ifindex = 0;      // interface it arrived on
};

}  // namespace mipsec::dhcp

#endif  // MIPSEC_DHCP_MESSAGE_H_
