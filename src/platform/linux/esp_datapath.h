// EspDataPath: the userspace ESP data plane runtime (RFC 4303 tunnel mode,
// ESP-in-UDP per RFC 3948) between a TUN device (the inner side) and a UDP
// socket bound to port 4500 (the outer side), built on the sans-I/O esp::Sa
// and esp::SaTable.
//
//   outbound (TX worker): TUN batch read into buffers with kEncapHeadroom ->
//     route each packet by its inner destination to an outbound SA (the
//     remote traffic selectors, longest prefix wins) -> EncapsulateBatch in
//     place -> sendmmsg to the SA's remote endpoint from its local address.
//   inbound (RX worker): recvmmsg batch -> SaTable::DecapsulateBatch
//     (InputForm::kUdp4500) -> TUN batch write of the inner packets; IKE
//     messages behind the non-ESP marker go to the IKE handler, NAT
//     keepalives are counted (RFC 3948 2.2, 2.3).
//
// Threading. Start() runs one worker thread per direction, so encryption and
// decryption use both cores; each blocks in poll() when its input is empty
// and sleeps on POLLOUT when the socket buffer is full (back-pressure rather
// than drops). An esp::Sa is not thread-safe: outbound SAs are touched only
// by the TX worker, inbound SAs (the SaTable) only by the RX worker.
//   SA changes (install, rekey, removal, MOBIKE path updates, counter reads)
//   are called from a control thread: each is queued to the worker that owns
//   the SA, which applies it between two batches, and the call returns once
//   it is applied (synchronous; typically well under a millisecond while
//   traffic flows). The hot path pays one relaxed atomic load per batch for
//   this. Only one control thread may call these at a time.
//   Key set-up (Sa::Create: cipher contexts, allocations) happens on the
//   calling control thread; the worker only moves pointers.
//   Before Start() and after Stop() the control calls apply directly, and
//   RunTxOnce()/RunRxOnce() process one batch on the calling thread (tests
//   over the in-memory fakes, or a caller that runs its own loop).
//
// Rekey without loss (RFC 7296 2.8): AddInboundSa(new) first, then
// SetOutboundSa(same child id, new SA) switches the outbound direction
// atomically between two batches (every packet uses exactly one of the two
// SAs), then RemoveInboundSa(old) once the peer has switched too.
// MOBIKE (RFC 4555): UpdateOutboundPath/UpdateInboundPath change the outer
// addresses in place; keys, sequence numbers and replay windows are kept.
//
// Hot path: no allocation. Buffers (batch_size per direction, each
// kEncapHeadroom + max_inner_packet + kEncapTailroom, rounded up) are made at
// construction; the inner packet is read into a buffer behind the headroom
// and encrypted in place, and decrypted in place in the receive buffer.
//
// Only ESP-in-UDP SAs are supported (udp_encap = true; raw IP protocol 50
// would need a raw socket beside the UDP one).
#ifndef MIPSEC_PLATFORM_LINUX_ESP_DATAPATH_H_
#define MIPSEC_PLATFORM_LINUX_ESP_DATAPATH_H_

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/result.h"
#include "common/time.h"
#include "esp/sa.h"
#include "esp/sa_table.h"
#include "platform/datagram.h"
#include "platform/linux/fd.h"
#include "platform/tun.h"
#include "platform/udp.h"

namespace mipsec::platform {

struct EspDataPathOptions {
  // Packets per TUN read batch and per recvmmsg (1..64).
  std::size_t batch_size = 64;
  // The largest inner packet (>= the TUN MTU): sizes the buffers. A TUN
  // packet longer than this is truncated by the kernel and then refused by
  // the SA (kBadInner); a received datagram that does not fit is dropped
  // (counted as `truncated`).
  std::size_t max_inner_packet = 1500;
  // Pin the TX / RX worker to this CPU (sched affinity); -1: no pinning.
  int tx_cpu = -1;
  int rx_cpu = -1;
};

// Set-up of the Linux devices for OpenLinux().
struct EspDataPathLinuxConfig {
  std::string tun_name;  // "" : the kernel picks tunN
  Ipv4Endpoint bind{Ipv4Address::Any(), 4500};
  // SO_SNDBUF/SO_RCVBUF of the UDP socket (the *FORCE variants when
  // permitted, so root may exceed net.core.{w,r}mem_max); 0: leave them.
  int socket_buffer_bytes = 4 << 20;
  // The TUN's transmit queue (packets the host queued for us to read); 0:
  // leave the kernel default (500).
  int tun_txqueuelen = 2000;
  // UDP GSO for the ESP-in-UDP datagrams of one TX batch (UdpOptions::
  // segmentation_offload): a TCP burst read from the TUN becomes equal-size
  // ESP datagrams to one peer, which then cross the stack as one packet.
  bool udp_gso = true;
  // TCP receive coalescing on the TUN (LinuxTunDevice gro): the decrypted
  // segments of a bulk transfer reach the host stack as one packet per run.
  bool tun_gro = true;
};

// An IKE message that arrived on UDP 4500 behind the non-ESP marker.
// `message` (starting at the IKE header) is valid only during the call.
struct IkeDatagram {
  ByteSpan message;
  Ipv4Endpoint remote;  // sender
  Ipv4Endpoint local;   // destination address (IP_PKTINFO) and our port
};

// Counters of the TX worker (TUN -> UDP). Timing counters are CLOCK_MONOTONIC
// nanoseconds spent in each stage (for profiling; read per batch).
struct EspTxStats {
  std::uint64_t batches = 0;
  std::uint64_t tun_packets = 0;  // read from the TUN
  std::uint64_t tun_segmented = 0;  // of which cut from TCP super-packets (TUN TSO)
  std::uint64_t tun_bytes = 0;
  std::uint64_t sent_packets = 0;  // ESP datagrams handed to the socket
  std::uint64_t sent_bytes = 0;    // their UDP payload bytes
  std::uint64_t no_policy = 0;     // no outbound SA for the inner destination
  std::uint64_t send_errors = 0;   // datagrams the socket refused (dropped)
  std::uint64_t send_waits = 0;    // times the socket buffer was full (POLLOUT wait)
  std::uint64_t tun_read_errors = 0;
  std::array<std::uint64_t, esp::kDropReasonCount> drops{};  // by esp::DropReason
  std::uint64_t tun_read_ns = 0;
  std::uint64_t crypto_ns = 0;
  std::uint64_t send_ns = 0;

  std::uint64_t dropped(esp::DropReason r) const { return drops[static_cast<std::size_t>(r)]; }
};

// Counters of the RX worker (UDP -> TUN).
struct EspRxStats {
  std::uint64_t batches = 0;
  std::uint64_t datagrams = 0;  // received on the UDP socket
  std::uint64_t bytes = 0;
  std::uint64_t truncated = 0;  // larger than a buffer: dropped
  std::uint64_t delivered = 0;  // inner packets written to the TUN
  std::uint64_t delivered_bytes = 0;
  std::uint64_t tun_write_errors = 0;  // refused or not written by the TUN
  std::uint64_t tun_coalesced = 0;     // delivered as part of a merged TCP run (TUN GRO)
  std::uint64_t ike = 0;               // IKE messages handed to the handler
  std::uint64_t keepalives = 0;        // NAT keepalives (RFC 3948 2.3)
  std::uint64_t recv_errors = 0;
  std::array<std::uint64_t, esp::kDropReasonCount> drops{};  // by esp::DropReason
  std::uint64_t recv_ns = 0;
  std::uint64_t crypto_ns = 0;
  std::uint64_t tun_write_ns = 0;

  std::uint64_t dropped(esp::DropReason r) const { return drops[static_cast<std::size_t>(r)]; }
};

struct EspDataPathStats {
  EspTxStats tx;
  EspRxStats rx;
};

// What the control thread can read about one SA (copied by its worker).
struct EspSaInfo {
  std::uint32_t spi = 0;
  Ipv4Endpoint local;
  Ipv4Endpoint remote;
  bool udp_encap = false;
  esp::SaCounters counters;
  std::uint64_t next_sequence = 0;  // outbound
  std::uint64_t replay_top = 0;     // inbound: highest authenticated sequence number
};

class EspDataPath {
 public:
  // Called on the RX worker thread (or the RunRxOnce caller): keep it short
  // and thread-safe (copy the message and post it to the IKE loop).
  using IkeHandler = std::function<void(const IkeDatagram&)>;
  // Lifetime events of SAs (soft: rekey; hard: the SA now drops), called on
  // the worker that owns the SA. Same rules as IkeHandler.
  using SaEventHandler = std::function<void(const esp::SaEvent&)>;

  // Over any TunDevice and UdpSocket (the UDP socket should be bound to
  // port 4500). kInvalidArgument for a bad option.
  static Result<std::unique_ptr<EspDataPath>> Create(std::unique_ptr<TunDevice> tun,
                                                     std::unique_ptr<UdpSocket> udp,
                                                     const EspDataPathOptions& options = {});
  // Creates a LinuxTunDevice (not configured: set MTU, address and routes
  // with Netlink) and a LinuxUdpSocket bound to config.bind, with the
  // socket buffer and TUN queue settings applied. Needs CAP_NET_ADMIN.
  static Result<std::unique_ptr<EspDataPath>> OpenLinux(const EspDataPathLinuxConfig& config,
                                                        const EspDataPathOptions& options = {});

  ~EspDataPath();  // Stop()s
  EspDataPath(const EspDataPath&) = delete;
  EspDataPath& operator=(const EspDataPath&) = delete;

  TunDevice& tun() { return *tun_; }
  UdpSocket& udp() { return *udp_; }
  const EspDataPathOptions& options() const { return options_; }

  // Handlers: set before Start() (not while workers run).
  void set_ike_handler(IkeHandler h) { ike_handler_ = std::move(h); }
  void set_sa_event_handler(SaEventHandler h) { sa_event_handler_ = std::move(h); }

  // --- SAs (control thread; synchronous, see the file comment) ---
  // An inbound SA (config.direction kInbound, udp_encap true). Errors: from
  // Sa::Create, kAlreadyExists for a known SPI, kUnsupported without UDP
  // encapsulation.
  Status AddInboundSa(const esp::SaConfig& config);
  // kNotFound if absent.
  Status RemoveInboundSa(std::uint32_t spi);
  // Installs, or atomically replaces (rekey), the outbound SA of CHILD_SA
  // `child_id` (the caller's name for it), carrying inner packets whose
  // destination is inside one of `remote_selectors`. The longest matching
  // prefix over all children wins. config.direction kOutbound, udp_encap
  // true, remote port not 0.
  Status SetOutboundSa(std::uint64_t child_id, std::vector<Ipv4Prefix> remote_selectors,
                       const esp::SaConfig& config);
  Status RemoveOutboundSa(std::uint64_t child_id);  // kNotFound if absent
  // MOBIKE: new outer addresses in place (Sa::UpdatePath). kNotFound if absent.
  Status UpdateOutboundPath(std::uint64_t child_id, Ipv4Endpoint local, Ipv4Endpoint remote);
  Status UpdateInboundPath(std::uint32_t spi, Ipv4Endpoint local, Ipv4Endpoint remote);
  Result<EspSaInfo> OutboundSaInfo(std::uint64_t child_id);
  Result<EspSaInfo> InboundSaInfo(std::uint32_t spi);

  // --- IKE on port 4500 (any thread; the socket is shared) ---
  // Sends `ike_message` behind the non-ESP marker (RFC 3948 2.2) from
  // `source` (Any(): routing decides).
  Status SendIke(Ipv4Endpoint remote, Ipv4Address source, ByteSpan ike_message);
  // A NAT keepalive, one byte 0xFF (RFC 3948 2.3).
  Status SendKeepalive(Ipv4Endpoint remote, Ipv4Address source);

  // --- running ---
  // Starts the two workers. kState if running.
  Status Start();
  // Stops and joins the workers (idempotent).
  void Stop();
  bool running() const { return running_; }
  // Without workers (BUG if running): one batch on the calling thread.
  // Returns how many packets were read from the TUN / the socket.
  std::size_t RunTxOnce();
  std::size_t RunRxOnce();

  // A snapshot of the counters; any thread.
  EspDataPathStats Stats() const;

 private:
  // A counter written by one worker, read by anyone.
  class Counter {
   public:
    void Add(std::uint64_t n) {
      v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    std::uint64_t Get() const { return v_.load(std::memory_order_relaxed); }

   private:
    std::atomic<std::uint64_t> v_{0};
  };
  struct TxCounters {
    Counter batches, tun_packets, tun_bytes, sent_packets, sent_bytes, no_policy, send_errors,
        send_waits, tun_read_errors, tun_read_ns, crypto_ns, send_ns;
    std::array<Counter, esp::kDropReasonCount> drops;
  };
  struct RxCounters {
    Counter batches, datagrams, bytes, truncated, delivered, delivered_bytes, tun_write_errors, ike,
        keepalives, recv_errors, recv_ns, crypto_ns, tun_write_ns;
    std::array<Counter, esp::kDropReasonCount> drops;
  };

  // A command queue to one worker (see the file comment).
  struct Command {
    std::function<Status()> fn;
    Status result = Ok{};
    bool done = false;
  };
  struct Worker {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Command*> queue;
    std::atomic<bool> pending{false};
    ScopedFd wake;  // eventfd: wakes the worker from poll()
    std::thread thread;
  };

  struct OutboundChild {
    std::uint64_t id;
    std::vector<Ipv4Prefix> selectors;
    std::unique_ptr<esp::Sa> sa;
  };
  struct Route {
    Ipv4Prefix prefix;
    esp::Sa* sa;
  };

  EspDataPath(std::unique_ptr<TunDevice> tun, std::unique_ptr<UdpSocket> udp,
              const EspDataPathOptions& options);
  Status Init();
  Status Execute(Worker& w, std::function<Status()> fn);
  void ApplyCommands(Worker& w);
  void Wake(Worker& w);
  void TxLoop();
  void RxLoop();
  // Waits until `fd` has `events` or the worker is woken; false on stop.
  bool WaitFor(Worker& w, int fd, short events);
  void RebuildRoutes();
  esp::Sa* Lookup(Ipv4Address dst);
  void SendAll(std::size_t count);
  void DrainEvents(esp::Sa& sa);

  std::unique_ptr<TunDevice> tun_;
  std::unique_ptr<UdpSocket> udp_;
  EspDataPathOptions options_;
  std::size_t stride_ = 0;
  IkeHandler ike_handler_;
  SaEventHandler sa_event_handler_;

  Worker tx_;
  Worker rx_;
  std::atomic<bool> stop_{false};
  bool running_ = false;

  // TX worker state.
  std::vector<OutboundChild> outbound_;
  std::vector<Route> routes_;  // longest prefix first
  std::vector<std::uint8_t> tx_storage_;
  std::vector<PacketBuf> tx_tun_bufs_;
  std::vector<esp::PacketBuf> tx_pkts_;
  std::vector<esp::Sa*> tx_sas_;
  std::vector<esp::PacketResult> tx_results_;
  std::vector<OutgoingDatagram> tx_out_;
  TxCounters txc_;

  // RX worker state.
  esp::SaTable inbound_;
  std::vector<std::uint8_t> rx_storage_;
  std::vector<Datagram> rx_dgrams_;
  std::vector<esp::PacketBuf> rx_pkts_;
  std::vector<std::size_t> rx_index_;  // rx_pkts_[i] came from rx_dgrams_[rx_index_[i]]
  std::vector<esp::PacketResult> rx_results_;
  std::vector<PacketBuf> rx_tun_bufs_;
  RxCounters rxc_;
};

}  // namespace mipsec::platform

#endif  // MIPSEC_PLATFORM_LINUX_ESP_DATAPATH_H_
