// Configuration of one IKE SA peer (what ipsec.conf/swanctl.conf call a
// connection): identities, authentication, proposals, traffic selectors,
// virtual IP, liveness, NAT-T, retransmission and lifetimes.
//
// A PeerConfig is copied into every IkeSa made from it; pointers inside it
// (the AddressProvider) are not owned and must outlive those IKE SAs.
#ifndef MIPSEC_IKEV2_SA_CONFIG_H_
#define MIPSEC_IKEV2_SA_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/ip/address.h"
#include "common/secret.h"
#include "common/time.h"
#include "crypto/x509.h"
#include "ikev2/codec/id_payload.h"
#include "ikev2/codec/ts_payload.h"
#include "ikev2/crypto/suite.h"

namespace mipsec::ikev2 {

// RFC 7296 2.23 / RFC 3948: IKE starts on 500 and floats to 4500 when a NAT
// is detected; messages on 4500 carry the 4-byte non-ESP marker.
constexpr std::uint16_t kIkePort = 500;
constexpr std::uint16_t kNattPort = 4500;

enum class AuthKind : std::uint8_t { kPsk, kCertificate };

// How we prove our identity (RFC 7296 2.15).
struct LocalAuth {
  AuthKind kind = AuthKind::kPsk;
  SecretBytes psk;                                  // kPsk
  std::optional<crypto::Certificate> certificate;   // kCertificate: sent as the first CERT
  std::vector<crypto::Certificate> intermediates;   // kCertificate: further CERT payloads
  std::optional<crypto::PrivateKey> private_key;    // kCertificate: signs AUTH (RFC 7427)
  bool rsa_pss = false;                             // sign RSASSA-PSS under method 14
};

// How the peer must prove its identity.
struct RemoteAuth {
  AuthKind kind = AuthKind::kPsk;
  SecretBytes psk;                                  // kPsk
  std::vector<crypto::Certificate> trust_anchors;   // kCertificate: CAs the peer chains to
  // Wall clock for certificate validity: `now` + this offset is Unix time
  // in nanoseconds. nullopt skips the validity-period check.
  std::optional<Duration> unix_time_offset;
};

// RFC 7296 2.1: a request is retransmitted after `initial_timeout`, then
// each wait is multiplied by `backoff_factor` (capped at `max_timeout`);
// after `max_retransmits` retransmissions and one more wait the peer is
// declared dead (IkeSaDown{kTimeout}).
struct RetransmitConfig {
  Duration initial_timeout = Duration::Seconds(2);
  std::uint32_t backoff_factor = 2;
  Duration max_timeout = Duration::Seconds(60);
  std::uint32_t max_retransmits = 5;
};

// Lifetimes from establishment. Soft: rekey (CHILD SAs: ChildRekey; the IKE
// SA: IkeRekey, jittered by rekey_jitter_percent). Hard: the SA is deleted
// (INFORMATIONAL Delete). Give the two peers different values to make
// simultaneous rekeys rarer still (RFC 7296 2.8.1).
// Infinite disables a limit.
struct Lifetimes {
  Duration ike_soft = Duration::Infinite();
  Duration ike_hard = Duration::Infinite();
  Duration child_soft = Duration::Infinite();
  Duration child_hard = Duration::Infinite();
  // RFC 7296 2.8.1 (SHOULD): rekeying starts up to this fraction (percent)
  // of the soft lifetime earlier, drawn from the IKE SA's RandomSource, so
  // that peers with equal policies rarely rekey at the same time.
  std::uint32_t rekey_jitter_percent = 10;
  // RFC 7296 2.25: after TEMPORARY_FAILURE an IKE SA rekey is retried after
  // a random delay in [min, max], at most this many times; then the IKE SA
  // is deleted (the state is considered out of sync).
  Duration temporary_failure_retry_min = Duration::Seconds(2);
  Duration temporary_failure_retry_max = Duration::Seconds(10);
  std::uint32_t temporary_failure_max_retries = 10;
};

// What the responder's IkeConfig task asks for an internal address
// (RFC 7296 2.19). The gateway's TIA pool implements it; it must outlive the
// IKE SAs of the configs that point to it.
class AddressProvider {
 public:
  virtual ~AddressProvider() = default;
  // An address for the authenticated peer `peer_id`; `requested` is the
  // address the peer asked for, if any. nullopt: none can be given (the
  // response then carries INTERNAL_ADDRESS_FAILURE and no CHILD SA).
  virtual std::optional<Ipv4Address> Acquire(const IdPayload& peer_id,
                                             std::optional<Ipv4Address> requested) = 0;
  // The IKE SA that held `address` is gone.
  virtual void Release(const IdPayload& peer_id, Ipv4Address address) = 0;
};

// PSKs per peer identity, for a responder with many clients (RFC 7296 2.15:
// the shared secret is chosen by the identity in IDi). Must outlive the IKE
// SAs of the configs that point to it.
class PskProvider {
 public:
  virtual ~PskProvider() = default;
  // The PSK shared with the peer that sent `peer_id` (used to verify its
  // AUTH and to compute ours); nullptr: no key for that identity (the
  // IKE_AUTH request is then refused with AUTHENTICATION_FAILED).
  virtual const SecretBytes* Find(const IdPayload& peer_id) const = 0;
};

// Which address pairs a MOBIKE responder lets an initiator move its SAs to
// (RFC 4555 3.5: a pair that local policy does not accept is refused with
// UNACCEPTABLE_ADDRESSES). Must outlive the IKE SAs of the configs that
// point to it.
class PathPolicy {
 public:
  virtual ~PathPolicy() = default;
  // `local` is our address the request came to, `remote` the address and
  // port it came from.
  virtual bool Acceptable(const Ipv4Endpoint& local, const Ipv4Endpoint& remote) const = 0;
};

// MOBIKE (RFC 4555).
struct MobikeConfig {
  // Send MOBIKE_SUPPORTED in IKE_AUTH (3.2); MOBIKE is used when both
  // peers sent it. The initiator then also moves IKE to the NAT-T port when
  // the peer supports NAT-T, NAT or not (3.3).
  bool enabled = true;
  // Responder: before the IPsec SAs follow an initiator to a new address
  // (UPDATE_SA_ADDRESSES), check that it receives there: an INFORMATIONAL
  // with COOKIE2 to that address (3.7, SHOULD by default). false: the IPsec
  // SAs move at once.
  bool return_routability_check = true;
  // Initiator: a request retransmitted this many times without an answer
  // is also sent over every other pair of our addresses and the peer's,
  // and the pair whose answer comes first is moved to (3.5, 3.10). 0: off.
  std::uint32_t probe_after_retransmits = 2;
  // Responder: refuses moves to some address pairs (null: any pair). Not
  // owned.
  const PathPolicy* path_policy = nullptr;
};

struct PeerConfig {
  IdPayload local_id;
  // The identity the peer must authenticate as (nullopt: any identity the
  // credentials prove). The initiator sends it as IDr when `send_idr`.
  std::optional<IdPayload> remote_id;
  bool send_idr = false;

  LocalAuth local_auth;
  RemoteAuth remote_auth;
  // Responder with PSK auth (both local_auth and remote_auth kPsk): when
  // set, the key is looked up by the initiator's IDi here and used in both
  // directions instead of local_auth.psk/remote_auth.psk. Not owned.
  const PskProvider* psk_provider = nullptr;

  // IKE proposals in preference order, one Suite each (ForIke). The
  // initiator's first KE uses the first one's group; the responder picks the
  // first offered proposal equal to one of these, preferring one whose group
  // matches the received KE (RFC 7296 2.7), else asks INVALID_KE_PAYLOAD.
  std::vector<Suite> ike_proposals;
  // ESP proposals (ForEsp). In IKE_AUTH their DH group is ignored (RFC 7296
  // 1.2: no KE there); in CREATE_CHILD_SA a group other than NONE means PFS.
  std::vector<Suite> esp_proposals;

  // Our side and the peer's side of the CHILD SAs (tunnel mode only). The
  // initiator proposes them as TSi/TSr; the responder narrows the proposal
  // to them (RFC 7296 2.9). An initiator requesting a virtual IP should use
  // 0.0.0.0/0 as local_ts: the responder narrows TSi to the address given.
  std::vector<TrafficSelector> local_ts;
  std::vector<TrafficSelector> remote_ts;

  // Initiator: CP(CFG_REQUEST) for INTERNAL_IP4_ADDRESS/NETMASK/DNS (2.19).
  bool request_virtual_ip = false;
  // Responder: where addresses come from (null: CP requests get no address)
  // and what else a CFG_REPLY carries.
  AddressProvider* address_provider = nullptr;
  std::optional<Ipv4Address> virtual_ip_netmask;
  std::vector<Ipv4Address> virtual_ip_dns;
  // Responder: with a virtual IP assigned, TSi is narrowed to that address.

  // Initiator: send INITIAL_CONTACT in IKE_AUTH (RFC 7296 2.4).
  bool initial_contact = true;

  // Liveness check (RFC 7296 2.4): an empty INFORMATIONAL request after this
  // long without an authenticated message from the peer. Infinite: off.
  Duration dpd_interval = Duration::Seconds(30);
  // NAT keepalives (RFC 3948 4) while we are behind a NAT (or force
  // encapsulation). Infinite: off.
  Duration nat_keepalive_interval = Duration::Seconds(20);
  // Send a NAT_DETECTION_SOURCE_IP that cannot match, so the peer sees a
  // NAT and both sides use UDP encapsulation (what strongSwan's
  // encap=yes does).
  bool force_encapsulation = false;
  std::uint16_t natt_port = kNattPort;

  // RFC 7383: announce IKEV2_FRAGMENTATION_SUPPORTED, and fragment protected
  // messages longer than `fragment_size` bytes when the peer announced it.
  bool fragmentation = true;
  std::size_t fragment_size = 1280;

  // An IKE SA that is not established this long after it started (either
  // role) is dropped.
  Duration setup_timeout = Duration::Seconds(30);

  RetransmitConfig retransmit;
  Lifetimes lifetimes;
  MobikeConfig mobike;

  // Nonce size in bytes (RFC 7296 2.10: at least half the PRF key size, 16..256).
  std::size_t nonce_size = 32;
};

// aes128gcm16-prfsha256-x25519, aes256gcm16-prfsha384-ecp384,
// aes128-sha256-prfsha256-ecp256, aes256-sha256-prfsha256-modp2048.
std::vector<Suite> DefaultIkeProposals();
// aes128gcm16, aes256gcm16, aes128-sha256, aes256-sha256 (no PFS, no ESN).
std::vector<Suite> DefaultEspProposals();

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_SA_CONFIG_H_
