// The RFC 2131 DHCP client (section 4.4) as a sans-I/O core: one instance
// per interface. It never touches the interface: it says which datagrams to
// send and reports leases gained and lost; the driver (sim DhcpClientApp,
// later the Linux mobile-node daemon) configures addresses and routes.
//
// States (RFC 2131 figure 5). [INIT] sends a DISCOVER at once and becomes
// kSelecting, unless a start delay or NAK back-off is due: then it waits in
// kInit. INIT-REBOOT sends its REQUEST at once and becomes kRebooting.
//
//   kStopped --Start--> [INIT] --DISCOVER--> kSelecting --first OFFER-->
//     kRequesting --ACK--> kBound --T1--> kRenewing --T2--> kRebinding
//       --lease expiry--> [INIT]
//   kStopped --Start with a remembered, unexpired lease for that network-->
//     kRebooting (INIT-REBOOT's REQUEST sent) --ACK--> kBound
//   NAK in kRequesting/kRebooting/kRenewing/kRebinding --> [INIT]
//   kRequesting / kRebooting with no answer after N attempts --> [INIT]
//   Stop (link down) --> kStopped, remembering the lease for INIT-REBOOT;
//   Release --> DHCPRELEASE to the server, kStopped, lease forgotten.
//
// Choices, where RFC 2131 leaves room:
//   - SELECTING takes the first acceptable OFFER (4.4.1 allows it), so a
//     handover costs one exchange with the fastest server.
//   - No start-up delay by default (4.4.1 SHOULD wait 1..10 s after boot;
//     after a link change the mobile node wants the lease now):
//     `start_delay_max` restores it.
//   - Retransmission (4.1): the first after `initial_timeout` (RFC: 4 s;
//     may be set as low as 10 ms for fast handover), doubling up to
//     `max_timeout` (64 s), each randomised by +-min(jitter, delay/4) drawn
//     from the injected RandomSource (RFC: +-1 s around 4 s). DISCOVER is
//     retransmitted forever; REQUEST in REQUESTING / INIT-REBOOT
//     `request_attempts` / `init_reboot_attempts` times in all, then INIT.
//     In RENEWING and REBINDING the wait is half the time left to T2 /
//     lease expiry, at least `renew_min_retransmit` (4.4.5: 60 s), never
//     past T2 / expiry.
//   - One xid per exchange (a DISCOVER..REQUEST exchange, an INIT-REBOOT,
//     one renewal, one rebinding), reused by its retransmissions (4.1
//     allows it); each is a fresh RandomSource draw.
//   - Lease times count from the first transmission of the REQUEST that
//     the ACK answers (4.4.1 / 4.4.5; the earliest is the safe choice).
//     T1/T2 come from options 58/59 when they satisfy T1 < T2 < lease,
//     otherwise 0.5 and 0.875 of the lease (4.4.5). An infinite lease
//     (0xffffffff) has no timers.
//   - After a NAK the client restarts at once; after consecutive NAKs
//     without a lease in between it waits initial_timeout, 2x, ... (up to
//     max_timeout), so a misconfigured server cannot make it loop at wire
//     speed.
//   - No ARP probe of the offered address, hence no DHCPDECLINE (4.4.1
//     SHOULD probe): the simulator has no link layer and the Linux daemon
//     can add it; DHCPINFORM is not sent.
//   - INIT-REBOOT (4.4.2) uses leases remembered per "network" — an opaque
//     key the driver passes to Start (e.g. an SSID or the gateway's MAC;
//     empty by default, meaning "the last network"). On a different
//     network the server NAKs ("wrong network") and the client falls back
//     to DISCOVER; if nobody answers after `init_reboot_attempts`, it
//     forgets that lease and does the same (a server with no record must
//     stay silent, 4.3.2). The remembered lease is dropped once it expires.
//
// Every received message is checked before it can change anything: op is
// BOOTREPLY, xid is the pending exchange's, htype/hlen/chaddr are ours, the
// type is one this state expects, a server identifier is present (and is
// the chosen/leasing server where that matters), yiaddr is a usable unicast
// address of the offered subnet, an ACK carries a lease time. A message
// failing any check is dropped: OnDatagram returns the Error, the reason is
// counted (ClientCounters::dropped), and no state changes.
//
// Call order (docs/ARCHITECTURE.md): after every input drain PollTransmit(),
// then PollEvent(), then re-arm the timer from NextTimeout().
#ifndef MIPSEC_DHCP_CLIENT_H_
#define MIPSEC_DHCP_CLIENT_H_

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/log.h"
#include "common/random.h"
#include "common/result.h"
#include "common/time.h"
#include "common/timer_table.h"
#include "dhcp/message.h"

namespace mipsec::dhcp {

struct ClientConfig {
  // Hardware type, length and address for chaddr (RFC 2131 2). Required:
  // replies are matched on it.
  std::uint8_t htype = kHtypeEthernet;
  std::uint8_t hlen = 6;
  std::array<std::uint8_t, 16> chaddr{};
  // Option 61; empty: none (the server then keys the binding on chaddr).
  // At least 2 bytes when set (RFC 2132 9.14).
  Bytes client_id;
  // Option 55, sent in DISCOVER and REQUEST (4.4.1: the same list in all).
  Bytes parameter_request_list = {option::kSubnetMask, option::kRouter, option::kDnsServer,
                                  option::kDomainName, option::kLeaseTime,
                                  option::kRenewalTime, option::kRebindingTime};
  // Option 51 in DISCOVER/REQUEST; none: the server's default.
  std::optional<Duration> requested_lease;
  // Set the BROADCAST flag: a client that cannot receive unicast before it
  // has an address (RFC 2131 4.1). Both the simulator and a raw-socket
  // client can, but broadcast replies work on every link.
  bool broadcast_flag = true;

  Duration initial_timeout = Duration::Seconds(4);  // RFC 2131 4.1
  Duration max_timeout = Duration::Seconds(64);
  Duration jitter = Duration::Seconds(1);  // at most delay/4 is applied
  int request_attempts = 4;       // REQUEST transmissions in REQUESTING
  int init_reboot_attempts = 2;   // REQUEST transmissions in INIT-REBOOT
  Duration renew_min_retransmit = Duration::Seconds(60);  // 4.4.5
  // A random wait in [0, start_delay_max] before the first DISCOVER (4.4.1).
  Duration start_delay_max = Duration::Zero();
  bool init_reboot = true;
  std::size_t remembered_networks = 8;

  // kInvalidArgument naming the field.
  Status Validate() const;
};

// What a lease gives the host.
struct Lease {
  Ipv4Address address;
  int prefix_length = 24;  // option 1, or the classful default without it
  Ipv4Address server;      // option 54 of the ACK
  std::optional<Ipv4Address> router;  // first on-link entry of option 3
  std::vector<Ipv4Address> dns_servers;
  std::string domain_name;
  Duration lease_time;     // Duration::Infinite() for an infinite lease
  Timestamp obtained;      // when the answered REQUEST was first sent
  Timestamp renew_at;      // T1 (Infinite for an infinite lease)
  Timestamp rebind_at;     // T2
  Timestamp expires_at;

  Ipv4Prefix Subnet() const;
  bool operator==(const Lease&) const = default;
};

enum class ClientState {
  kStopped,
  kInit,        // waiting before a DISCOVER (start delay, NAK back-off)
  kSelecting,   // DISCOVER sent, waiting for an OFFER
  kRequesting,  // REQUEST (after SELECTING) sent
  kRebooting,   // INIT-REBOOT's REQUEST sent
  kBound,
  kRenewing,
  kRebinding,
};
std::string_view ClientStateName(ClientState s);

// Events for the layer above.
struct BoundEvent {  // a new lease (from SELECTING or INIT-REBOOT)
  Lease lease;
};
struct RenewedEvent {  // the lease was extended (RENEWING / REBINDING)
  Lease lease;
};
enum class LeaseLostReason { kExpired, kNak, kReleased, kStopped };
std::string_view LeaseLostReasonName(LeaseLostReason r);
struct LeaseLostEvent {  // stop using lease.address now
  Lease lease;
  LeaseLostReason reason;
};
struct NakEvent {  // a server refused (any state); the client restarts
  Ipv4Address server;
  std::string message;  // option 56, if any
};
using ClientEvent = std::variant<BoundEvent, RenewedEvent, LeaseLostEvent, NakEvent>;

// A datagram to send from UDP port 68 on this interface.
struct ClientTransmit {
  Ipv4Endpoint destination;  // 255.255.255.255:67, or the server's address:67
  Ipv4Address source;        // 0.0.0.0 until an address is bound (RFC 2131 4.1)
  MessageType type;
  Bytes bytes;
};

enum class ClientDrop {
  kMalformed,       // did not parse
  kNotBootReply,    // op is BOOTREQUEST
  kNotRunning,      // stopped
  kNoTransaction,   // nothing pending (BOUND)
  kWrongXid,
  kWrongChaddr,     // htype, hlen or chaddr not ours
  kUnexpectedType,  // e.g. an OFFER while REQUESTING
  kNoServerId,
  kWrongServer,     // not the chosen (REQUESTING) or leasing (RENEWING) server
  kBadAddress,      // yiaddr unusable, or not the one requested/held
  kBadLease,        // ACK/OFFER without a usable lease time
  kBadOptions,      // e.g. a subnet mask with holes
  kCount,
};
std::string_view ClientDropName(ClientDrop d);

struct ClientCounters {
  std::uint64_t transmitted = 0;      // every message handed out
  std::uint64_t retransmissions = 0;  // of those, repeats
  std::uint64_t accepted = 0;         // replies that passed every check
  std::uint64_t naks = 0;
  std::uint64_t leases = 0;           // Bound events
  std::uint64_t renewals = 0;         // Renewed events
  std::uint64_t expiries = 0;
  std::array<std::uint64_t, static_cast<std::size_t>(ClientDrop::kCount)> dropped{};
  std::uint64_t Dropped(ClientDrop d) const { return dropped[static_cast<std::size_t>(d)]; }
  std::uint64_t TotalDropped() const;
};

class Client {
 public:
  // kInvalidArgument when the config does not validate.
  static Result<std::unique_ptr<Client>> Create(const ClientConfig& config, RandomSource& random,
                                                Logger log);
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // --- Commands ---
  // Link up: start acquiring an address on `network` (see the file comment).
  // While running, this is Stop(now) followed by Start.
  void Start(Timestamp now, std::string_view network = {});
  // Link down: stop, drop queued datagrams, remember a current lease for
  // INIT-REBOOT on the same network, and report it lost (kStopped).
  void Stop(Timestamp now);
  // Gives the lease back: DHCPRELEASE unicast to the server (4.4.6), the
  // lease is reported lost (kReleased) and forgotten; then stopped.
  void Release(Timestamp now);

  // --- Inputs ---
  // A datagram received on UDP port 68 on this interface. On Error it was
  // dropped (reason counted) and nothing changed.
  Status OnDatagram(Timestamp now, const Path& path, ByteSpan bytes);
  void OnTimeout(Timestamp now);

  // --- Outputs ---
  std::optional<ClientTransmit> PollTransmit();
  std::optional<ClientEvent> PollEvent();
  Timestamp NextTimeout() const { return timers_.NextDeadline(); }

  // --- Introspection ---
  ClientState state() const { return state_; }
  // The lease in use (kBound, kRenewing, kRebinding), else nullopt.
  const std::optional<Lease>& lease() const { return lease_; }
  const ClientCounters& counters() const { return counters_; }
  void set_log_level(LogLevel level) { log_.set_min_level(level); }  // a reload
  const ClientConfig& config() const { return config_; }
  std::uint32_t xid() const { return xid_; }
  // The address remembered for INIT-REBOOT on `network`, if any.
  std::optional<Ipv4Address> RememberedAddress(std::string_view network) const;

 private:
  enum class Timer { kStartDelay, kRetransmit, kRenew, kRebind, kExpire, kCount };
  struct Remembered {
    Lease lease;
    std::uint64_t seq = 0;  // for evicting the oldest
  };
  // The server's offer chosen in SELECTING.
  struct Offer {
    Ipv4Address server;
    Ipv4Address address;
  };

  Client(const ClientConfig& config, RandomSource& random, Logger log);

  // INIT: a DISCOVER now, or after `delay`.
  void BeginInit(Timestamp now, Duration delay = Duration::Zero());
  void SendDiscover(Timestamp now);
  void SendRequest(Timestamp now);
  Message BaseRequest(MessageType type) const;
  void Queue(Timestamp now, Message m, Ipv4Endpoint to, Ipv4Address source);
  Duration Backoff(int attempt);
  Duration Randomize(Duration d);
  void ArmRenewRetransmit(Timestamp now, Timestamp limit);
  void NewXid();

  Status Drop(ClientDrop reason, std::string detail);
  Status HandleOffer(Timestamp now, const Message& m);
  Status HandleAck(Timestamp now, const Message& m);
  Status HandleNak(Timestamp now, const Message& m);
  // Builds the lease an OFFER/ACK describes, checking its address, mask and
  // times; the error names the drop reason.
  Result<Lease> LeaseFrom(const Message& m, Timestamp base, ClientDrop* reason) const;
  void Bind(Timestamp now, Lease lease, bool renewed);
  void LoseLease(LeaseLostReason reason);
  void Remember(const Lease& lease);
  void Forget();
  void OnTimer(Timer t, Timestamp now);
  void SetState(ClientState s);

  ClientConfig config_;
  RandomSource& random_;
  Logger log_;
  ClientState state_ = ClientState::kStopped;
  std::string network_;
  TimerTable<Timer> timers_;
  std::uint32_t xid_ = 0;
  Timestamp exchange_started_;  // for 'secs'
  Timestamp request_first_sent_;
  int attempt_ = 0;             // transmissions of the current message
  int consecutive_naks_ = 0;
  std::optional<Offer> offer_;
  std::optional<Lease> lease_;
  std::optional<Lease> rebooting_;  // the remembered lease INIT-REBOOT asks for
  std::map<std::string, Remembered, std::less<>> remembered_;
  std::uint64_t remember_seq_ = 0;
  std::deque<ClientTransmit> transmits_;
  std::deque<ClientEvent> events_;
  ClientCounters counters_;
};

}  // namespace mipsec::dhcp

#endif  // MIPSEC_DHCP_CLIENT_H_
