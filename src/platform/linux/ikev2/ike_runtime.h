// IkeRuntime: the Linux driver of the sans-I/O IKEv2 SA layer
// (ikev2::IkeSaManager) and the userspace ESP data plane (EspDataPath), for
// the gateway (`mipsec gw`) and for a client alike.
//
// Wiring (all on the EventLoop thread unless said otherwise):
//   UDP <ike_port> (500)  -> IkeSaManager::OnDatagram (local endpoint from
//                            IP_PKTINFO);
//   UDP 4500 (owned by EspDataPath): ESP is decrypted by its RX worker; IKE
//                            behind the non-ESP marker reaches the data
//                            path's IKE handler ON THE RX WORKER THREAD, which
//                            only copies it into a mailbox and wakes the loop
//                            (an eventfd); the loop thread re-adds the marker
//                            (the manager expects the whole UDP payload) and
//                            feeds OnDatagram. ESP lifetime events
//                            (set_sa_event_handler, also on a worker) take
//                            the same mailbox.
//   PollTransmit          -> from port 500 on the IKE socket; from the NAT-T
//                            port via EspDataPath::SendIke (the marker is
//                            stripped here and re-added there, RFC 3948 2.2);
//                            keepalives via SendKeepalive (RFC 3948 2.3);
//   PollEvent             -> the data path:
//     ChildSaUp           AddInboundSa (inner sources restricted to the
//                         peer's traffic selectors, RFC 4301 5.2) and
//                         SetOutboundSa(child id, remote TS as prefixes).
//                         Rekeys (rekeyed_spi_in set) keep the old child's
//                         id so the outbound switch is atomic. RFC 7296 2.8:
//                         if we initiated the rekey the new outbound SA is
//                         used at once; if the peer did, we keep sending on
//                         the old SA until the peer deletes it (the peer has
//                         the new inbound SA only once our response arrived)
//                         — strongSwan's order too, so no packet is lost;
//     ChildSaDown         RemoveInboundSa; the outbound SA goes with it
//                         unless a successor takes the child id over;
//     PathChanged         Update{In,Out}boundPath of the IKE SA's children;
//     PathConfirmed       logged only (the children followed PathChanged);
//     IkeSaRekeyed        the children move to the new IKE SA handle;
//     IkeSaDown           whatever is left of that IKE SA is removed;
//     VirtualIpAssigned   the virtual-IP hook (a client puts the address on
//                         its TUN and routes its prefixes into it:
//                         ApplyVirtualIp() below does exactly that);
//   ESP soft expiry       -> IkeSa::RekeyChildSa; hard expiry ->
//                            DeleteChildSa;
//   NextTimeout()         -> one loop timer.
// Every event is also handed to the observer (logging, tests, the daemon).
//
// Only ESP-in-UDP SAs are supported by the data path: a CHILD SA without
// UDP encapsulation is not installed (logged, counted as install_errors).
// Use PeerConfig::force_encapsulation so both ends always encapsulate.
//
// Secrets: keys go from ChildSaInfo into esp::SaConfig (SecretBytes) and are
// never logged; logs carry SPIs, addresses, suites and selectors only.
//
// Threading: one loop thread drives everything; the mailbox is the only
// state shared with the data path's workers.
#ifndef MIPSEC_PLATFORM_LINUX_IKEV2_IKE_RUNTIME_H_
#define MIPSEC_PLATFORM_LINUX_IKEV2_IKE_RUNTIME_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/log.h"
#include "common/random.h"
#include "common/result.h"
#include "common/time.h"
#include "esp/sa.h"
#include "ikev2/child/esp_install.h"
#include "ikev2/sa/config.h"
#include "ikev2/sa/ike_sa_manager.h"
#include "ikev2/sa/io.h"
#include "platform/event_loop.h"
#include "platform/linux/esp_datapath.h"
#include "platform/linux/fd.h"
#include "platform/netlink.h"
#include "platform/udp.h"

namespace mipsec::ikev2d {

// ---- Pure helpers (unit-tested) ----

// RangeToPrefixes, SelectorsToPrefixes and MakeEspSaConfig come from
// ikev2/child/esp_install.h (shared with the simulator's IkeApp).
using ikev2::MakeEspSaConfig;
using ikev2::RangeToPrefixes;
using ikev2::SelectorsToPrefixes;

// Client side of VirtualIpAssigned: adds `vip`/32 to the TUN `ifindex`
// and a route for each of `prefixes` into it, with `vip` as preferred
// source (replacing existing routes of the same destination). The caller
// undoes it with RemoveVirtualIp (or by deleting the TUN).
Status ApplyVirtualIp(platform::Netlink& netlink, int ifindex, Ipv4Address vip,
                      const std::vector<Ipv4Prefix>& prefixes);
Status RemoveVirtualIp(platform::Netlink& netlink, int ifindex, Ipv4Address vip,
                       const std::vector<Ipv4Prefix>& prefixes);

// The data path of a gateway or a client: EspDataPath::OpenLinux with UDP
// (NAT-T) bound to `bind`, the TUN `tun_name` set to `mtu` and up, and
// rp_filter off on it (decrypted packets come out with sources that are
// routed elsewhere: a TIA at the gateway, intranet hosts at a client).
// Errors name the step.
Result<std::unique_ptr<platform::EspDataPath>> OpenTunnelDataPath(platform::Netlink& netlink,
                                                                  const std::string& tun_name,
                                                                  Ipv4Endpoint bind,
                                                                  std::uint32_t mtu);

// ---- The runtime ----

struct IkeRuntimeOptions {
  // Datagrams per recvmmsg on the IKE socket.
  std::size_t ike_batch = 16;
  // Start the data path's worker threads (production). false: the loop
  // thread drives the data path itself with RunRxOnce/RunTxOnce when its
  // UDP socket or TUN is readable (tests over in-memory fakes).
  bool datapath_workers = true;
  // IKE messages queued from the RX worker beyond this are dropped.
  std::size_t mailbox_limit = 4096;
};

struct IkeRuntimeCounters {
  std::uint64_t ike_in = 0;           // datagrams fed to the manager (both ports)
  std::uint64_t ike_in_natt = 0;      //   of which from port 4500
  std::uint64_t ike_out = 0;          // IKE datagrams sent
  std::uint64_t keepalives_out = 0;
  std::uint64_t send_errors = 0;
  std::uint64_t mailbox_drops = 0;    // IKE datagrams lost: mailbox full
  std::uint64_t children_up = 0;      // ChildSaUp installed
  std::uint64_t children_down = 0;
  std::uint64_t rekeys_installed = 0; // ChildSaUp that replaced a child
  std::uint64_t install_errors = 0;   // data path refused an SA
  std::uint64_t ike_up = 0;
  std::uint64_t ike_down = 0;
  std::uint64_t esp_soft_expiries = 0;
  std::uint64_t esp_hard_expiries = 0;
};

class IkeRuntime {
 public:
  using EventObserver = std::function<void(std::uint64_t sa_id, const ikev2::IkeEvent&)>;
  using VirtualIpHook =
      std::function<void(std::uint64_t sa_id, const ikev2::VirtualIpAssigned&)>;

  // `ike_socket`: bound to the IKE port (500); `datapath`: owns UDP 4500 and
  // the TUN (its handlers are set here: do not set them elsewhere). `loop`
  // and `rng` must outlive the runtime. Registers its fds and timer on
  // `loop` and starts the data path (options.datapath_workers).
  static Result<std::unique_ptr<IkeRuntime>> Create(
      platform::EventLoop& loop, std::unique_ptr<platform::UdpSocket> ike_socket,
      std::unique_ptr<platform::EspDataPath> datapath, ikev2::IkeSaManagerConfig config,
      RandomSource& rng, Logger log, IkeRuntimeOptions options = {});
  // The runtime's own log level (a reload's log_level; the IKE SAs keep the
  // level they were created with).
  void set_log_level(LogLevel level) { log_.set_min_level(level); }
  // Stops the data path, unregisters from the loop.
  ~IkeRuntime();
  IkeRuntime(const IkeRuntime&) = delete;
  IkeRuntime& operator=(const IkeRuntime&) = delete;

  void set_event_observer(EventObserver o) { observer_ = std::move(o); }
  void set_virtual_ip_hook(VirtualIpHook h) { vip_hook_ = std::move(h); }

  // A new IKE SA as initiator (a client); its output is sent at once.
  Result<std::uint64_t> Initiate(ikev2::PeerConfig config, Ipv4Endpoint local,
                                 Ipv4Endpoint remote);
  // INFORMATIONAL Delete of every IKE SA (shutdown); keep running the loop
  // until size() is 0 (or a deadline) for the deletes to be answered.
  void DeleteAll();
  // Drops every IKE SA at once, without a message, and every SA from the
  // data path.
  void TerminateAll();
  std::size_t size() const { return manager_->size(); }

  // Feeds the manager's pending output and events now (after a command on
  // an IkeSa from manager().Find()) and re-arms the timer.
  void Flush();

  ikev2::IkeSaManager& manager() { return *manager_; }
  platform::EspDataPath& datapath() { return *datapath_; }
  platform::UdpSocket& ike_socket() { return *ike_socket_; }
  const IkeRuntimeCounters& counters() const { return counters_; }
  // CHILD SAs installed in the data path right now (inbound SAs).
  std::size_t installed_children() const { return children_.size(); }
  // "ike_in 4 ike_out 4 ... | esp tx ... rx ..."
  std::string CountersLine() const;

  // For queries (the control socket): the IKE SA handles seen in events
  // (established or being set up by us), ascending.
  const std::set<std::uint64_t>& ike_sa_ids() const { return known_sas_; }
  // The data path's counters of the CHILD SA whose inbound SPI is `spi_in`:
  // inbound, and outbound while its outbound SA is the one in use (a
  // responder's rekeyed successor waits for the Delete). Synchronous with
  // the workers (EspDataPath::InboundSaInfo).
  struct ChildTraffic {
    std::optional<esp::SaCounters> in;
    std::optional<esp::SaCounters> out;
  };
  ChildTraffic ChildSaTraffic(std::uint32_t spi_in);

 private:
  struct Child {
    std::uint64_t sa_id = 0;
    std::uint64_t child_id = 0;  // the data path's outbound child id
    std::uint32_t spi_out = 0;
    std::uint64_t seq = 0;       // install order
    bool outbound_active = false;
    bool ever_active = false;
    std::vector<Ipv4Prefix> remote_prefixes;
    esp::SaConfig out_cfg;       // kept to switch over later (responder rekey)
  };
  struct Pending {
    Bytes message;  // IKE message (no marker)
    Ipv4Endpoint local;
    Ipv4Endpoint remote;
  };

  IkeRuntime(platform::EventLoop& loop, std::unique_ptr<platform::UdpSocket> ike_socket,
             std::unique_ptr<platform::EspDataPath> datapath, RandomSource& rng, Logger log,
             IkeRuntimeOptions options);
  Status Init(ikev2::IkeSaManagerConfig config);

  void OnIkeSocketReadable();
  void OnMailbox();
  void Drain(Timestamp now);
  void Send(const ikev2::IkeTransmit& t);
  void HandleEvent(Timestamp now, std::uint64_t sa_id, const ikev2::IkeEvent& e);
  void OnChildUp(std::uint64_t sa_id, const ikev2::ChildSaUp& up);
  void OnChildDown(std::uint32_t spi_in);
  void OnSaEvent(Timestamp now, const esp::SaEvent& ev);
  void ActivateOutbound(std::uint32_t spi_in, Child& c);

  platform::EventLoop& loop_;
  std::unique_ptr<platform::UdpSocket> ike_socket_;
  std::unique_ptr<platform::EspDataPath> datapath_;
  RandomSource& rng_;
  Logger log_;
  IkeRuntimeOptions options_;
  std::unique_ptr<ikev2::IkeSaManager> manager_;

  EventObserver observer_;
  VirtualIpHook vip_hook_;

  platform::EventLoop::TimerId timer_ = platform::EventLoop::kNoTimer;
  std::vector<int> registered_fds_;
  platform::ScopedFd mailbox_fd_;  // eventfd
  std::mutex mailbox_mu_;
  std::deque<Pending> mailbox_ike_;
  std::deque<esp::SaEvent> mailbox_esp_;
  std::uint64_t mailbox_drops_ = 0;  // guarded by mailbox_mu_

  std::vector<std::uint8_t> rx_storage_;
  std::vector<platform::Datagram> rx_;

  std::map<std::uint32_t, Child> children_;  // by spi_in
  // IKE SA handles seen in events (responder IKE SAs that never reported an
  // event are only half-open: TerminateAll/DeleteAll do not need them).
  std::set<std::uint64_t> known_sas_;
  std::uint64_t next_child_id_ = 1;
  std::uint64_t next_seq_ = 1;
  IkeRuntimeCounters counters_;
};

}  // namespace mipsec::ikev2d

#endif  // MIPSEC_PLATFORM_LINUX_IKEV2_IKE_RUNTIME_H_
