#include "platform/linux/esp_datapath.h"

#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "common/bug.h"
#include "common/wire/writer.h"
#include "esp/udp_encap.h"
#include "platform/linux/epoll_event_loop.h"
#include "platform/linux/sys_error.h"
#include "platform/linux/tun_device.h"
#include "platform/linux/udp_socket.h"

namespace mipsec::platform {
namespace {

constexpr std::size_t kMaxBatch = 64;  // recvmmsg/sendmmsg chunk of socket_io

std::uint64_t NowNs() { return static_cast<std::uint64_t>(MonotonicNow().nanos()); }

void PinToCpu(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

Status SetSocketBuffer(int fd, int bytes) {
  // The FORCE variants ignore net.core.{w,r}mem_max but need CAP_NET_ADMIN.
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0 &&
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes) != 0) {
    return SysError("setsockopt(SO_SNDBUF, " + std::to_string(bytes) + ")");
  }
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0 &&
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) != 0) {
    return SysError("setsockopt(SO_RCVBUF, " + std::to_string(bytes) + ")");
  }
  return Ok{};
}

Status SetTxQueueLen(const std::string& ifname, int qlen) {
  ScopedFd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return SysError("socket for SIOCSIFTXQLEN");
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, ifname.data(), std::min(ifname.size(), sizeof ifr.ifr_name - 1));
  ifr.ifr_qlen = qlen;
  if (ioctl(s.get(), SIOCSIFTXQLEN, &ifr) != 0) {
    return SysError("SIOCSIFTXQLEN " + ifname + " " + std::to_string(qlen));
  }
  return Ok{};
}

Status CheckSaConfig(const esp::SaConfig& c, esp::Direction want) {
  if (c.direction != want) {
    return Error(Errc::kInvalidArgument, want == esp::Direction::kInbound
                                             ? "SA direction: expected inbound"
                                             : "SA direction: expected outbound");
  }
  if (!c.udp_encap) {
    return Error(Errc::kUnsupported,
                 "SA udp_encap: this data path carries only ESP-in-UDP (RFC 3948)");
  }
  if (want == esp::Direction::kOutbound && c.remote.port == 0) {
    return Error(Errc::kInvalidArgument, "SA remote port: 0");
  }
  return Ok{};
}

EspSaInfo InfoOf(const esp::Sa& sa) {
  EspSaInfo i;
  i.spi = sa.spi();
  i.local = sa.local();
  i.remote = sa.remote();
  i.udp_encap = sa.udp_encap();
  i.counters = sa.counters();
  i.next_sequence = sa.next_sequence();
  i.replay_top = sa.replay_window().top();
  return i;
}

}  // namespace

EspDataPath::EspDataPath(std::unique_ptr<TunDevice> tun, std::unique_ptr<UdpSocket> udp,
                         const EspDataPathOptions& options)
    : tun_(std::move(tun)), udp_(std::move(udp)), options_(options) {}

EspDataPath::~EspDataPath() { Stop(); }

Result<std::unique_ptr<EspDataPath>> EspDataPath::Create(std::unique_ptr<TunDevice> tun,
                                                         std::unique_ptr<UdpSocket> udp,
                                                         const EspDataPathOptions& options) {
  if (!tun || !udp) return Error(Errc::kInvalidArgument, "EspDataPath: no TUN device or socket");
  if (options.batch_size == 0 || options.batch_size > kMaxBatch) {
    return Error(Errc::kInvalidArgument, "batch_size: must be 1.." + std::to_string(kMaxBatch));
  }
  if (options.max_inner_packet < 576 || options.max_inner_packet > 65535) {
    return Error(Errc::kInvalidArgument, "max_inner_packet: must be 576..65535");
  }
  std::unique_ptr<EspDataPath> dp(new EspDataPath(std::move(tun), std::move(udp), options));
  MIPSEC_TRY(dp->Init());
  return dp;
}

Result<std::unique_ptr<EspDataPath>> EspDataPath::OpenLinux(const EspDataPathLinuxConfig& config,
                                                            const EspDataPathOptions& options) {
  MIPSEC_ASSIGN_OR_RETURN(std::unique_ptr<LinuxTunDevice> tun,
                          LinuxTunDevice::Create(config.tun_name, config.tun_gro));
  if (config.tun_txqueuelen > 0) MIPSEC_TRY(SetTxQueueLen(tun->name(), config.tun_txqueuelen));
  UdpOptions uo;
  uo.bind = config.bind;
  uo.segmentation_offload = config.udp_gso;
  MIPSEC_ASSIGN_OR_RETURN(std::unique_ptr<LinuxUdpSocket> udp, LinuxUdpSocket::Open(uo));
  if (config.socket_buffer_bytes > 0) {
    MIPSEC_TRY(SetSocketBuffer(udp->fd(), config.socket_buffer_bytes));
  }
  return Create(std::move(tun), std::move(udp), options);
}

Status EspDataPath::Init() {
  for (Worker* w : {&tx_, &rx_}) {
    w->wake.Reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!w->wake.valid()) return SysError("eventfd");
  }
  // Room for the inner packet plus ESP's head and tail; a received ESP
  // datagram of the largest inner packet (at most 73 bytes of ESP overhead)
  // fits the same buffer.
  const std::size_t n = options_.batch_size;
  stride_ = (esp::kEncapHeadroom + options_.max_inner_packet + esp::kEncapTailroom + 63) & ~63u;
  tx_storage_.assign(n * stride_, 0);
  rx_storage_.assign(n * stride_, 0);
  tx_tun_bufs_.resize(n);
  tx_pkts_.resize(n);
  tx_sas_.resize(n);
  tx_results_.resize(n);
  tx_out_.resize(n);
  rx_dgrams_.resize(n);
  rx_pkts_.resize(n);
  rx_index_.resize(n);
  rx_results_.resize(n);
  rx_tun_bufs_.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    tx_tun_bufs_[i].buffer = MutableByteSpan(tx_storage_.data() + i * stride_, stride_);
    rx_dgrams_[i].buffer = MutableByteSpan(rx_storage_.data() + i * stride_, stride_);
  }
  return Ok{};
}

// --- control: commands executed by the owning worker ---

Status EspDataPath::Execute(Worker& w, std::function<Status()> fn) {
  if (!running_) return fn();
  Command cmd;
  cmd.fn = std::move(fn);
  {
    std::lock_guard<std::mutex> lock(w.mu);
    w.queue.push_back(&cmd);
    w.pending.store(true, std::memory_order_release);
  }
  Wake(w);
  std::unique_lock<std::mutex> lock(w.mu);
  w.cv.wait(lock, [&] { return cmd.done; });
  return std::move(cmd.result);
}

void EspDataPath::ApplyCommands(Worker& w) {
  std::deque<Command*> batch;
  {
    std::lock_guard<std::mutex> lock(w.mu);
    batch.swap(w.queue);
    w.pending.store(false, std::memory_order_relaxed);
  }
  for (Command* c : batch) c->result = c->fn();
  {
    std::lock_guard<std::mutex> lock(w.mu);
    for (Command* c : batch) c->done = true;
  }
  w.cv.notify_all();
}

void EspDataPath::Wake(Worker& w) {
  std::uint64_t one = 1;
  (void)!write(w.wake.get(), &one, sizeof one);
}

Status EspDataPath::AddInboundSa(const esp::SaConfig& config) {
  MIPSEC_TRY(CheckSaConfig(config, esp::Direction::kInbound));
  MIPSEC_ASSIGN_OR_RETURN(esp::Sa sa, esp::Sa::Create(config));
  auto holder = std::make_shared<esp::Sa>(std::move(sa));
  return Execute(rx_, [this, holder]() -> Status { return inbound_.Add(std::move(*holder)); });
}

Status EspDataPath::RemoveInboundSa(std::uint32_t spi) {
  return Execute(rx_, [this, spi]() -> Status {
    if (!inbound_.Remove(spi)) {
      return Error(Errc::kNotFound, "no inbound SA with SPI " + std::to_string(spi));
    }
    return Ok{};
  });
}

Status EspDataPath::SetOutboundSa(std::uint64_t child_id, std::vector<Ipv4Prefix> selectors,
                                  const esp::SaConfig& config) {
  MIPSEC_TRY(CheckSaConfig(config, esp::Direction::kOutbound));
  if (selectors.empty()) {
    return Error(Errc::kInvalidArgument, "outbound SA: no remote traffic selector");
  }
  MIPSEC_ASSIGN_OR_RETURN(esp::Sa sa, esp::Sa::Create(config));
  auto holder =
      std::make_shared<std::unique_ptr<esp::Sa>>(std::make_unique<esp::Sa>(std::move(sa)));
  auto old = std::make_shared<std::unique_ptr<esp::Sa>>();
  auto sels = std::make_shared<std::vector<Ipv4Prefix>>(std::move(selectors));
  Status s = Execute(tx_, [this, child_id, holder, old, sels]() -> Status {
    auto it = std::find_if(outbound_.begin(), outbound_.end(),
                           [&](const OutboundChild& c) { return c.id == child_id; });
    if (it == outbound_.end()) {
      outbound_.push_back(OutboundChild{child_id, std::move(*sels), std::move(*holder)});
    } else {
      *old = std::move(it->sa);  // freed on the control thread, below
      it->sa = std::move(*holder);
      it->selectors = std::move(*sels);
    }
    RebuildRoutes();
    return Ok{};
  });
  return s;
}

Status EspDataPath::RemoveOutboundSa(std::uint64_t child_id) {
  auto old = std::make_shared<std::unique_ptr<esp::Sa>>();
  return Execute(tx_, [this, child_id, old]() -> Status {
    auto it = std::find_if(outbound_.begin(), outbound_.end(),
                           [&](const OutboundChild& c) { return c.id == child_id; });
    if (it == outbound_.end()) {
      return Error(Errc::kNotFound, "no outbound SA for child " + std::to_string(child_id));
    }
    *old = std::move(it->sa);
    outbound_.erase(it);
    RebuildRoutes();
    return Ok{};
  });
}

Status EspDataPath::UpdateOutboundPath(std::uint64_t child_id, Ipv4Endpoint local,
                                       Ipv4Endpoint remote) {
  if (remote.port == 0) return Error(Errc::kInvalidArgument, "outbound path: remote port 0");
  return Execute(tx_, [this, child_id, local, remote]() -> Status {
    for (OutboundChild& c : outbound_) {
      if (c.id == child_id) {
        c.sa->UpdatePath(local, remote, /*udp_encap=*/true);
        return Ok{};
      }
    }
    return Error(Errc::kNotFound, "no outbound SA for child " + std::to_string(child_id));
  });
}

Status EspDataPath::UpdateInboundPath(std::uint32_t spi, Ipv4Endpoint local, Ipv4Endpoint remote) {
  return Execute(rx_, [this, spi, local, remote]() -> Status {
    esp::Sa* sa = inbound_.Find(spi);
    if (sa == nullptr) {
      return Error(Errc::kNotFound, "no inbound SA with SPI " + std::to_string(spi));
    }
    sa->UpdatePath(local, remote, /*udp_encap=*/true);
    return Ok{};
  });
}

Result<EspSaInfo> EspDataPath::OutboundSaInfo(std::uint64_t child_id) {
  EspSaInfo info;
  Status s = Execute(tx_, [this, child_id, &info]() -> Status {
    for (const OutboundChild& c : outbound_) {
      if (c.id == child_id) {
        info = InfoOf(*c.sa);
        return Ok{};
      }
    }
    return Error(Errc::kNotFound, "no outbound SA for child " + std::to_string(child_id));
  });
  if (!s.ok()) return s.error();
  return info;
}

Result<EspSaInfo> EspDataPath::InboundSaInfo(std::uint32_t spi) {
  EspSaInfo info;
  Status s = Execute(rx_, [this, spi, &info]() -> Status {
    const esp::Sa* sa = inbound_.Find(spi);
    if (sa == nullptr) {
      return Error(Errc::kNotFound, "no inbound SA with SPI " + std::to_string(spi));
    }
    info = InfoOf(*sa);
    return Ok{};
  });
  if (!s.ok()) return s.error();
  return info;
}

void EspDataPath::RebuildRoutes() {
  routes_.clear();
  for (OutboundChild& c : outbound_) {
    for (const Ipv4Prefix& p : c.selectors) routes_.push_back(Route{p, c.sa.get()});
  }
  // Longest prefix first; among equals the first installed child wins.
  std::stable_sort(routes_.begin(), routes_.end(), [](const Route& a, const Route& b) {
    return a.prefix.length() > b.prefix.length();
  });
}

esp::Sa* EspDataPath::Lookup(Ipv4Address dst) {
  for (const Route& r : routes_) {
    if (r.prefix.Contains(dst)) return r.sa;
  }
  return nullptr;
}

// --- IKE and keepalives on 4500 ---

Status EspDataPath::SendIke(Ipv4Endpoint remote, Ipv4Address source, ByteSpan ike_message) {
  Bytes payload = esp::WithNonEspMarker(ike_message);
  OutgoingDatagram d;
  d.payload = payload;
  d.remote = remote;
  d.source = source;
  return udp_->Send(d);
}

Status EspDataPath::SendKeepalive(Ipv4Endpoint remote, Ipv4Address source) {
  OutgoingDatagram d;
  d.payload = esp::NatKeepalivePayload();
  d.remote = remote;
  d.source = source;
  return udp_->Send(d);
}

// --- running ---

Status EspDataPath::Start() {
  if (running_) return Error(Errc::kState, "EspDataPath already running");
  stop_.store(false);
  running_ = true;
  tx_.thread = std::thread([this] { TxLoop(); });
  rx_.thread = std::thread([this] { RxLoop(); });
  return Ok{};
}

void EspDataPath::Stop() {
  if (!running_) return;
  stop_.store(true);
  Wake(tx_);
  Wake(rx_);
  tx_.thread.join();
  rx_.thread.join();
  running_ = false;
  // Commands queued after the workers' last look run here.
  ApplyCommands(tx_);
  ApplyCommands(rx_);
}

bool EspDataPath::WaitFor(Worker& w, int fd, short events) {
  pollfd fds[2] = {{fd, events, 0}, {w.wake.get(), POLLIN, 0}};
  int r = poll(fds, 2, -1);
  if (r > 0 && (fds[1].revents & POLLIN) != 0) {
    std::uint64_t v;
    (void)!read(w.wake.get(), &v, sizeof v);
  }
  return !stop_.load(std::memory_order_relaxed);
}

void EspDataPath::TxLoop() {
  PinToCpu(options_.tx_cpu);
  while (!stop_.load(std::memory_order_relaxed)) {
    if (tx_.pending.load(std::memory_order_acquire)) ApplyCommands(tx_);
    if (RunTxOnce() == 0) WaitFor(tx_, tun_->fd(), POLLIN);
  }
}

void EspDataPath::RxLoop() {
  PinToCpu(options_.rx_cpu);
  while (!stop_.load(std::memory_order_relaxed)) {
    if (rx_.pending.load(std::memory_order_acquire)) ApplyCommands(rx_);
    if (RunRxOnce() == 0) WaitFor(rx_, udp_->fd(), POLLIN);
  }
}

void EspDataPath::DrainEvents(esp::Sa& sa) {
  while (std::optional<esp::SaEvent> e = sa.PollEvent()) {
    if (sa_event_handler_) sa_event_handler_(*e);
  }
}

std::size_t EspDataPath::RunTxOnce() {
  const std::size_t batch = options_.batch_size;
  const std::uint64_t t0 = NowNs();
  Result<std::size_t> got =
      tun_->ReadBatch(std::span(tx_tun_bufs_.data(), batch), esp::kEncapHeadroom);
  const std::uint64_t t1 = NowNs();
  txc_.tun_read_ns.Add(t1 - t0);
  if (!got.ok()) {
    txc_.tun_read_errors.Add(1);
    return 0;
  }
  const std::size_t n = *got;
  if (n == 0) return 0;
  txc_.batches.Add(1);
  txc_.tun_packets.Add(n);
  const Timestamp now = Timestamp::FromNanos(static_cast<std::int64_t>(t1));

  // Route: the inner destination (IPv4 header bytes 16..19) picks the SA.
  std::uint64_t tun_bytes = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const PacketBuf& b = tx_tun_bufs_[i];
    tun_bytes += b.length;
    tx_pkts_[i] = esp::PacketBuf{b.buffer, esp::kEncapHeadroom, b.length};
    esp::Sa* sa = nullptr;
    if (b.length >= 20 && (b.buffer[esp::kEncapHeadroom] >> 4) == 4) {
      sa = Lookup(Ipv4Address::FromHostOrder(wire::LoadU32(b.buffer, esp::kEncapHeadroom + 16)));
    }
    tx_sas_[i] = sa;
  }
  txc_.tun_bytes.Add(tun_bytes);

  // Encapsulate runs of packets that share an SA, in order.
  std::size_t no_policy = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i + 1;
    while (j < n && tx_sas_[j] == tx_sas_[i]) ++j;
    if (tx_sas_[i] == nullptr) {
      for (std::size_t k = i; k < j; ++k) {
        tx_results_[k] = esp::PacketResult{esp::Action::kDrop, esp::DropReason::kNone, 0, 0};
      }
      no_policy += j - i;
    } else {
      tx_sas_[i]->EncapsulateBatch(now, std::span(tx_pkts_.data() + i, j - i),
                                   std::span(tx_results_.data() + i, j - i),
                                   esp::OuterForm::kEspOnly);
      if (tx_sas_[i]->has_events()) DrainEvents(*tx_sas_[i]);
    }
    i = j;
  }
  if (no_policy > 0) txc_.no_policy.Add(no_policy);

  std::size_t m = 0;
  std::uint64_t sent_bytes = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const esp::PacketResult& r = tx_results_[i];
    if (r.action != esp::Action::kSend) {
      if (tx_sas_[i] != nullptr) txc_.drops[static_cast<std::size_t>(r.reason)].Add(1);
      continue;
    }
    OutgoingDatagram& d = tx_out_[m++];
    d.payload = tx_pkts_[i].packet();
    d.remote = tx_sas_[i]->remote();
    d.source = tx_sas_[i]->local().address;
    sent_bytes += d.payload.size();
  }
  const std::uint64_t t2 = NowNs();
  txc_.crypto_ns.Add(t2 - t1);
  SendAll(m);
  txc_.sent_bytes.Add(sent_bytes);
  txc_.send_ns.Add(NowNs() - t2);
  return n;
}

void EspDataPath::SendAll(std::size_t count) {
  std::size_t done = 0;
  std::size_t errors = 0;
  while (done < count) {
    Result<std::size_t> s = udp_->SendBatch(std::span(tx_out_.data() + done, count - done));
    if (!s.ok()) {
      ++errors;  // the first of the rest was refused: drop it, go on
      ++done;
      continue;
    }
    done += *s;
    if (done < count) {
      // Socket buffer full: wait for room (back-pressure, no drop).
      txc_.send_waits.Add(1);
      if (!running_) {
        errors += count - done;  // a caller-driven step does not block
        done = count;
      } else if (!WaitFor(tx_, udp_->fd(), POLLOUT)) {
        errors += count - done;  // stopping
        done = count;
      }
    }
  }
  txc_.sent_packets.Add(count - errors);
  if (errors > 0) txc_.send_errors.Add(errors);
}

std::size_t EspDataPath::RunRxOnce() {
  const std::size_t batch = options_.batch_size;
  const std::uint64_t t0 = NowNs();
  for (std::size_t i = 0; i < batch; ++i) {
    rx_dgrams_[i].buffer = MutableByteSpan(rx_storage_.data() + i * stride_, stride_);
  }
  Result<std::size_t> got = udp_->RecvBatch(std::span(rx_dgrams_.data(), batch));
  const std::uint64_t t1 = NowNs();
  rxc_.recv_ns.Add(t1 - t0);
  if (!got.ok()) {
    rxc_.recv_errors.Add(1);
    return 0;
  }
  const std::size_t n = *got;
  if (n == 0) return 0;
  rxc_.batches.Add(1);
  rxc_.datagrams.Add(n);
  const Timestamp now = Timestamp::FromNanos(static_cast<std::int64_t>(t1));

  std::size_t m = 0;
  std::uint64_t bytes = 0;
  std::size_t truncated = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const Datagram& d = rx_dgrams_[i];
    bytes += d.length;
    if (d.truncated) {
      ++truncated;
      continue;
    }
    rx_pkts_[m] = esp::PacketBuf{d.buffer, 0, d.length};
    rx_index_[m] = i;
    ++m;
  }
  rxc_.bytes.Add(bytes);
  if (truncated > 0) rxc_.truncated.Add(truncated);

  inbound_.DecapsulateBatch(now, std::span(rx_pkts_.data(), m), std::span(rx_results_.data(), m),
                            esp::InputForm::kUdp4500);

  std::size_t k = 0;
  std::size_t ike = 0, keepalives = 0;
  for (std::size_t i = 0; i < m; ++i) {
    const esp::PacketResult& r = rx_results_[i];
    esp::PacketBuf& p = rx_pkts_[i];
    switch (r.action) {
      case esp::Action::kDeliver:
        rx_tun_bufs_[k++] = PacketBuf{p.buffer.subspan(p.offset, p.length), p.length};
        break;
      case esp::Action::kToIke: {
        ++ike;
        const Datagram& d = rx_dgrams_[rx_index_[i]];
        if (ike_handler_) ike_handler_(IkeDatagram{ByteSpan(p.packet()), d.remote, d.local});
        break;
      }
      case esp::Action::kKeepalive:
        ++keepalives;
        break;
      default:
        rxc_.drops[static_cast<std::size_t>(r.reason)].Add(1);
        break;
    }
  }
  while (std::optional<esp::SaEvent> e = inbound_.PollEvent()) {
    if (sa_event_handler_) sa_event_handler_(*e);
  }
  if (ike > 0) rxc_.ike.Add(ike);
  if (keepalives > 0) rxc_.keepalives.Add(keepalives);
  const std::uint64_t t2 = NowNs();
  rxc_.crypto_ns.Add(t2 - t1);

  // Write in order; a packet the TUN refuses is dropped and the rest go on.
  std::size_t next = 0, written = 0, errors = 0;
  std::uint64_t written_bytes = 0;
  while (next < k) {
    std::span<const PacketBuf> rest(rx_tun_bufs_.data() + next, k - next);
    Result<std::size_t> w = tun_->WriteBatch(rest, 0);
    if (!w.ok()) {
      ++errors;
      ++next;
      continue;
    }
    if (*w == 0) {
      errors += rest.size();  // the TUN would block: drop the rest
      break;
    }
    for (std::size_t i = 0; i < *w; ++i) written_bytes += rest[i].length;
    written += *w;
    next += *w;
  }
  rxc_.delivered.Add(written);
  rxc_.delivered_bytes.Add(written_bytes);
  if (errors > 0) rxc_.tun_write_errors.Add(errors);
  rxc_.tun_write_ns.Add(NowNs() - t2);
  return n;
}

EspDataPathStats EspDataPath::Stats() const {
  EspDataPathStats s;
  s.tx.batches = txc_.batches.Get();
  s.tx.tun_packets = txc_.tun_packets.Get();
  s.tx.tun_segmented = tun_->SegmentedPackets();
  s.tx.tun_bytes = txc_.tun_bytes.Get();
  s.tx.sent_packets = txc_.sent_packets.Get();
  s.tx.sent_bytes = txc_.sent_bytes.Get();
  s.tx.no_policy = txc_.no_policy.Get();
  s.tx.send_errors = txc_.send_errors.Get();
  s.tx.send_waits = txc_.send_waits.Get();
  s.tx.tun_read_errors = txc_.tun_read_errors.Get();
  s.tx.tun_read_ns = txc_.tun_read_ns.Get();
  s.tx.crypto_ns = txc_.crypto_ns.Get();
  s.tx.send_ns = txc_.send_ns.Get();
  for (std::size_t i = 0; i < esp::kDropReasonCount; ++i) s.tx.drops[i] = txc_.drops[i].Get();
  s.rx.batches = rxc_.batches.Get();
  s.rx.datagrams = rxc_.datagrams.Get();
  s.rx.bytes = rxc_.bytes.Get();
  s.rx.truncated = rxc_.truncated.Get();
  s.rx.delivered = rxc_.delivered.Get();
  s.rx.delivered_bytes = rxc_.delivered_bytes.Get();
  s.rx.tun_write_errors = rxc_.tun_write_errors.Get();
  s.rx.tun_coalesced = tun_->CoalescedPackets();
  s.rx.ike = rxc_.ike.Get();
  s.rx.keepalives = rxc_.keepalives.Get();
  s.rx.recv_errors = rxc_.recv_errors.Get();
  s.rx.recv_ns = rxc_.recv_ns.Get();
  s.rx.crypto_ns = rxc_.crypto_ns.Get();
  s.rx.tun_write_ns = rxc_.tun_write_ns.Get();
  for (std::size_t i = 0; i < esp::kDropReasonCount; ++i) s.rx.drops[i] = rxc_.drops[i].Get();
  return s;
}

}  // namespace mipsec::platform
