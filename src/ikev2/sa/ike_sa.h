// IkeSa: one IKE SA (RFC 7296) and its CHILD SAs, sans-I/O.
//
// Made as the original initiator (CreateInitiator, then Connect()) or as the
// responder to an IKE_SA_INIT request (CreateResponder; normally by
// IkeSaManager, which also answers COOKIE challenges statelessly). The work
// is done by tasks (ikev2/tasks/) that the TaskManager composes into
// exchanges; IkeSa holds the state they share: SPIs, nonces, keys and SK
// ciphers, endpoints, NAT state, identities, CHILD SAs, timers.
//
// Call order (the same as every mipsec core, docs/STYLE.md 1):
//   1. input: OnDatagram(now, local, remote, payload) for each UDP datagram
//      addressed to this IKE SA, commands (Connect, CreateChildSa, ...);
//   2. output: PollTransmit() until empty, then PollEvent() until empty;
//   3. sleep until NextTimeout(), then OnTimeout(now) and go to 2.
// `now` never decreases. Randomness (SPIs, nonces, DH, IVs) comes from the
// RandomSource given at creation, which must outlive the IkeSa.
//
// Endpoints: `local` is where we send from / received on, `remote` the peer
// as seen on the wire. Both change in place: to the NAT-T port after NAT
// detection (2.23), to the source of authenticated messages while a NAT is
// detected and MOBIKE is not in use (2.23), and with MOBIKE (RFC 4555,
// IkeMobike) when the original initiator moves (UpdateLocalAddresses) and
// the responder accepts its UPDATE_SA_ADDRESSES. Responses always go back to
// where their request came from (2.11). The CHILD SAs' outer addresses
// (esp_path()) follow the IKE SA's, except while a responder checks the
// return routability of an initiator's new address (RFC 4555 3.7); every
// change is reported with PathChanged. The MOBIKE initiator also reports
// with PathConfirmed when the peer answered the UPDATE_SA_ADDRESSES of its
// latest move.
//
// Rekeying the IKE SA (2.8, IkeRekey) makes a new IkeSa that takes over
// the CHILD SAs etc.; the runtime must adopt it from TakeNewSas() (as
// IkeSaManager does) and swap on IkeSaRekeyed. The old IkeSa then only
// waits for its Delete and goes down with IkeSaDown{kRekeyed}.
//
// Timers: setup timeout, DPD, NAT keepalive, IKE and CHILD SA lifetimes
// (the IKE soft lifetime jittered, 2.8.1), the IKE rekey retry after
// TEMPORARY_FAILURE (2.25), the linger of a replaced IKE SA, plus the
// TaskManager's retransmission timer.
#ifndef MIPSEC_IKEV2_SA_IKE_SA_H_
#define MIPSEC_IKEV2_SA_IKE_SA_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/log.h"
#include "common/random.h"
#include "common/result.h"
#include "common/time.h"
#include "common/timer_table.h"
#include "ikev2/codec/fragment.h"
#include "ikev2/codec/message.h"
#include "ikev2/crypto/keys.h"
#include "ikev2/crypto/sk_ciphers.h"
#include "ikev2/crypto/suite.h"
#include "ikev2/sa/config.h"
#include "ikev2/sa/io.h"
#include "ikev2/sa/task_manager.h"
#include "ikev2/tasks/ike_mobike.h"

namespace mipsec::ikev2 {

enum class IkeSaState : std::uint8_t {
  kCreated,      // initiator before Connect()
  kConnecting,   // IKE_SA_INIT / IKE_AUTH in progress
  kEstablished,
  kDeleting,     // our Delete is in flight
  kDown,         // gone; only output left to drain
};
const char* IkeSaStateName(IkeSaState s);

enum class ChildSaState : std::uint8_t { kInstalled, kDeleting, kRekeying, kRekeyed };

struct ChildSa {
  ChildSaInfo info;
  ChildSaState state = ChildSaState::kInstalled;
  Timestamp established{};
  Timestamp soft_deadline = Timestamp::Infinite();
  Timestamp hard_deadline = Timestamp::Infinite();
};

// The outer addresses of an IKE SA's CHILD SAs and whether ESP is
// UDP-encapsulated (RFC 3948).
struct EspPath {
  Ipv4Endpoint local{};
  Ipv4Endpoint remote{};
  bool udp_encap = false;
  friend bool operator==(const EspPath&, const EspPath&) = default;
};

class IkeSa {
 public:
  static std::unique_ptr<IkeSa> CreateInitiator(PeerConfig config, Ipv4Endpoint local,
                                                Ipv4Endpoint remote, RandomSource& rng,
                                                Logger log, Timestamp now);
  // `spi_i` is the initiator's SPI from the IKE_SA_INIT request; our SPIr is
  // drawn from `rng`. Feed the request with OnDatagram() next.
  static std::unique_ptr<IkeSa> CreateResponder(PeerConfig config, Ipv4Endpoint local,
                                                Ipv4Endpoint remote, std::uint64_t spi_i,
                                                RandomSource& rng, Logger log, Timestamp now);
  ~IkeSa();
  IkeSa(const IkeSa&) = delete;
  IkeSa& operator=(const IkeSa&) = delete;

  // ---- Commands ----
  // Initiator: IKE_SA_INIT, then IKE_AUTH with CP (if configured) and the
  // first CHILD SA (if esp_proposals and traffic selectors are configured).
  // kState unless kCreated.
  Status Connect(Timestamp now);
  // CREATE_CHILD_SA for a new CHILD SA (1.3.1) with the configured
  // selectors, or the given ones. kState unless established.
  Status CreateChildSa(Timestamp now, std::optional<std::vector<TrafficSelector>> local_ts = {},
                       std::optional<std::vector<TrafficSelector>> remote_ts = {});
  // CREATE_CHILD_SA rekeying the CHILD SA whose inbound SPI is `spi_in`
  // (1.3.3, ChildRekey); the soft lifetime does the same.
  Status RekeyChildSa(Timestamp now, std::uint32_t spi_in);
  // INFORMATIONAL Delete of the CHILD SA whose inbound SPI is `spi_in`
  // (1.4.1). kNotFound / kState.
  Status DeleteChildSa(Timestamp now, std::uint32_t spi_in);
  // CREATE_CHILD_SA rekeying this IKE SA (1.3.2, 2.8; IkeRekey); the soft
  // lifetime does the same. The new IKE SA is handed to the runtime by
  // TakeNewSas() (IkeSaManager does it) and announced by IkeSaRekeyed.
  // kState unless established and not yet rekeyed; Ok if already pending.
  Status RekeyIkeSa(Timestamp now);
  // INFORMATIONAL Delete of the IKE SA (1.4.1); it goes down when the
  // response arrives or retransmissions give up. Before establishment it
  // just goes down.
  void Delete(Timestamp now);
  // Goes down at once without a message (INITIAL_CONTACT, shutdown).
  void Terminate(IkeDownReason reason, const std::string& detail);
  // MOBIKE (RFC 4555): the host's usable local addresses changed (netlink,
  // the simulator). `addresses`: every local address this IKE SA may use;
  // `preferred`: the one routing picks towards the peer now (nullopt: no
  // route). Acts at once, with no delay:
  //   original initiator: a new preferred address moves the IKE SA and the
  //     CHILD SAs there (PathChanged), sends a request in flight again over
  //     the new path, and sends UPDATE_SA_ADDRESSES as soon as the window
  //     allows (3.5); more moves before that fold into that one UPDATE. Its
  //     current address gone and no route: every address pair is tested
  //     (3.10). Only the list changed: the peer is told (3.6).
  //   responder: its own address gone: moves to `preferred` and tells the
  //     peer its address list (3.5, 3.6).
  // Before establishment the list is only recorded (IKE_AUTH announces it).
  // kUnsupported when the IKE SA would have to move but MOBIKE is not in use.
  Status UpdateLocalAddresses(Timestamp now, std::vector<Ipv4Address> addresses,
                              std::optional<Ipv4Address> preferred);

  // ---- Input ----
  // One UDP datagram for this IKE SA: `payload` is the whole UDP payload
  // (non-ESP marker included on the NAT-T port). Invalid input is dropped
  // (and logged); it never changes state.
  void OnDatagram(Timestamp now, const Ipv4Endpoint& local, const Ipv4Endpoint& remote,
                  ByteSpan payload);
  void OnTimeout(Timestamp now);

  // ---- Output ----
  std::optional<IkeTransmit> PollTransmit();
  std::optional<IkeEvent> PollEvent();
  Timestamp NextTimeout() const;

  // ---- State ----
  IkeSaState state() const { return state_; }
  bool original_initiator() const { return original_initiator_; }
  std::uint64_t spi_i() const { return spi_i_; }
  std::uint64_t spi_r() const { return spi_r_; }
  std::uint64_t local_spi() const { return original_initiator_ ? spi_i_ : spi_r_; }
  const Ipv4Endpoint& local() const { return local_; }
  const Ipv4Endpoint& remote() const { return remote_; }
  const PeerConfig& config() const { return config_; }
  const std::vector<ChildSa>& children() const { return children_; }
  const ChildSa* FindChild(std::uint32_t spi_in) const;
  bool local_behind_nat() const { return nat_local_; }
  bool remote_behind_nat() const { return nat_remote_; }
  bool nat_detected() const { return nat_local_ || nat_remote_; }
  // The authenticated peer identity (after IKE_AUTH).
  const std::optional<IdPayload>& remote_id() const { return remote_id_; }
  // Initiator: the address the responder assigned; responder: the address
  // given to the peer.
  const std::optional<Ipv4Address>& virtual_ip() const { return virtual_ip_; }
  const std::optional<Ipv4Address>& peer_virtual_ip() const { return peer_virtual_ip_; }
  const std::optional<Suite>& suite() const { return suite_; }
  TaskManager& task_manager() { return tm_; }
  // MOBIKE (RFC 4555): in use (both sent MOBIKE_SUPPORTED); the peer did
  // NAT-T in IKE_SA_INIT; our and the peer's address sets; the CHILD SAs'
  // outer path; whether a return routability check holds it back (3.7).
  bool mobike() const { return mobike_; }
  // RFC 4555 1.3: we initiated the first IKE SA of this series of rekeyed
  // IKE SAs, so we decide the addresses.
  bool mobike_initiator() const { return mobike_initiator_; }
  bool peer_natt() const { return peer_natt_; }
  const std::vector<Ipv4Address>& local_addresses() const { return local_addresses_; }
  const std::vector<Ipv4Address>& peer_addresses() const { return peer_addresses_; }
  EspPath esp_path() const;
  bool return_routability_pending() const { return rr_hold_.has_value(); }
  // Incremented by every move of the original initiator.
  std::uint64_t path_generation() const { return path_generation_; }
  // This IKE SA was replaced by a rekeyed one (or is a redundant new IKE SA
  // of a simultaneous rekey, 2.8.2): it only waits to be deleted.
  bool superseded() const { return superseded_; }
  // New IKE SAs made by rekeying (the successor, and in a simultaneous
  // rekey the peer's candidate), for the runtime to register under their
  // SPIs and drive like any other IKE SA. Call after each input.
  std::vector<std::shared_ptr<IkeSa>> TakeNewSas();

  // ---- For tasks (ikev2/tasks/) ----
  RandomSource& rng() { return rng_; }
  const Logger& log() const { return log_; }
  Timestamp now() const { return now_; }
  void set_spi_r(std::uint64_t spi) { spi_r_ = spi; }
  // IKE_SA_INIT material (RFC 7296 2.14, 2.15).
  Bytes& ni() { return ni_; }
  Bytes& nr() { return nr_; }
  // The IKE_SA_INIT request and response as on the wire (the initiator's and
  // the responder's RealMessage of 2.15); the TaskManager/IkeSa fill them.
  const Bytes& init_request() const { return init_request_; }
  const Bytes& init_response() const { return init_response_; }
  // Installs the negotiated suite and keys and makes the SK ciphers.
  Status InstallKeys(const Suite& suite, IkeSaKeys keys);
  const IkeSaKeys* keys() const { return keys_ ? &*keys_ : nullptr; }
  PrfId prf() const;
  // RFC 7427 4 / RFC 7383 2.3 announcements of the peer.
  std::optional<std::vector<SigHashAlg>>& peer_sig_hashes() { return peer_sig_hashes_; }
  bool& peer_fragmentation() { return peer_fragmentation_; }
  // NAT detection result (2.23); moves to the NAT-T port when a NAT is
  // detected and we are the original initiator.
  void SetNatState(bool local_behind_nat, bool remote_behind_nat);
  void set_remote_id(IdPayload id) { remote_id_ = std::move(id); }
  void set_virtual_ip(Ipv4Address a) { virtual_ip_ = a; }
  void set_peer_virtual_ip(std::optional<Ipv4Address> a) { peer_virtual_ip_ = a; }
  bool& virtual_ip_failed() { return virtual_ip_failed_; }
  // Our Delete of the IKE SA is being sent.
  void SetDeleting() { state_ = IkeSaState::kDeleting; }
  // IKE_AUTH done: state kEstablished, IkeSaUp, lifetimes and DPD armed.
  void SetEstablished(Timestamp now);
  // A CHILD SA is up (event ChildSaUp, lifetimes armed).
  void AddChild(Timestamp now, ChildSaInfo info, std::optional<std::uint32_t> rekeyed = {});
  ChildSa* FindChildMutable(std::uint32_t spi_in);
  ChildSa* FindChildByOutbound(std::uint32_t spi_out);
  // Removes a CHILD SA (event ChildSaDown).
  void RemoveChild(std::uint32_t spi_in, ChildDownReason reason);
  void Emit(IkeEvent e) { events_.push_back(std::move(e)); }
  // Goes down (events for the children and the IKE SA, address released).
  void Fail(IkeDownReason reason, const std::string& detail);
  // A fresh CHILD SA SPI (RFC 4303 2.1: not 1..255) not in use here.
  std::uint32_t AllocateChildSpi();
  // A fresh nonce of config().nonce_size bytes.
  Bytes NewNonce();
  // Cookie material the initiator received (RFC 7296 2.6).
  Bytes& cookie() { return cookie_; }
  // The endpoints of the message being processed (as on the wire).
  const Ipv4Endpoint& message_local() const { return msg_local_; }
  const Ipv4Endpoint& message_remote() const { return msg_remote_; }

  // MOBIKE (IkeMobike).
  void set_mobike(bool v) { mobike_ = v; }
  void set_peer_natt(bool v) { peer_natt_ = v; }
  // Our addresses other than the one in use (ADDITIONAL_IP4_ADDRESS).
  std::vector<Ipv4Address> AdditionalLocalAddresses() const;
  // The peer's address set is `primary` (its IP header) plus `additional`
  // (3.4, 3.6). The original initiator tests the paths when its current
  // peer address left the set (3.5).
  void SetPeerAddresses(Ipv4Address primary, std::vector<Ipv4Address> additional);
  // Responder: UPDATE_SA_ADDRESSES accepted. The IKE SA moves to the
  // request's addresses (3.5) with the NAT state from its NAT detection, if
  // any; the CHILD SAs follow now or after a return routability check.
  void AcceptPeerMove(Timestamp now, std::optional<std::pair<bool, bool>> nat);
  // A return routability check sent to `checked` was answered.
  void RoutabilityChecked(const Ipv4Endpoint& checked);
  // NAT state from MOBIKE NAT detection: switches UDP encapsulation of the
  // CHILD SAs when a NAT appears or goes (no port change: MOBIKE is on the
  // NAT-T port already, 3.3).
  void ApplyMobikeNatState(bool local_behind_nat, bool remote_behind_nat);
  // Queues an IkeMobike request of `kind` unless one is queued already.
  void QueueMobike(IkeMobike::Kind kind, std::uint32_t nat_retries = 0);
  // Our current UPDATE_SA_ADDRESSES was answered (and not refused): the
  // path is confirmed (event PathConfirmed with the IKE SA's endpoints).
  void ConfirmPath();
  // UNACCEPTABLE_ADDRESSES: back to the last confirmed path if we still
  // have its address, else the IKE SA fails.
  void AddressesRefused();
  // The next request goes over every pair of our and the peer's addresses.
  void SendNextRequestOverAllPaths() { all_paths_next_ = true; }
  // The last NAT_DETECTION_DESTINATION_IP the peer sent us (3.8).
  Bytes& last_natd_destination() { return last_natd_dst_; }

  // IKE SA rekeying (IkeRekey). MakeSuccessor: a new established IKE SA
  // with these SPIs, suite and keys (2.18), ourselves as its original
  // initiator iff `initiator`; it copies the endpoints, NAT state, peer
  // identity and announcements, and is queued for TakeNewSas(). Until
  // HandOver() it is superseded (a candidate). HandOver: `next` inherits
  // the CHILD SAs, virtual IPs and queued tasks; event IkeSaRekeyed; this
  // IKE SA becomes superseded and goes down (kRekeyed) when deleted, or
  // after setup_timeout if the peer never deletes it.
  Result<std::shared_ptr<IkeSa>> MakeSuccessor(Timestamp now, bool initiator,
                                               std::uint64_t spi_i, std::uint64_t spi_r,
                                               const Suite& suite, IkeSaKeys keys);
  void HandOver(Timestamp now, IkeSa& next);
  // RFC 7296 2.25: retry the IKE rekey after a random delay (TEMPORARY_FAILURE),
  // at most lifetimes.temporary_failure_max_retries times, then queues the
  // IKE SA's Delete. For tasks (does not start an exchange itself).
  void ScheduleRekeyRetry(Timestamp now);
  void RekeyDone() { rekey_retries_ = 0; }
  // RFC 7296 2.25: a rekey of the CHILD SA `spi_in` got TEMPORARY_FAILURE:
  // its soft lifetime fires again after a random delay in
  // [temporary_failure_retry_min, max] (its hard lifetime still applies).
  void RetryChildRekeyLater(Timestamp now, std::uint32_t spi_in);

  // ---- For the TaskManager ----
  // Encodes `m` (header complete except SPIs/flags, which this fills),
  // protects it (fragments it when allowed), remembers IKE_SA_INIT bytes,
  // sends it and returns the datagrams' IKE messages for retransmission.
  Result<std::vector<Bytes>> SendMessage(Message& m);
  // Sends a request again to the current endpoints; after
  // mobike.probe_after_retransmits retransmissions of a MOBIKE initiator,
  // over every address pair (3.10).
  void ResendRequest(const std::vector<Bytes>& messages, std::uint32_t retransmits);
  // Sends the cached response again, to where the request came from.
  void ResendResponse(const std::vector<Bytes>& messages);
  // The exchange is done: start the next queued one and re-arm DPD.
  void OnExchangeDone(Timestamp now);
  // Retransmissions gave up.
  void OnRetransmitGiveUp();
  // The response being built ends the IKE SA (a fatal error notify, or
  // the response to the peer's Delete): go down once it is sent.
  void FailAfterResponse(IkeDownReason reason, const std::string& detail);
  void OnResponseSent(Timestamp now);

 private:
  enum class Timer {
    kSetup,
    kDpd,
    kKeepalive,
    kIkeSoft,
    kIkeHard,
    kChildLifetime,
    kRekeyRetry,
    kSuperseded,
    kCount
  };

  IkeSa(PeerConfig config, Ipv4Endpoint local, Ipv4Endpoint remote, RandomSource& rng,
        Logger log, bool initiator, Timestamp now);

  static bool UsesMarker(const Ipv4Endpoint& local, const Ipv4Endpoint& remote,
                         std::uint16_t natt_port);
  void SendRaw(ByteSpan ike_message, const Ipv4Endpoint& local, const Ipv4Endpoint& remote);
  void SendRequestBytes(const std::vector<Bytes>& messages, bool all_paths);
  std::vector<std::pair<Ipv4Endpoint, Ipv4Endpoint>> AllPaths() const;
  // Endpoints, NAT state and MOBIKE paths, to a new IKE SA of a rekey.
  void CopyPathState(IkeSa& to) const;
  // The CHILD SAs take esp_path() (PathChanged when it changed).
  void SyncChildren();
  // Original initiator: the IKE SA moves to local/remote; the CHILD SAs
  // follow; UPDATE_SA_ADDRESSES is queued.
  void MoveTo(Timestamp now, const Ipv4Endpoint& local, const Ipv4Endpoint& remote,
              bool resend_in_flight);
  void HandleMessage(Timestamp now, const Ipv4Endpoint& local, const Ipv4Endpoint& remote,
                     ByteSpan message);
  // Decrypts (or reassembles) a protected message. nullopt when dropped or
  // still incomplete; `notify` gets the suggested answer for requests.
  std::optional<Message> Unprotect(ByteSpan message, const IkeHeader& h,
                                   std::optional<ErrorNotify>* notify);
  void UpdatePath(const Ipv4Endpoint& local, const Ipv4Endpoint& remote);
  void ArmChildLifetimeTimer();
  void ArmDpd(Timestamp now);
  void ArmKeepalive(Timestamp now);
  void HandleTimer(Timer t, Timestamp now);
  void ArmIkeLifetimes(Timestamp now);
  Duration RekeyJitter(Duration soft);
  Duration TemporaryFailureDelay();

  PeerConfig config_;
  RandomSource& rng_;
  Logger log_;
  bool original_initiator_;
  // RFC 4555 1.3: the MOBIKE "initiator" started the first IKE SA of the
  // series of rekeyed ones (not the latest rekey, as in RFC 7296).
  bool mobike_initiator_;
  IkeSaState state_;
  Timestamp now_;
  Timestamp created_;

  std::uint64_t spi_i_ = 0;
  std::uint64_t spi_r_ = 0;
  Ipv4Endpoint local_;
  Ipv4Endpoint remote_;

  Bytes ni_, nr_, init_request_, init_response_, cookie_;
  std::optional<Suite> suite_;
  std::optional<IkeSaKeys> keys_;
  SkCipherPair ciphers_;
  FragmentReassembler request_fragments_;
  FragmentReassembler response_fragments_;
  std::optional<std::vector<SigHashAlg>> peer_sig_hashes_;
  bool peer_fragmentation_ = false;
  bool nat_local_ = false;
  bool nat_remote_ = false;
  std::optional<IdPayload> remote_id_;
  std::optional<Ipv4Address> virtual_ip_;
  std::optional<Ipv4Address> peer_virtual_ip_;
  bool virtual_ip_failed_ = false;

  // MOBIKE (RFC 4555).
  bool mobike_ = false;
  bool peer_natt_ = false;
  std::vector<Ipv4Address> local_addresses_;  // sorted
  std::vector<Ipv4Address> peer_addresses_;   // current one first
  EspPath applied_path_{};                    // what the CHILD SAs use
  std::optional<EspPath> rr_hold_;            // responder: path kept until RR done
  std::vector<Ipv4Endpoint> verified_;        // responder: RR-checked peer endpoints
  std::uint64_t path_generation_ = 0;
  Ipv4Endpoint confirmed_local_{};            // initiator: the last path the peer took
  Ipv4Endpoint confirmed_remote_{};
  bool all_paths_next_ = false;               // the next request goes over all pairs
  bool multi_path_request_ = false;           // the request in flight went over several
  Bytes last_natd_dst_;
  Ipv4Endpoint msg_local_{};
  Ipv4Endpoint msg_remote_{};

  std::optional<IkeSaDown> down_after_response_;
  bool superseded_ = false;
  std::uint32_t rekey_retries_ = 0;
  std::vector<std::shared_ptr<IkeSa>> new_sas_;
  std::vector<ChildSa> children_;
  TimerTable<Timer> timers_;
  Timestamp last_inbound_;
  Timestamp last_outbound_;

  TaskManager tm_;
  std::deque<IkeTransmit> out_;
  std::deque<IkeEvent> events_;
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_SA_IKE_SA_H_
