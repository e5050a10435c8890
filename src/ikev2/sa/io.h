// What an IkeSa (and IkeSaManager) exchanges with the runtime that drives it:
// datagrams to send and events. The IKE SA layer is sans-I/O
// (docs/STYLE.md 1): input is OnDatagram(now, local, remote, bytes) and
// OnTimeout(now); output is polled.
//
// ChildSaUp carries everything the ESP data plane (src/esp) needs to install
// the two SAs of a CHILD SA: suite, SPIs, keys per direction, traffic
// selectors, outer addresses and whether to UDP-encapsulate (RFC 3948).
#ifndef MIPSEC_IKEV2_SA_IO_H_
#define MIPSEC_IKEV2_SA_IO_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "ikev2/codec/id_payload.h"
#include "ikev2/codec/ids.h"
#include "ikev2/codec/ts_payload.h"
#include "ikev2/crypto/keys.h"
#include "ikev2/crypto/suite.h"

namespace mipsec::ikev2 {

// One UDP datagram to send from `local` to `remote`. `payload` is the whole
// UDP payload: on the NAT-T port it starts with the 4-byte non-ESP marker
// (RFC 3948 2.2); a NAT keepalive is the single byte 0xFF (RFC 3948 2.3).
struct IkeTransmit {
  Ipv4Endpoint local{};
  Ipv4Endpoint remote{};
  Bytes payload{};
  bool keepalive = false;
};

// One installed CHILD SA (tunnel mode, ESP).
struct ChildSaInfo {
  Suite suite;               // the negotiated ESP suite
  std::uint32_t spi_in = 0;  // our SPI: inbound packets carry it
  std::uint32_t spi_out = 0; // the peer's SPI: outbound packets carry it
  EspKeys keys_in{};           // decrypt/verify what we receive
  EspKeys keys_out{};          // encrypt/sign what we send
  std::vector<TrafficSelector> local_ts{};   // our side (as negotiated)
  std::vector<TrafficSelector> remote_ts{};  // the peer's side
  Ipv4Endpoint local{};        // outer addresses (ports matter with udp_encap)
  Ipv4Endpoint remote{};
  bool udp_encap = false;    // ESP-in-UDP (RFC 3948) because a NAT was detected
  bool initiator = false;    // we initiated the exchange that created it
};

struct IkeSaUp {
  Suite suite;  // the negotiated IKE suite
  std::uint64_t spi_i = 0;
  std::uint64_t spi_r = 0;
  bool original_initiator = false;
  IdPayload local_id{};
  IdPayload remote_id{};
  Ipv4Endpoint local{};
  Ipv4Endpoint remote{};
  bool local_behind_nat = false;
  bool remote_behind_nat = false;
};

enum class IkeDownReason : std::uint8_t {
  kDeleted,          // we deleted it (INFORMATIONAL Delete, or Terminate())
  kDeletedByPeer,    // the peer sent Delete
  kTimeout,          // retransmissions gave up (dead peer, RFC 7296 2.4)
  kSetupTimeout,     // not established within setup_timeout
  kAuthFailed,       // AUTHENTICATION_FAILED either way
  kNoProposal,       // NO_PROPOSAL_CHOSEN in IKE_SA_INIT
  kFailed,           // another negotiation failure (detail says which)
  kReplaced,         // INITIAL_CONTACT from the same peer on a newer IKE SA
  kRekeyed,          // superseded by a rekeyed IKE SA
};

struct IkeSaDown {
  IkeDownReason reason = IkeDownReason::kFailed;
  std::string detail{};
};

// Initiator: the configuration the responder gave (RFC 7296 2.19).
struct VirtualIpAssigned {
  Ipv4Address address{};
  std::optional<Ipv4Address> netmask{};
  std::vector<Ipv4Address> dns{};
};

struct ChildSaUp {
  ChildSaInfo child;
  // Set when this CHILD SA replaces one being rekeyed (its spi_in).
  std::optional<std::uint32_t> rekeyed_spi_in{};
};

enum class ChildDownReason : std::uint8_t {
  kDeleted,        // we deleted it
  kDeletedByPeer,  // the peer deleted it
  kRekeyed,        // replaced by a rekeyed CHILD SA
  kIkeSaDown,      // its IKE SA went away
  kExpired,        // hard lifetime
};

struct ChildSaDown {
  std::uint32_t spi_in = 0;
  std::uint32_t spi_out = 0;
  ChildDownReason reason = ChildDownReason::kDeleted;
};

// A CHILD SA could not be created. `notify` is the error the responder sent
// or that we sent (NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE, ...), if any.
struct ChildSaFailed {
  std::optional<NotifyType> notify{};
  std::string detail{};
};

// The IKE SA's endpoints changed in place (NAT-T port float, NAT mapping
// change): the data plane updates its CHILD SAs' outer addresses.
struct PathChanged {
  Ipv4Endpoint local{};
  Ipv4Endpoint remote{};
  bool udp_encap = false;
};

// MOBIKE initiator (RFC 4555 3.5): the peer accepted the
// UPDATE_SA_ADDRESSES of our latest move with an authenticated response: its
// IKE SA is on this path now (its IPsec SAs follow at once, or after its
// return routability check, 3.7). PathChanged is emitted when we move
// (optimistically, before the peer knows); PathConfirmed follows about one
// round trip later, once per UPDATE that is still current: a burst of moves
// folded into one UPDATE gives one, a response to an UPDATE that a newer
// move made outdated gives none, and so does a refusal
// (UNACCEPTABLE_ADDRESSES, UNEXPECTED_NAT_DETECTED). A path test (3.10)
// confirms nothing by itself: the pair that answered is moved to, and the
// UPDATE that follows confirms it. The endpoints are the IKE SA's after the
// response was processed (its NAT detection may have switched UDP
// encapsulation). Never emitted by the responder.
struct PathConfirmed {
  Ipv4Endpoint local{};
  Ipv4Endpoint remote{};
  bool udp_encap = false;
};

// The peer sent INITIAL_CONTACT (RFC 7296 2.4): other IKE SAs with this
// identity are stale. (IkeSaManager acts on it.)
struct InitialContact {
  IdPayload remote_id{};
};

// The IKE SA was rekeyed (RFC 7296 2.8): the IKE SA with handle
// `new_sa_id` (SPIs below; it emits no IkeSaUp) took over the CHILD SAs,
// identities, virtual IPs, NAT state and endpoints of `old_sa_id`, which
// goes down next with IkeSaDown{kRekeyed} (its CHILD SAs do not go down:
// they live on, keys unchanged, in the new IKE SA). The runtime swaps its
// IKE SA handle. IkeSa emits it with both ids 0; IkeSaManager fills them in.
struct IkeSaRekeyed {
  Suite suite;  // of the new IKE SA
  std::uint64_t old_sa_id = 0;
  std::uint64_t new_sa_id = 0;
  std::uint64_t spi_i = 0;  // of the new IKE SA
  std::uint64_t spi_r = 0;
  bool original_initiator = false;  // we initiated the rekey
};

using IkeEvent = std::variant<IkeSaUp, IkeSaDown, VirtualIpAssigned, ChildSaUp, ChildSaDown,
                              ChildSaFailed, PathChanged, PathConfirmed, InitialContact,
                              IkeSaRekeyed>;

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_SA_IO_H_
