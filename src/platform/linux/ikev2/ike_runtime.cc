#include "platform/linux/ikev2/ike_runtime.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>
#include <variant>

#include "ikev2/sa/io_names.h"

namespace mipsec::ikev2d {
namespace {

constexpr std::size_t kIkeBufferSize = 65536;
constexpr std::size_t kNonEspMarkerSize = 4;  // RFC 3948 2.2

std::string Hex32(std::uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof(b), "%08x", v);
  return b;
}

std::string PrefixList(const std::vector<Ipv4Prefix>& p) {
  std::string s;
  for (const auto& x : p) s += (s.empty() ? "" : ",") + x.ToString();
  return s.empty() ? "-" : s;
}

}  // namespace

// ---- Pure helpers ----

Status ApplyVirtualIp(platform::Netlink& netlink, int ifindex, Ipv4Address vip,
                      const std::vector<Ipv4Prefix>& prefixes) {
  platform::InterfaceAddress a;
  a.address = vip;
  a.prefix_length = 32;
  Status st = netlink.AddAddress(ifindex, a);
  if (!st.ok() && st.error().code() != Errc::kAlreadyExists) {
    return Error(st.error().code(), "virtual IP " + vip.ToString() + ": " + st.error().detail());
  }
  for (const Ipv4Prefix& p : prefixes) {
    platform::Route r;
    r.destination = p;
    r.oif = ifindex;
    r.preferred_source = vip;
    MIPSEC_TRY(netlink.ReplaceRoute(r));
  }
  return Ok{};
}

Status RemoveVirtualIp(platform::Netlink& netlink, int ifindex, Ipv4Address vip,
                       const std::vector<Ipv4Prefix>& prefixes) {
  Status first = Ok{};
  for (const Ipv4Prefix& p : prefixes) {
    platform::Route r;
    r.destination = p;
    r.oif = ifindex;
    r.preferred_source = vip;
    Status st = netlink.DeleteRoute(r);
    if (!st.ok() && first.ok()) first = st;
  }
  platform::InterfaceAddress a;
  a.address = vip;
  a.prefix_length = 32;
  Status st = netlink.DeleteAddress(ifindex, a);
  if (!st.ok() && first.ok()) first = st;
  return first;
}

Result<std::unique_ptr<platform::EspDataPath>> OpenTunnelDataPath(platform::Netlink& netlink,
                                                                  const std::string& tun_name,
                                                                  Ipv4Endpoint bind,
                                                                  std::uint32_t mtu) {
  platform::EspDataPathLinuxConfig dc;
  dc.tun_name = tun_name;
  dc.bind = bind;
  platform::EspDataPathOptions dopt;
  dopt.max_inner_packet = std::max<std::size_t>(1500, mtu);
  auto dp = platform::EspDataPath::OpenLinux(dc, dopt);
  if (!dp.ok()) return Error(dp.error().code(), "esp data path: " + dp.error().detail());
  const int ifindex = (*dp)->tun().ifindex();
  MIPSEC_TRY(netlink.SetMtu(ifindex, mtu));
  MIPSEC_TRY(netlink.SetLinkUp(ifindex, true));
  std::ofstream f("/proc/sys/net/ipv4/conf/" + (*dp)->tun().name() + "/rp_filter");
  f << "0\n";
  if (!f) return Error(Errc::kSystem, "rp_filter 0 on " + (*dp)->tun().name() + ": write failed");
  return std::move(*dp);
}

// ---- IkeRuntime ----

IkeRuntime::IkeRuntime(platform::EventLoop& loop, std::unique_ptr<platform::UdpSocket> ike_socket,
                       std::unique_ptr<platform::EspDataPath> datapath, RandomSource& rng,
                       Logger log, IkeRuntimeOptions options)
    : loop_(loop),
      ike_socket_(std::move(ike_socket)),
      datapath_(std::move(datapath)),
      rng_(rng),
      log_(std::move(log)),
      options_(options) {}

Result<std::unique_ptr<IkeRuntime>> IkeRuntime::Create(
    platform::EventLoop& loop, std::unique_ptr<platform::UdpSocket> ike_socket,
    std::unique_ptr<platform::EspDataPath> datapath, ikev2::IkeSaManagerConfig config,
    RandomSource& rng, Logger log, IkeRuntimeOptions options) {
  if (!ike_socket || !datapath) {
    return Error(Errc::kInvalidArgument, "ike runtime: an IKE socket and a data path are needed");
  }
  if (options.ike_batch == 0) options.ike_batch = 1;
  std::unique_ptr<IkeRuntime> rt(new IkeRuntime(loop, std::move(ike_socket), std::move(datapath),
                                                rng, std::move(log), options));
  MIPSEC_TRY(rt->Init(std::move(config)));
  return rt;
}

Status IkeRuntime::Init(ikev2::IkeSaManagerConfig config) {
  manager_ = std::make_unique<ikev2::IkeSaManager>(std::move(config), rng_, log_.Child("sa"));

  int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) return Error(Errc::kSystem, std::string("eventfd: ") + std::strerror(errno));
  mailbox_fd_ = platform::ScopedFd(efd);

  rx_storage_.resize(options_.ike_batch * kIkeBufferSize);
  rx_.resize(options_.ike_batch);
  for (std::size_t i = 0; i < rx_.size(); ++i) {
    rx_[i].buffer = MutableByteSpan(
        rx_storage_.data() + i * kIkeBufferSize, kIkeBufferSize);
  }

  // Both handlers run on the data path's RX worker (or the caller of
  // RunRxOnce): copy and wake the loop, nothing else.
  datapath_->set_ike_handler([this](const platform::IkeDatagram& d) {
    {
      std::lock_guard<std::mutex> lock(mailbox_mu_);
      if (mailbox_ike_.size() >= options_.mailbox_limit) {
        ++mailbox_drops_;
        return;
      }
      mailbox_ike_.push_back(Pending{Bytes(d.message.begin(), d.message.end()), d.local, d.remote});
    }
    std::uint64_t one = 1;
    (void)!write(mailbox_fd_.get(), &one, sizeof(one));
  });
  datapath_->set_sa_event_handler([this](const esp::SaEvent& ev) {
    {
      std::lock_guard<std::mutex> lock(mailbox_mu_);
      mailbox_esp_.push_back(ev);
    }
    std::uint64_t one = 1;
    (void)!write(mailbox_fd_.get(), &one, sizeof(one));
  });

  auto reg = [this](int fd, std::function<void()> f) -> Status {
    MIPSEC_TRY(loop_.RegisterFd(fd, platform::kReadable, [f](std::uint32_t) { f(); }));
    registered_fds_.push_back(fd);
    return Ok{};
  };
  MIPSEC_TRY(reg(ike_socket_->fd(), [this] { OnIkeSocketReadable(); }));
  MIPSEC_TRY(reg(mailbox_fd_.get(), [this] { OnMailbox(); }));
  if (!options_.datapath_workers) {
    MIPSEC_TRY(reg(datapath_->udp().fd(), [this] {
      while (datapath_->RunRxOnce() > 0) {
      }
    }));
    MIPSEC_TRY(reg(datapath_->tun().fd(), [this] {
      while (datapath_->RunTxOnce() > 0) {
      }
    }));
  }
  timer_ = loop_.CreateTimer([this](Timestamp now) {
    manager_->OnTimeout(now);
    Drain(now);
  });
  if (options_.datapath_workers) MIPSEC_TRY(datapath_->Start());
  loop_.SetDeadline(timer_, manager_->NextTimeout());
  return Ok{};
}

IkeRuntime::~IkeRuntime() {
  if (datapath_) datapath_->Stop();
  for (int fd : registered_fds_) (void)loop_.UnregisterFd(fd);
  if (timer_ != platform::EventLoop::kNoTimer) loop_.DestroyTimer(timer_);
}

Result<std::uint64_t> IkeRuntime::Initiate(ikev2::PeerConfig config, Ipv4Endpoint local,
                                           Ipv4Endpoint remote) {
  const Timestamp now = loop_.Now();
  MIPSEC_ASSIGN_OR_RETURN(ikev2::IkeSa * sa,
                          manager_->Initiate(now, std::move(config), local, remote));
  const std::uint64_t id = manager_->IdOf(sa);
  known_sas_.insert(id);
  Drain(now);
  return id;
}

IkeRuntime::ChildTraffic IkeRuntime::ChildSaTraffic(std::uint32_t spi_in) {
  ChildTraffic t;
  if (auto in = datapath_->InboundSaInfo(spi_in); in.ok()) t.in = in->counters;
  auto it = children_.find(spi_in);
  if (it != children_.end() && it->second.outbound_active) {
    auto out = datapath_->OutboundSaInfo(it->second.child_id);
    if (out.ok() && out->spi == it->second.spi_out) t.out = out->counters;
  }
  return t;
}

void IkeRuntime::DeleteAll() {
  const Timestamp now = loop_.Now();
  std::vector<std::uint64_t> ids(known_sas_.begin(), known_sas_.end());
  for (std::uint64_t id : ids) {
    if (ikev2::IkeSa* sa = manager_->Find(id)) sa->Delete(now);
  }
  Drain(now);
}

void IkeRuntime::TerminateAll() {
  std::vector<std::uint64_t> ids(known_sas_.begin(), known_sas_.end());
  for (std::uint64_t id : ids) {
    if (ikev2::IkeSa* sa = manager_->Find(id)) {
      sa->Terminate(ikev2::IkeDownReason::kDeleted, "runtime shutdown");
    }
  }
  Drain(loop_.Now());
  // Anything still installed (nothing, once the events were handled).
  std::vector<std::uint32_t> left;
  for (const auto& [spi, c] : children_) left.push_back(spi);
  for (std::uint32_t spi : left) OnChildDown(spi);
}

void IkeRuntime::Flush() { Drain(loop_.Now()); }

void IkeRuntime::OnIkeSocketReadable() {
  const Timestamp now = loop_.Now();
  for (int round = 0; round < 16; ++round) {
    auto n = ike_socket_->RecvBatch(std::span<platform::Datagram>(rx_.data(), rx_.size()));
    if (!n.ok()) {
      MIPSEC_LOG(log_, kWarning) << "ike socket: " << n.error().ToString();
      break;
    }
    if (*n == 0) break;
    for (std::size_t i = 0; i < *n; ++i) {
      const platform::Datagram& d = rx_[i];
      if (d.truncated) continue;
      ++counters_.ike_in;
      manager_->OnDatagram(now, d.local, d.remote, d.data());
    }
    if (*n < rx_.size()) break;
  }
  Drain(now);
}

void IkeRuntime::OnMailbox() {
  std::uint64_t v = 0;
  (void)!read(mailbox_fd_.get(), &v, sizeof(v));
  std::deque<Pending> ike;
  std::deque<esp::SaEvent> esp_events;
  std::uint64_t drops = 0;
  {
    std::lock_guard<std::mutex> lock(mailbox_mu_);
    ike.swap(mailbox_ike_);
    esp_events.swap(mailbox_esp_);
    drops = std::exchange(mailbox_drops_, 0);
  }
  counters_.mailbox_drops += drops;
  const Timestamp now = loop_.Now();
  Bytes payload;
  for (Pending& p : ike) {
    // The manager takes the whole UDP payload of the NAT-T port: put the
    // non-ESP marker back in front (RFC 3948 2.2).
    payload.assign(kNonEspMarkerSize, std::uint8_t{0});
    payload.insert(payload.end(), p.message.begin(), p.message.end());
    ++counters_.ike_in;
    ++counters_.ike_in_natt;
    manager_->OnDatagram(now, p.local, p.remote, payload);
  }
  for (const esp::SaEvent& ev : esp_events) OnSaEvent(now, ev);
  Drain(now);
}

void IkeRuntime::Drain(Timestamp now) {
  for (int guard = 0; guard < 1000; ++guard) {
    bool any = false;
    while (auto t = manager_->PollTransmit()) {
      any = true;
      Send(*t);
    }
    while (auto e = manager_->PollEvent()) {
      any = true;
      HandleEvent(now, e->sa_id, e->event);
    }
    if (!any) break;
  }
  loop_.SetDeadline(timer_, manager_->NextTimeout());
}

void IkeRuntime::Send(const ikev2::IkeTransmit& t) {
  Status st = Ok{};
  if (t.keepalive) {
    st = datapath_->SendKeepalive(t.remote, t.local.address);
    if (st.ok()) ++counters_.keepalives_out;
  } else if (t.local.port == ike_socket_->local().port) {
    platform::OutgoingDatagram d;
    d.payload = t.payload;
    d.remote = t.remote;
    d.source = t.local.address;
    st = ike_socket_->Send(d);
    if (st.ok()) ++counters_.ike_out;
  } else {
    // The NAT-T port: EspDataPath adds the marker itself.
    if (t.payload.size() < kNonEspMarkerSize) {
      st = Error(Errc::kInternal, "IKE datagram for the NAT-T port without the non-ESP marker");
    } else {
      st = datapath_->SendIke(t.remote, t.local.address,
                              ByteSpan(t.payload).subspan(kNonEspMarkerSize));
      if (st.ok()) ++counters_.ike_out;
    }
  }
  if (!st.ok()) {
    ++counters_.send_errors;
    MIPSEC_LOG(log_, kWarning) << "send to " << t.remote.ToString() << ": "
                               << st.error().ToString();
  }
}

void IkeRuntime::HandleEvent(Timestamp now, std::uint64_t sa_id, const ikev2::IkeEvent& e) {
  (void)now;
  known_sas_.insert(sa_id);
  if (const auto* up = std::get_if<ikev2::IkeSaUp>(&e)) {
    ++counters_.ike_up;
    MIPSEC_LOG(log_, kInfo) << "IKE SA #" << sa_id << " up " << up->local.ToString() << " <-> "
                            << up->remote.ToString() << " " << up->suite.ToString()
                            << (up->remote_behind_nat ? " (peer behind NAT)" : "")
                            << (up->local_behind_nat ? " (we are behind NAT)" : "");
  } else if (const auto* down = std::get_if<ikev2::IkeSaDown>(&e)) {
    ++counters_.ike_down;
    MIPSEC_LOG(log_, kInfo) << "IKE SA #" << sa_id
                            << " down: " << ikev2::IkeDownReasonName(down->reason)
                            << (down->detail.empty() ? "" : ": " + down->detail);
    std::vector<std::uint32_t> left;
    for (const auto& [spi, c] : children_) {
      if (c.sa_id == sa_id) left.push_back(spi);
    }
    for (std::uint32_t spi : left) OnChildDown(spi);
    known_sas_.erase(sa_id);
  } else if (const auto* vip = std::get_if<ikev2::VirtualIpAssigned>(&e)) {
    MIPSEC_LOG(log_, kInfo) << "IKE SA #" << sa_id << " virtual IP " << vip->address.ToString();
    if (vip_hook_) vip_hook_(sa_id, *vip);
  } else if (const auto* cup = std::get_if<ikev2::ChildSaUp>(&e)) {
    OnChildUp(sa_id, *cup);
  } else if (const auto* cdown = std::get_if<ikev2::ChildSaDown>(&e)) {
    MIPSEC_LOG(log_, kInfo) << "CHILD SA " << Hex32(cdown->spi_in) << "/"
                            << Hex32(cdown->spi_out)
                            << " down: " << ikev2::ChildDownReasonName(cdown->reason);
    OnChildDown(cdown->spi_in);
  } else if (const auto* fail = std::get_if<ikev2::ChildSaFailed>(&e)) {
    MIPSEC_LOG(log_, kWarning) << "IKE SA #" << sa_id << " CHILD SA failed: " << fail->detail;
  } else if (const auto* path = std::get_if<ikev2::PathChanged>(&e)) {
    MIPSEC_LOG(log_, kInfo) << "IKE SA #" << sa_id << " path " << path->local.ToString()
                            << " <-> " << path->remote.ToString();
    for (auto& [spi, c] : children_) {
      if (c.sa_id != sa_id) continue;
      c.out_cfg.local = path->local;
      c.out_cfg.remote = path->remote;
      Status st = datapath_->UpdateInboundPath(spi, path->local, path->remote);
      if (st.ok() && c.outbound_active) {
        st = datapath_->UpdateOutboundPath(c.child_id, path->local, path->remote);
      }
      if (!st.ok()) {
        MIPSEC_LOG(log_, kWarning) << "path update of CHILD SA " << Hex32(spi) << ": "
                                   << st.error().ToString();
      }
    }
  } else if (const auto* conf = std::get_if<ikev2::PathConfirmed>(&e)) {
    // The data path already follows PathChanged; this only says the peer
    // answered our UPDATE_SA_ADDRESSES (RFC 4555 3.5).
    MIPSEC_LOG(log_, kInfo) << "IKE SA #" << sa_id << " path " << conf->local.ToString()
                            << " <-> " << conf->remote.ToString() << " confirmed by the peer";
  } else if (const auto* rk = std::get_if<ikev2::IkeSaRekeyed>(&e)) {
    MIPSEC_LOG(log_, kInfo) << "IKE SA #" << rk->old_sa_id << " rekeyed into #" << rk->new_sa_id
                            << " " << rk->suite.ToString();
    known_sas_.insert(rk->new_sa_id);
    for (auto& [spi, c] : children_) {
      if (c.sa_id == rk->old_sa_id) c.sa_id = rk->new_sa_id;
    }
  }
  if (observer_) observer_(sa_id, e);
}

void IkeRuntime::OnChildUp(std::uint64_t sa_id, const ikev2::ChildSaUp& up) {
  const ikev2::ChildSaInfo& info = up.child;
  auto in_cfg = MakeEspSaConfig(info, esp::Direction::kInbound);
  auto out_cfg = MakeEspSaConfig(info, esp::Direction::kOutbound);
  if (!in_cfg.ok() || !out_cfg.ok()) {
    ++counters_.install_errors;
    MIPSEC_LOG(log_, kError) << "CHILD SA " << Hex32(info.spi_in) << " not installed: "
                             << (in_cfg.ok() ? out_cfg.error() : in_cfg.error()).ToString();
    return;
  }
  Child c;
  c.sa_id = sa_id;
  c.spi_out = info.spi_out;
  c.seq = next_seq_++;
  c.remote_prefixes = SelectorsToPrefixes(info.remote_ts);
  // RFC 4301 5.2: decrypted packets must come from the peer's selectors.
  in_cfg->inbound_allowed_sources = c.remote_prefixes;
  Status st = datapath_->AddInboundSa(*in_cfg);
  if (!st.ok()) {
    ++counters_.install_errors;
    MIPSEC_LOG(log_, kError) << "inbound SA " << Hex32(info.spi_in) << ": "
                             << st.error().ToString();
    return;
  }
  c.out_cfg = std::move(*out_cfg);

  Child* old = nullptr;
  if (up.rekeyed_spi_in) {
    auto it = children_.find(*up.rekeyed_spi_in);
    if (it != children_.end()) old = &it->second;
  }
  bool activate = true;
  if (old != nullptr) {
    c.child_id = old->child_id;
    ++counters_.rekeys_installed;
    // RFC 7296 2.8: the peer initiated the rekey, so it can receive on the
    // new SA only once our response reached it; keep sending on the old SA
    // until the peer deletes it.
    activate = info.initiator || !old->outbound_active;
  } else {
    c.child_id = next_child_id_++;
  }
  const std::uint32_t spi_in = info.spi_in;
  auto [it, inserted] = children_.emplace(spi_in, std::move(c));
  if (!inserted) {
    ++counters_.install_errors;
    return;
  }
  ++counters_.children_up;
  MIPSEC_LOG(log_, kInfo) << "CHILD SA " << Hex32(spi_in) << "/" << Hex32(info.spi_out)
                          << " up (IKE SA #" << sa_id << ") " << info.suite.ToString() << " "
                          << PrefixList(SelectorsToPrefixes(info.local_ts)) << " <-> "
                          << PrefixList(it->second.remote_prefixes)
                          << (info.udp_encap ? " udp-encap " : " ") << info.remote.ToString()
                          << (old ? (activate ? " (rekey, outbound switched)"
                                              : " (rekey, outbound after the old SA's delete)")
                                  : "");
  if (activate) {
    if (old != nullptr) old->outbound_active = false;
    ActivateOutbound(spi_in, it->second);
  }
}

void IkeRuntime::ActivateOutbound(std::uint32_t spi_in, Child& c) {
  esp::SaConfig cfg = c.out_cfg;  // the copy goes to the data path
  Status st = datapath_->SetOutboundSa(c.child_id, c.remote_prefixes, cfg);
  if (!st.ok()) {
    ++counters_.install_errors;
    MIPSEC_LOG(log_, kError) << "outbound SA " << Hex32(c.spi_out) << " (CHILD SA "
                             << Hex32(spi_in) << "): " << st.error().ToString();
    return;
  }
  c.outbound_active = true;
  c.ever_active = true;
}

void IkeRuntime::OnChildDown(std::uint32_t spi_in) {
  auto it = children_.find(spi_in);
  if (it == children_.end()) return;
  Child gone = std::move(it->second);
  children_.erase(it);
  ++counters_.children_down;
  Status st = datapath_->RemoveInboundSa(spi_in);
  if (!st.ok()) {
    MIPSEC_LOG(log_, kWarning) << "remove inbound SA " << Hex32(spi_in) << ": "
                               << st.error().ToString();
  }
  if (!gone.outbound_active) return;
  // A successor of the same child that never sent (a peer-initiated rekey
  // waiting for this delete) takes the outbound direction over atomically.
  Child* next = nullptr;
  std::uint32_t next_spi = 0;
  for (auto& [spi, c] : children_) {
    if (c.child_id == gone.child_id && !c.ever_active && (next == nullptr || c.seq > next->seq)) {
      next = &c;
      next_spi = spi;
    }
  }
  if (next != nullptr) {
    ActivateOutbound(next_spi, *next);
    return;
  }
  st = datapath_->RemoveOutboundSa(gone.child_id);
  if (!st.ok()) {
    MIPSEC_LOG(log_, kWarning) << "remove outbound SA " << Hex32(gone.spi_out) << ": "
                               << st.error().ToString();
  }
}

void IkeRuntime::OnSaEvent(Timestamp now, const esp::SaEvent& ev) {
  const bool soft = ev.kind == esp::SaEventKind::kSoftExpired;
  if (soft) {
    ++counters_.esp_soft_expiries;
  } else {
    ++counters_.esp_hard_expiries;
  }
  std::uint32_t spi_in = 0;
  const Child* c = nullptr;
  if (ev.direction == esp::Direction::kInbound) {
    auto it = children_.find(ev.spi);
    if (it != children_.end()) {
      spi_in = it->first;
      c = &it->second;
    }
  } else {
    for (const auto& [spi, ch] : children_) {
      if (ch.spi_out == ev.spi) {
        spi_in = spi;
        c = &ch;
        break;
      }
    }
  }
  if (c == nullptr) return;
  ikev2::IkeSa* sa = manager_->Find(c->sa_id);
  if (sa == nullptr) return;
  MIPSEC_LOG(log_, kInfo) << "ESP SA " << Hex32(ev.spi) << (soft ? " soft" : " hard")
                          << " lifetime reached: " << (soft ? "rekeying" : "deleting")
                          << " CHILD SA " << Hex32(spi_in);
  Status st = soft ? sa->RekeyChildSa(now, spi_in) : sa->DeleteChildSa(now, spi_in);
  if (!st.ok()) {
    MIPSEC_LOG(log_, kDebug) << "CHILD SA " << Hex32(spi_in) << ": " << st.error().ToString();
  }
}

std::string IkeRuntime::CountersLine() const {
  std::ostringstream o;
  const IkeRuntimeCounters& c = counters_;
  o << "ike_sas " << manager_->size() << " children " << children_.size() << " ike_in "
    << c.ike_in << " (natt " << c.ike_in_natt << ") ike_out " << c.ike_out << " keepalives "
    << c.keepalives_out << " send_errors " << c.send_errors << " mailbox_drops "
    << c.mailbox_drops << " ike_up " << c.ike_up << " ike_down " << c.ike_down
    << " children_up " << c.children_up << " children_down " << c.children_down << " rekeys "
    << c.rekeys_installed << " install_errors " << c.install_errors << " cookies "
    << manager_->stats().cookies_sent << " dropped " << manager_->stats().dropped;
  platform::EspDataPathStats s = datapath_->Stats();
  o << " | esp tx " << s.tx.sent_packets << " pkts " << s.tx.sent_bytes << " B no_policy "
    << s.tx.no_policy << " rx " << s.rx.datagrams << " dgrams delivered " << s.rx.delivered
    << " keepalives " << s.rx.keepalives;
  std::uint64_t rx_drops = 0;
  for (std::uint64_t d : s.rx.drops) rx_drops += d;
  o << " rx_drops " << rx_drops;
  return o.str();
}

}  // namespace mipsec::ikev2d
