#include "platform/linux/mn/mn_daemon.h"

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <utility>
#include <variant>

#include "common/ip/ipv4.h"
#include "common/ip/udp.h"
#include "platform/linux/fd.h"
#include "platform/linux/mip4/sa_config.h"
#include "platform/linux/socket_io.h"
#include "platform/linux/sys_error.h"
#include "platform/linux/sysctl.h"

namespace mipsec::mnd {

namespace {

constexpr std::size_t kRecentEvents = 256;  // `mipsec ctl -d mn history`
constexpr std::uint16_t kDhcpClientPort = 68;

mip4::UdpTunnelPolicy ToPolicy(config::MnUdpTunnel p) {
  switch (p) {
    case config::MnUdpTunnel::kNever: return mip4::UdpTunnelPolicy::kNever;
    case config::MnUdpTunnel::kRequest: return mip4::UdpTunnelPolicy::kRequest;
    case config::MnUdpTunnel::kForce: return mip4::UdpTunnelPolicy::kForce;
  }
  return mip4::UdpTunnelPolicy::kRequest;
}

}  // namespace

struct MnDaemon::Ifc {
  config::MnInterfaceConfig cfg;
  std::uint32_t table = 0;
  int ifindex = 0;
  bool running = false;
  std::unique_ptr<dhcp::Client> dhcp;
  std::unique_ptr<platform::LinuxUdpSocket> dhcp_sock;
  std::unique_ptr<platform::LinuxUdpSocket> mip_sock;
  // AF_PACKET (SOCK_DGRAM, ETH_P_IP) for datagrams from 0.0.0.0 (see
  // SendUnaddressed).
  platform::ScopedFd packet_sock;
  platform::EventLoop::TimerId dhcp_timer = platform::EventLoop::kNoTimer;
  // What we put on the interface.
  std::optional<platform::InterfaceAddress> address;
  std::optional<Ipv4Address> router;
  std::vector<platform::Route> routes;
  std::optional<platform::Rule> rule;
  // Addresses we deleted whose RTM_DELADDR notification is still to come.
  std::vector<platform::InterfaceAddress> own_deletions;
  // What we last wrote to its arp_ignore (-1: nothing yet).
  int arp_ignore = -1;
};

MnDaemon::MnDaemon(const config::MnConfig& config, LogSink* sink)
    : config_(config), log_(sink, "mn", config.log_level), rx_(16), tun_buffer_(65536) {}

Result<std::unique_ptr<MnDaemon>> MnDaemon::Create(const config::MnConfig& config,
                                                   const MnDaemonOptions& options,
                                                   LogSink* sink) {
  std::unique_ptr<MnDaemon> d(new MnDaemon(config, sink));
  d->options_ = options;
  MIPSEC_TRY(d->Init());
  return d;
}

Status MnDaemon::Init() {
  MIPSEC_ASSIGN_OR_RETURN(loop_, platform::EpollEventLoop::Create());
  arp_ = std::make_unique<platform::GratuitousArp>(*loop_);
  // The clean stop (deregistration first: mn_daemon_ops.cc).
  MIPSEC_TRY(loop_->HandleSignal(SIGINT, [this](int) { BeginShutdown("SIGINT"); }));
  MIPSEC_TRY(loop_->HandleSignal(SIGTERM, [this](int) { BeginShutdown("SIGTERM"); }));
  MIPSEC_TRY(loop_->HandleSignal(SIGHUP, [this](int) { (void)Reload(); }));
  MIPSEC_TRY(loop_->HandleSignal(SIGUSR1, [this](int) {
    MIPSEC_LOG(log_, kNotice) << CountersLine();
  }));
  // Before anything on the host changes: a second daemon with the same
  // socket stops here.
  started_ = loop_->Now();
  MIPSEC_TRY(OpenControlSocket());
  MIPSEC_ASSIGN_OR_RETURN(netlink_, platform::LinuxNetlink::Open());
  MIPSEC_ASSIGN_OR_RETURN(monitor_,
                          netlink_->Subscribe(platform::kLinkEvents | platform::kAddressEvents));

  // The controller: the config mapped onto the core's.
  mn::ControllerConfig cc;
  cc.mip.home_address = config_.home_address;
  cc.mip.nai = config_.nai;
  cc.mip.home_agent = config_.home_agent;
  cc.mip.requested_lifetime = static_cast<std::uint16_t>(config_.lifetime.seconds());
  cc.mip.reverse_tunnel = true;
  cc.mip.udp_tunnel = ToPolicy(config_.udp_tunnel);
  cc.mip.max_retransmissions = config_.retransmissions;
  cc.mip.initial_timeout = config_.retransmit_timeout;
  cc.tunnel_udp = ToPolicy(config_.tunnel_udp_tunnel);
  cc.vpn = config_.vpn.has_value();
  if (config_.vpn) {
    cc.vpn_when_inside = config_.vpn->tear_down_when_inside ? mn::VpnWhenInside::kTearDown
                                                            : mn::VpnWhenInside::kKeep;
    cc.vpn_retry = config_.vpn->retry;
    cc.vpn_retry_max = config_.vpn->retry_max;
  }
  cc.use_foreign_agents = config_.use_foreign_agents;
  cc.t_monitor = config_.t_monitor;
  cc.monitor_margin = config_.monitor_margin;
  cc.probe_domains = config_.probe_domains;
  MIPSEC_ASSIGN_OR_RETURN(mip4::SecurityAssociation sa,
                          mip4d::MakeSecurityAssociation(config_.sa, config_.replay,
                                                         config_.tolerance));

  // The TUN holding the home address.
  auto tun = platform::LinuxTunDevice::Create(config_.tun_name);
  if (!tun.ok()) return Error(tun.error().code(), "tun device: " + tun.error().detail());
  tun_ = std::move(tun).value();
  MIPSEC_TRY(platform::ConfigureInterface(*netlink_, tun_->ifindex(),
                                          {config_.home_address, 32}, config_.tun_mtu));
  MIPSEC_TRY(sysctls_.Set("/proc/sys/net/ipv4/conf/" + tun_->name() + "/rp_filter", "0"));
  for (const char* half : {"0.0.0.0/1", "128.0.0.0/1"}) {
    platform::Route r;
    r.destination = *Ipv4Prefix::Parse(half);
    r.oif = tun_->ifindex();
    r.preferred_source = config_.home_address;
    r.table = platform::kMainRouteTable;
    MIPSEC_TRY(netlink_->AddRoute(r));
    routes_.push_back(r);
  }

  // Raw sockets: IP-in-IP from the HA/FA, ICMP router discovery.
  {
    platform::RawSocketOptions r;
    r.protocol = platform::kIpProtoIpip;
    r.broadcast = true;
    auto s = platform::LinuxRawSocket::Open(r);
    if (!s.ok()) return Error(s.error().code(), "ip-in-ip raw socket: " + s.error().detail());
    raw_.ipip = std::move(s).value();
    MIPSEC_TRY(platform::linux_io::SetIntOption(raw_.ipip->fd(), IPPROTO_IP, IP_HDRINCL, 1,
                                                "setsockopt(IP_HDRINCL)"));
    platform::RawSocketOptions i;
    i.protocol = platform::kIpProtoIcmp;
    i.broadcast = true;
    i.multicast_ttl = 1;  // RFC 5944 2.4 / RFC 1256: solicitations stay on the link
    i.multicast_loop = false;
    i.icmp_types = {9, 10};  // advertisements (and solicitations, ignored)
    auto ic = platform::LinuxRawSocket::Open(i);
    if (!ic.ok()) return Error(ic.error().code(), "icmp raw socket: " + ic.error().detail());
    raw_.icmp = std::move(ic).value();
  }

  // The VPN (mc): its TUN is the controller's tunnel pseudo-interface.
  if (config_.vpn) MIPSEC_TRY(InitVpn());

  const Timestamp now = loop_->Now();
  MIPSEC_ASSIGN_OR_RETURN(
      controller_,
      mn::MnController::Create(cc, std::move(sa),
                               mip4::WallClockMapping{now, platform::RealtimeNanos()},
                               config_.vpn ? vpn_tun_ifindex_ : tun_->ifindex(), random_,
                               log_.Child("ctl")));

  auto reg = [this](int fd, std::function<void()> f) -> Status {
    MIPSEC_TRY(loop_->RegisterFd(fd, platform::kReadable, [f](std::uint32_t) { f(); }));
    registered_fds_.push_back(fd);
    return Ok{};
  };
  MIPSEC_TRY(reg(monitor_->fd(), [this] { OnNetlink(); }));
  MIPSEC_TRY(reg(tun_->fd(), [this] { OnTunReadable(); }));
  MIPSEC_TRY(reg(raw_.ipip->fd(), [this] { OnRawReadable(*raw_.ipip); }));
  MIPSEC_TRY(reg(raw_.icmp->fd(), [this] { OnRawReadable(*raw_.icmp); }));
  timer_ = loop_->CreateTimer([this](Timestamp t) {
    controller_->OnTimeout(t);
    Drain(t);
  });
  post_timer_ = loop_->CreateTimer([this](Timestamp t) { Drain(t); });
  if (vpn_mip_sock_) MIPSEC_TRY(reg(vpn_mip_sock_->fd(), [this] { OnVpnUdpReadable(); }));

  // The interfaces, in config order (their tables follow that order).
  for (std::size_t i = 0; i < config_.interfaces.size(); ++i) {
    auto ifc = std::make_unique<Ifc>();
    ifc->cfg = config_.interfaces[i];
    ifc->table = config_.table_base + static_cast<std::uint32_t>(i);
    Ifc* raw = ifc.get();
    ifc->dhcp_timer = loop_->CreateTimer([this, raw](Timestamp t) {
      if (raw->dhcp) {
        raw->dhcp->OnTimeout(t);
        DrainDhcp(t, *raw);
      }
    });
    ifcs_.push_back(std::move(ifc));
  }
  for (auto& ifc : ifcs_) {
    Result<platform::LinkInfo> link = netlink_->GetLinkByName(ifc->cfg.name);
    if (!link.ok()) {
      MIPSEC_LOG(log_, kWarning) << "interface " << ifc->cfg.name
                                 << " is not present (yet): " << link.error().detail();
      continue;
    }
    OnLinkState(now, *ifc, *link);
  }
  Drain(now);
  MIPSEC_LOG(log_, kInfo) << "mobile node " << config_.home_address.ToString() << " (home agent "
                          << config_.home_agent.ToString() << "), tun " << tun_->name() << ", "
                          << ifcs_.size() << " interface(s), "
                          << (config_.vpn ? "VPN to " + config_.vpn->client.gateway.ToString() +
                                                " over " + vpn_tun_name_
                                          : std::string("no VPN (inside only)"));
  return Ok{};
}

MnDaemon::~MnDaemon() {
  control_.reset();  // socket file removed
  if (ike_) {
    restarting_vpn_ = true;  // no controller news from here on
    ike_->TerminateAll();
  }
  DropTia();
  if (loop_) {
    for (int fd : registered_fds_) (void)loop_->UnregisterFd(fd);
    registered_fds_.clear();
  }
  for (auto& ifc : ifcs_) {
    CloseInterfaceSockets(*ifc);
    RemoveAddress(*ifc);
    if (loop_ && ifc->dhcp_timer != platform::EventLoop::kNoTimer) {
      loop_->DestroyTimer(ifc->dhcp_timer);
    }
  }
  if (netlink_) {
    if (home_rule_) DeleteRule(*home_rule_);
    if (next_hop_) {
      DeleteRule(*next_hop_);
      DeleteRoute(next_hop_route_);
    }
    for (auto it = home_routes_.rbegin(); it != home_routes_.rend(); ++it) DeleteRoute(*it);
    for (auto it = routes_.rbegin(); it != routes_.rend(); ++it) (void)netlink_->DeleteRoute(*it);
  }
  if (loop_ && timer_ != platform::EventLoop::kNoTimer) loop_->DestroyTimer(timer_);
  if (loop_ && post_timer_ != platform::EventLoop::kNoTimer) loop_->DestroyTimer(post_timer_);
  vpn_mip_sock_.reset();
  ike_.reset();  // data path stopped, the ESP TUN closed
  sysctls_.Restore();
  // The TUN (and with it its address and routes) goes with tun_.
}

Status MnDaemon::Run() {
  Drain(loop_->Now());
  Status st = loop_->Run();
  if (ike_ && ike_->size() > 0) {
    // RFC 7296 1.4.1: tell the gateway (INFORMATIONAL Delete), briefly.
    restarting_vpn_ = true;
    ike_->DeleteAll();
    const Timestamp end = loop_->Now() + Duration::Seconds(2);
    while (ike_->size() > 0 && loop_->Now() < end) (void)loop_->RunOnce(Duration::Millis(50));
  }
  MIPSEC_LOG(log_, kNotice) << "counters at exit: " << CountersLine();
  return st;
}

MnDaemon::Ifc* MnDaemon::FindByIndex(int ifindex) {
  for (auto& ifc : ifcs_) {
    if (ifc->ifindex == ifindex && ifindex != 0) return ifc.get();
  }
  return nullptr;
}

// ---- Links and addresses (netlink) ----

void MnDaemon::OnNetlink() {
  const Timestamp now = loop_->Now();
  auto n = monitor_->Dispatch([&](const platform::NetlinkEvent& ev) {
    if (const auto* lc = std::get_if<platform::LinkChanged>(&ev)) {
      for (auto& ifc : ifcs_) {
        if (ifc->cfg.name == lc->link.name) OnLinkState(now, *ifc, lc->link);
      }
    } else if (const auto* lr = std::get_if<platform::LinkRemoved>(&ev)) {
      if (Ifc* ifc = FindByIndex(lr->ifindex)) {
        platform::LinkInfo gone;
        gone.name = ifc->cfg.name;
        OnLinkState(now, *ifc, gone);
        ifc->ifindex = 0;
      }
    } else if (const auto* ar = std::get_if<platform::AddressRemoved>(&ev)) {
      Ifc* ifc = FindByIndex(ar->address.ifindex);
      if (ifc) {
        // Our own deletions come back as notifications too: not news.
        auto own = std::find(ifc->own_deletions.begin(), ifc->own_deletions.end(),
                             ar->address.local);
        if (own != ifc->own_deletions.end()) {
          ifc->own_deletions.erase(own);
          ifc = nullptr;
        }
      }
      if (ifc && ifc->address && ar->address.local == *ifc->address) {
        // Someone else took our address away: a connectivity change (R11).
        MIPSEC_LOG(log_, kNotice) << ifc->cfg.name << ": address " << ifc->address->ToString()
                                  << " removed by someone else";
        ifc->address.reset();  // already gone: RemoveAddress must not delete it
        RemoveAddress(*ifc);
        controller_->OnAddressLost(now, ifc->ifindex);
        Drain(now);
        if (ifc->dhcp) {
          ifc->dhcp->Start(now);
          DrainDhcp(now, *ifc);
        }
      }
    } else if (std::holds_alternative<platform::EventsLost>(ev)) {
      for (auto& ifc : ifcs_) {
        Result<platform::LinkInfo> link = netlink_->GetLinkByName(ifc->cfg.name);
        if (link.ok()) OnLinkState(now, *ifc, *link);
      }
    }
  });
  if (!n.ok()) {
    ++counters_.netlink_errors;
    MIPSEC_LOG(log_, kWarning) << "netlink: " << n.error().ToString();
  }
}

void MnDaemon::OnLinkState(Timestamp now, Ifc& ifc, const platform::LinkInfo& link) {
  const bool running = link.ifindex != 0 && link.up && link.running;
  if (link.ifindex != 0 && ifc.ifindex != link.ifindex) {
    if (ifc.running) LinkDown(now, ifc);
    ifc.ifindex = link.ifindex;
  }
  if (running == ifc.running) return;
  if (running) {
    LinkUp(now, ifc);
  } else {
    LinkDown(now, ifc);
  }
}

void MnDaemon::LinkUp(Timestamp now, Ifc& ifc) {
  ifc.running = true;
  MIPSEC_LOG(log_, kInfo) << ifc.cfg.name << ": link up (ifindex " << ifc.ifindex << ")";
  if (Status s = sysctls_.Set("/proc/sys/net/ipv4/conf/" + ifc.cfg.name + "/rp_filter", "0");
      !s.ok()) {
    MIPSEC_LOG(log_, kWarning) << ifc.cfg.name << ": " << s.error().detail();
  }
  // RFC 5944 4.6: away from home the MN MUST NOT answer ARP for its home
  // address, which Linux would do on every link (it is on the TUN).
  ifc.arp_ignore = -1;  // a new link may have come with the default
  SetArpIgnore(ifc, false);
  if (Status s = OpenInterfaceSockets(ifc); !s.ok()) {
    MIPSEC_LOG(log_, kError) << ifc.cfg.name << ": " << s.error().ToString()
                             << " (interface not used)";
    CloseInterfaceSockets(ifc);
    ifc.running = false;
    return;
  }
  // R11, R21: detection starts with the link; solicitation at once (R8).
  controller_->OnLinkUp(now, ifc.ifindex, ifc.cfg.name);
  Drain(now);
  if (ifc.cfg.address) {
    ApplyAddress(now, ifc,
                 mn::AddressInfo{*ifc.cfg.address, ifc.cfg.prefix_length, ifc.cfg.router,
                                 ifc.cfg.domain});
  } else if (ifc.dhcp) {
    ifc.dhcp->Start(now);
    DrainDhcp(now, ifc);
  }
}

void MnDaemon::LinkDown(Timestamp now, Ifc& ifc) {
  ifc.running = false;
  arp_->Cancel(ifc.ifindex, config_.home_address);
  MIPSEC_LOG(log_, kInfo) << ifc.cfg.name << ": link down";
  if (ifc.dhcp) {
    ifc.dhcp->Stop(now);  // LeaseLost(kStopped) undoes the address
    DrainDhcp(now, ifc);
  }
  RemoveAddress(ifc);
  controller_->OnLinkDown(now, ifc.ifindex);
  Drain(now);
  CloseInterfaceSockets(ifc);
}

Status MnDaemon::OpenInterfaceSockets(Ifc& ifc) {
  // UDP 434 on this link only (registration replies, RFC 3519 tunnel data).
  platform::UdpOptions u;
  u.bind = Ipv4Endpoint{Ipv4Address::Any(), mip4::kMipPort};
  u.device = ifc.cfg.name;
  u.reuse_address = true;
  u.broadcast = true;
  u.receive_ttl = true;
  auto mip = platform::LinuxUdpSocket::Open(u);
  if (!mip.ok()) return Error(mip.error().code(), "udp 434: " + mip.error().detail());
  ifc.mip_sock = std::move(mip).value();
  ifc.packet_sock = platform::ScopedFd(
      ::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));  // send only
  if (ifc.packet_sock.get() < 0) return platform::SysError("packet socket");
  Ifc* raw = &ifc;
  MIPSEC_TRY(loop_->RegisterFd(ifc.mip_sock->fd(), platform::kReadable,
                               [this, raw](std::uint32_t) { OnUdpReadable(*raw); }));
  if (!ifc.cfg.address) {
    // DHCP (RFC 2131) on this link: port 68, broadcast replies.
    platform::UdpOptions d;
    d.bind = Ipv4Endpoint{Ipv4Address::Any(), kDhcpClientPort};
    d.device = ifc.cfg.name;
    d.reuse_address = true;
    d.broadcast = true;
    auto ds = platform::LinuxUdpSocket::Open(d);
    if (!ds.ok()) return Error(ds.error().code(), "dhcp udp 68: " + ds.error().detail());
    ifc.dhcp_sock = std::move(ds).value();
    MIPSEC_TRY(loop_->RegisterFd(ifc.dhcp_sock->fd(), platform::kReadable,
                                 [this, raw](std::uint32_t) { OnDhcpReadable(*raw); }));
    if (!ifc.dhcp) {
      // chaddr: the interface's hardware address (RFC 2131 2).
      MIPSEC_ASSIGN_OR_RETURN(platform::MacAddress mac, platform::InterfaceMac(ifc.ifindex));
      dhcp::ClientConfig dc;
      std::copy(mac.begin(), mac.end(), dc.chaddr.begin());
      dc.broadcast_flag = true;
      // A mobile node wants its address now after a move (client.h).
      dc.initial_timeout = Duration::Seconds(1);
      dc.jitter = Duration::Millis(200);
      MIPSEC_ASSIGN_OR_RETURN(ifc.dhcp,
                              dhcp::Client::Create(dc, random_, log_.Child("dhcp-" + ifc.cfg.name)));
    }
  }
  return Ok{};
}

void MnDaemon::CloseInterfaceSockets(Ifc& ifc) {
  if (ifc.mip_sock) {
    (void)loop_->UnregisterFd(ifc.mip_sock->fd());
    ifc.mip_sock.reset();
  }
  if (ifc.dhcp_sock) {
    (void)loop_->UnregisterFd(ifc.dhcp_sock->fd());
    ifc.dhcp_sock.reset();
  }
  ifc.packet_sock = platform::ScopedFd();
}

// An IPv4 datagram from 0.0.0.0 (DHCP before a lease, RFC 2131 4.1; agent
// solicitations before an address, RFC 1256 5.1) straight onto the link.
// Through an IP socket the kernel would fill in a source address of
// another interface -- the home address on the TUN -- and reveal it on a
// link that may be untrusted (RFC 5265 4.1). Only broadcast and multicast
// destinations: a unicast needs ARP, and so an address.
Status MnDaemon::SendUnaddressed(Ifc& ifc, ByteSpan packet) {
  MIPSEC_ASSIGN_OR_RETURN(ip::Ipv4Packet pkt, ip::ParseIpv4(packet, {.verify_checksum = false}));
  if (!pkt.header.src.IsAny()) {
    return Error(Errc::kInvalidArgument, "SendUnaddressed: source is not 0.0.0.0");
  }
  MIPSEC_ASSIGN_OR_RETURN(Bytes wire, ip::BuildIpv4(pkt.header, pkt.payload));  // checksum
  const std::uint32_t dst = pkt.header.dst.ToHostOrder();
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_IP);
  to.sll_ifindex = ifc.ifindex;
  to.sll_halen = 6;
  if (pkt.header.dst == Ipv4Address::Broadcast()) {
    std::memset(to.sll_addr, 0xff, 6);
  } else if ((dst >> 28) == 0xe) {
    // RFC 1112 6.4: 01-00-5E and the low 23 bits of the group.
    const std::uint8_t mac[6] = {0x01, 0x00, 0x5e, static_cast<std::uint8_t>((dst >> 16) & 0x7f),
                                 static_cast<std::uint8_t>(dst >> 8),
                                 static_cast<std::uint8_t>(dst)};
    std::memcpy(to.sll_addr, mac, 6);
  } else {
    return Error(Errc::kUnsupported, "no address on " + ifc.cfg.name + " to send to " +
                                         pkt.header.dst.ToString() + " from");
  }
  if (ifc.packet_sock.get() < 0) return Error(Errc::kState, ifc.cfg.name + ": not up");
  if (::sendto(ifc.packet_sock.get(), wire.data(), wire.size(), 0,
               reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0) {
    return platform::SysError("packet send on " + ifc.cfg.name);
  }
  return Ok{};
}

// ---- DHCP ----

void MnDaemon::OnDhcpReadable(Ifc& ifc) {
  if (!ifc.dhcp_sock || !ifc.dhcp) return;
  const Timestamp now = loop_->Now();
  for (;;) {
    auto n = ifc.dhcp_sock->RecvBatch(rx_.slots());
    if (!n.ok() || *n == 0) break;
    for (std::size_t i = 0; i < *n; ++i) {
      const platform::Datagram& d = rx_.slots()[i];
      ++counters_.dhcp_received;
      if (d.truncated) continue;
      (void)ifc.dhcp->OnDatagram(now, dhcp::Path{d.local, d.remote, d.ifindex}, d.data());
    }
    DrainDhcp(now, ifc);
  }
}

void MnDaemon::DrainDhcp(Timestamp now, Ifc& ifc) {
  while (std::optional<dhcp::ClientTransmit> t = ifc.dhcp->PollTransmit()) {
    if (!ifc.dhcp_sock) continue;
    Status st = Ok{};
    if (t->source.IsAny()) {
      ip::Ipv4Header h;
      h.src = Ipv4Address::Any();
      h.dst = t->destination.address;
      h.ttl = 64;
      Result<Bytes> pkt = ip::BuildIpv4Udp(h, kDhcpClientPort, t->destination.port, t->bytes);
      st = pkt.ok() ? SendUnaddressed(ifc, *pkt) : Status(pkt.error());
    } else {
      platform::OutgoingDatagram d;
      d.payload = t->bytes;
      d.remote = t->destination;
      d.source = t->source;
      d.ifindex = ifc.ifindex;
      st = ifc.dhcp_sock->Send(d);
    }
    if (Status s = st; !s.ok()) {
      ++counters_.dhcp_send_errors;
      MIPSEC_LOG(log_, kDebug) << ifc.cfg.name << ": dhcp send: " << s.error().ToString();
    } else {
      ++counters_.dhcp_sent;
    }
  }
  while (std::optional<dhcp::ClientEvent> e = ifc.dhcp->PollEvent()) {
    if (const auto* b = std::get_if<dhcp::BoundEvent>(&*e)) {
      ApplyAddress(now, ifc, mn::AddressInfo{b->lease.address, b->lease.prefix_length,
                                             b->lease.router, b->lease.domain_name});
    } else if (const auto* r = std::get_if<dhcp::RenewedEvent>(&*e)) {
      if (!ifc.address || ifc.address->address != r->lease.address) {
        ApplyAddress(now, ifc, mn::AddressInfo{r->lease.address, r->lease.prefix_length,
                                               r->lease.router, r->lease.domain_name});
      }
    } else if (const auto* l = std::get_if<dhcp::LeaseLostEvent>(&*e)) {
      MIPSEC_LOG(log_, kInfo) << ifc.cfg.name << ": lease " << l->lease.address.ToString()
                              << " lost (" << dhcp::LeaseLostReasonName(l->reason) << ")";
      RemoveAddress(ifc);
      if (ifc.running) {
        controller_->OnAddressLost(now, ifc.ifindex);
        Drain(now);
      }
    }
  }
  loop_->SetDeadline(ifc.dhcp_timer, ifc.dhcp->NextTimeout());
}

void MnDaemon::ApplyAddress(Timestamp now, Ifc& ifc, const mn::AddressInfo& info) {
  RemoveAddress(ifc);
  const platform::InterfaceAddress ia{info.address, info.prefix_length};
  if (Status s = netlink_->AddAddress(ifc.ifindex, ia); !s.ok()) {
    ++counters_.netlink_errors;
    MIPSEC_LOG(log_, kError) << ifc.cfg.name << ": " << s.error().ToString();
    return;
  }
  ifc.address = ia;
  ifc.router = info.router;
  // This link's own table: its subnet and its router; and the rule that
  // sends everything from its address there (R11: never into the TUN).
  platform::Route subnet;
  subnet.destination = ia.Subnet();
  subnet.oif = ifc.ifindex;
  subnet.preferred_source = info.address;
  subnet.table = ifc.table;
  subnet.protocol = 4;
  AddRoute(subnet);
  ifc.routes.push_back(subnet);
  if (info.router) {
    platform::Route def;
    def.destination = Ipv4Prefix();
    def.gateway = *info.router;
    def.oif = ifc.ifindex;
    def.preferred_source = info.address;
    def.table = ifc.table;
    AddRoute(def);
    ifc.routes.push_back(def);
  }
  platform::Rule rule;
  rule.source = Ipv4Prefix::Host(info.address);
  rule.table = ifc.table;
  rule.priority = config_.rule_priority;
  AddRule(rule);
  ifc.rule = rule;
  MIPSEC_LOG(log_, kInfo) << ifc.cfg.name << ": address " << ia.ToString() << " router "
                          << (info.router ? info.router->ToString() : std::string("none"))
                          << (info.domain.empty() ? "" : " domain " + info.domain) << ", table "
                          << ifc.table;
  if (Status s = controller_->OnAddress(now, ifc.ifindex, info); !s.ok()) {
    MIPSEC_LOG(log_, kDebug) << ifc.cfg.name << ": " << s.error().ToString();
  }
  Drain(now);
}

void MnDaemon::RemoveAddress(Ifc& ifc) {
  if (ifc.rule) {
    DeleteRule(*ifc.rule);
    ifc.rule.reset();
  }
  for (auto it = ifc.routes.rbegin(); it != ifc.routes.rend(); ++it) DeleteRoute(*it);
  ifc.routes.clear();
  if (ifc.address && netlink_) {
    if (netlink_->DeleteAddress(ifc.ifindex, *ifc.address).ok()) {
      ifc.own_deletions.push_back(*ifc.address);
    }
    ifc.address.reset();
  }
  ifc.router.reset();
}

// ---- Mobile IPv4 traffic ----

void MnDaemon::OnUdpReadable(Ifc& ifc) {
  if (!ifc.mip_sock) return;
  const Timestamp now = loop_->Now();
  for (;;) {
    auto n = ifc.mip_sock->RecvBatch(rx_.slots());
    if (!n.ok() || *n == 0) break;
    for (std::size_t i = 0; i < *n; ++i) {
      const platform::Datagram& d = rx_.slots()[i];
      ++counters_.io.udp_received;
      if (d.truncated) {
        ++counters_.io.udp_truncated;
        continue;
      }
      (void)controller_->OnUdp(now, mip4d::ToUdpReceived(d));
    }
    Drain(now);
  }
}

void MnDaemon::OnRawReadable(platform::LinuxRawSocket& sock) {
  const Timestamp now = loop_->Now();
  for (;;) {
    auto n = sock.RecvBatch(rx_.slots());
    if (!n.ok() || *n == 0) break;
    for (std::size_t i = 0; i < *n; ++i) {
      const platform::Datagram& d = rx_.slots()[i];
      ++counters_.io.raw_received;
      // Only our moving links, and the ESP TUN (the tunnel engine's).
      if (d.truncated || (!FindByIndex(d.ifindex) &&
                          (vpn_tun_ifindex_ == 0 || d.ifindex != vpn_tun_ifindex_))) {
        continue;
      }
      (void)controller_->OnIpPacket(now, d.ifindex, d.data());
    }
    Drain(now);
  }
}

void MnDaemon::OnTunReadable() {
  for (int i = 0; i < 256; ++i) {
    platform::PacketBuf buf{MutableByteSpan(tun_buffer_.data(), tun_buffer_.size()), 0};
    auto n = tun_->ReadBatch(std::span<platform::PacketBuf>(&buf, 1), 0);
    if (!n.ok() || *n == 0) return;
    ++counters_.tun_in;
    const Timestamp now = loop_->Now();
    Result<mn::SendVerdict> v = controller_->SendPacket(now, buf.Packet(0));
    if (!v.ok() || *v == mn::SendVerdict::kBlocked) {
      ++counters_.user_blocked;  // R13, R21, R22: nothing leaves
    } else if (*v == mn::SendVerdict::kPass) {
      // At home (RFC 5944 4.2.1): out of the home link as it is. The home
      // rule normally keeps such flows out of the TUN; this is the first
      // datagram of a flow that entered before it was installed.
      ++counters_.user_passed;
      if (std::optional<int> a = controller_->active_interface()) {
        mip4::IpTransmit t;
        t.ifindex = *a;
        t.packet = Bytes(buf.Packet(0).begin(), buf.Packet(0).end());
        if (Status s = SendIp(t); !s.ok()) ++counters_.io.send_errors;
      }
    } else {
      ++counters_.user_tunnelled;
    }
    Drain(now);
  }
}

// A whole IPv4 datagram out of a raw socket, with IP_PKTINFO carrying its
// source (so the per-interface rule picks the link's table) and the
// interface (agent_io.h explains the kernel's oif lookup).
Status MnDaemon::SendIp(const mip4::IpTransmit& t) {
  Result<ip::Ipv4Packet> pkt = ip::ParseIpv4(t.packet, {.verify_checksum = false});
  if (!pkt.ok()) return Error(Errc::kInvalidArgument, "IpTransmit: not an IPv4 packet");
  if (pkt->header.src.IsAny()) {
    Ifc* ifc = t.ifindex ? FindByIndex(*t.ifindex) : nullptr;
    if (!ifc) return Error(Errc::kInvalidArgument, "IpTransmit from 0.0.0.0 without an interface");
    MIPSEC_TRY(SendUnaddressed(*ifc, t.packet));
    ++counters_.io.raw_sent;
    return Ok{};
  }
  if (t.link_next_hop && *t.link_next_hop != pkt->header.dst && t.ifindex) {
    // RFC 3024 5.1.1 direct delivery: the datagram goes to the FA as the
    // link-layer next hop, which a raw socket cannot choose: a route does.
    EnsureNextHop(*t.ifindex, *t.link_next_hop);
  }
  platform::OutgoingDatagram d;
  d.payload = t.packet;
  d.remote = Ipv4Endpoint{pkt->header.dst, 0};
  d.source = pkt->header.src;
  d.ifindex = t.ifindex.value_or(0);
  MIPSEC_ASSIGN_OR_RETURN(std::size_t n, platform::linux_io::SendBatch(
                                             raw_.ipip->fd(), std::span(&d, 1), "raw ip send"));
  if (n == 0) return Error(Errc::kResource, "raw ip send: would block");
  ++counters_.io.raw_sent;
  return Ok{};
}

void MnDaemon::Drain(Timestamp /*now*/) {
  // Not from inside the IKE runtime's own output handling: OnIkeEvent
  // posts a drain instead.
  if (draining_ || in_ike_callback_) return;
  draining_ = true;
  for (;;) {
    bool any = false;
    while (std::optional<mip4::Transmit> t = controller_->PollTransmit()) {
      any = true;
      Status s = Ok{};
      if (auto* u = std::get_if<mip4::UdpTransmit>(&*t)) {
        // The socket of the interface it leaves from (R11: directly, never
        // through the TUN).
        Ifc* ifc = u->ifindex ? FindByIndex(*u->ifindex) : nullptr;
        if (u->ifindex && vpn_tun_ifindex_ != 0 && *u->ifindex == vpn_tun_ifindex_) {
          // The tunnel engine (mc): from the TIA, into the ESP tunnel by
          // the TIA's rule.
          platform::OutgoingDatagram d;
          d.payload = u->payload;
          d.remote = u->remote;
          d.source = u->local.address;
          d.ifindex = vpn_tun_ifindex_;
          d.ttl = u->ttl;
          s = vpn_mip_sock_ ? vpn_mip_sock_->Send(d)
                            : Status(Error(Errc::kState, "no UDP 434 socket on the ESP TUN"));
          if (s.ok()) ++counters_.io.udp_sent;
        } else if (!ifc || !ifc->mip_sock) {
          s = Error(Errc::kState, "udp transmit without a live interface");
        } else {
          if (u->local.address == config_.home_address &&
              u->remote.address == config_.home_agent) {
            // Only at home does a registration leave a link from the home
            // address for the HA: the deregistration (one through an FA
            // goes to the FA). RFC 5944 4.6: before it, the MN re-enables
            // its ARP replies for the home address there and MUST announce
            // its home address with its own link-layer address (gratuitous
            // ARP, repeated in parallel), so that the home link stops
            // sending its traffic to the HA's proxy.
            SetArpIgnore(*ifc, true);
            if (Status a = arp_->Announce(ifc->ifindex, config_.home_address); !a.ok()) {
              MIPSEC_LOG(log_, kWarning) << ifc->cfg.name << ": gratuitous ARP: "
                                         << a.error().ToString();
            }
          }
          platform::OutgoingDatagram d;
          d.payload = u->payload;
          d.remote = u->remote;
          d.source = u->local.address;
          d.ifindex = ifc->ifindex;
          d.ttl = u->ttl;
          s = ifc->mip_sock->Send(d);
          if (s.ok()) ++counters_.io.udp_sent;
        }
      } else {
        s = SendIp(std::get<mip4::IpTransmit>(*t));
      }
      if (!s.ok()) {
        ++counters_.io.send_errors;
        MIPSEC_LOG(log_, kDebug) << "send: " << s.error().ToString();
      }
    }
    while (std::optional<Bytes> d = controller_->PollDelivery()) {
      any = true;
      platform::PacketBuf buf{MutableByteSpan(d->data(), d->size()), d->size()};
      auto n = tun_->WriteBatch(std::span<const platform::PacketBuf>(&buf, 1), 0);
      if (n.ok() && *n == 1) {
        ++counters_.tun_out;
      } else {
        ++counters_.tun_write_errors;
      }
    }
    while (std::optional<mn::VpnCommand> c = controller_->PollVpnCommand()) {
      any = true;
      // R12: carried out in this same input step.
      ExecuteVpn(loop_->Now(), *c);
    }
    while (std::optional<mn::ControllerEvent> e = controller_->PollEvent()) {
      any = true;
      std::string where = "if" + std::to_string(e->ifindex);
      for (const auto& ifc : ifcs_) {
        if (ifc->ifindex == e->ifindex && e->ifindex != 0) where = ifc->cfg.name;
      }
      if (e->ifindex == tun_->ifindex() ||
          (vpn_tun_ifindex_ != 0 && e->ifindex == vpn_tun_ifindex_)) {
        where = "tunnel";
      }
      // The controller logged it already (one line per event); kept for
      // the history, and repeated here only at debug level.
      MIPSEC_LOG(log_, kDebug) << where << ": " << e->text
                               << (e->requirement.empty() ? "" : " [" + e->requirement + "]");
      recent_.push_back(std::move(*e));
      if (recent_.size() > kRecentEvents) recent_.pop_front();
    }
    if (!any) break;
  }
  ApplyHomeRule();
  draining_ = false;
  loop_->SetDeadline(timer_, controller_->NextTimeout());
  if (stopping_) StopIfShutDown();
}

void MnDaemon::ApplyHomeRule() {
  // RFC 5944 4.2.1: at home the MN is an ordinary host of the home link:
  // flows from the home address leave by that link's table, which then
  // also holds the home prefix and the home router.
  Ifc* home = nullptr;
  for (const auto& ifc : ifcs_) {
    if (ifc->running && ifc->ifindex != 0 &&
        controller_->plane(ifc->ifindex) == mn::DataPlane::kHomeLink) {
      home = ifc.get();
    }
  }
  if (home_rule_ && (!home || home_rule_->table != home->table)) {
    DeleteRule(*home_rule_);
    home_rule_.reset();
    for (auto it = home_routes_.rbegin(); it != home_routes_.rend(); ++it) DeleteRoute(*it);
    home_routes_.clear();
  }
  if (home && !home_rule_) {
    platform::Route net;
    net.destination = Ipv4Prefix::FromAddressAndLength(config_.home_address,
                                                       config_.home_prefix_length)
                          .value_or(Ipv4Prefix::Host(config_.home_address));
    net.oif = home->ifindex;
    net.preferred_source = config_.home_address;
    net.table = home->table;
    AddRoute(net);
    home_routes_.push_back(net);
    if (config_.home_gateway) {
      platform::Route def = net;
      def.destination = Ipv4Prefix();
      def.gateway = *config_.home_gateway;
      AddRoute(def);
      home_routes_.push_back(def);
    }
    platform::Rule r;
    r.source = Ipv4Prefix::Host(config_.home_address);
    r.table = home->table;
    r.priority = config_.rule_priority;
    AddRule(r);
    home_rule_ = r;
  }
  // RFC 5944 4.6: ARP for the home address answered only where allowed.
  for (const auto& ifc : ifcs_) {
    if (ifc->running && ifc->ifindex != 0) SetArpIgnore(*ifc, AnswersArpForHome(*ifc));
  }
  // The FA next hop (mode f) only while that interface carries user data
  // through its FA.
  if (next_hop_ && (controller_->mode() != "f" || !controller_->active_interface() ||
                    *controller_->active_interface() != next_hop_route_.oif)) {
    DeleteRule(*next_hop_);
    next_hop_.reset();
    DeleteRoute(next_hop_route_);
  }
  // The mode, as an operator reads it.
  std::string mode(controller_->mode());
  std::optional<int> active = controller_->active_interface();
  if (mode != logged_mode_ || active != logged_active_) {
    std::string where = "-";
    for (const auto& ifc : ifcs_) {
      if (active && ifc->ifindex == *active) where = ifc->cfg.name;
    }
    MIPSEC_LOG(log_, kNotice) << "data plane: "
                              << (mode.empty() ? std::string("blocked (no interface may carry "
                                                             "user data)")
                                               : "mode " + mode + " on " + where);
    logged_mode_ = mode;
    logged_active_ = active;
  }
}

// RFC 5944 4.6: the MN answers ARP for its home address on its home link
// (at home, and from the moment its deregistration there is under way),
// and away from home only to a foreign agent it registers or is registered
// through (the FA delivers the reply and the tunnelled datagrams to the
// home address on that link). Linux cannot tell the FA's unicast requests
// from others', so such a link answers them all.
bool MnDaemon::AnswersArpForHome(const Ifc& ifc) const {
  const mn::IfState st = controller_->state(ifc.ifindex);
  if (st == mn::IfState::kHome || controller_->plane(ifc.ifindex) == mn::DataPlane::kHomeLink) {
    return true;
  }
  const mip4::MobileNodeRegistration* e = controller_->engine(ifc.ifindex);
  if (e == nullptr) return false;
  const bool heard_ha = std::any_of(
      e->discovery().agents().begin(), e->discovery().agents().end(),
      [&](const mip4::AgentInfo& a) { return a.ifindex == ifc.ifindex && a.is_our_home_agent; });
  if (heard_ha && e->pending_kind() == mip4::AttemptKind::kDeregister) return true;
  if (!config_.use_foreign_agents ||
      (st != mn::IfState::kInsideC && st != mn::IfState::kInsideF)) {
    return false;
  }
  if (e->binding() && e->binding()->foreign_agent && e->binding()->ifindex == ifc.ifindex) {
    return true;
  }
  return std::any_of(
      e->discovery().agents().begin(), e->discovery().agents().end(),
      [&](const mip4::AgentInfo& a) { return a.ifindex == ifc.ifindex && a.is_foreign_agent(); });
}

// arp_ignore 1: ARP answered only for addresses of the receiving interface
// (not the home address on the TUN); 0: for every local address. sysctls_
// records every change and undoes them backwards at exit, which ends at the
// value the interface had before us.
void MnDaemon::SetArpIgnore(Ifc& ifc, bool answer_home) {
  const int want = answer_home ? 0 : 1;
  if (ifc.arp_ignore == want) return;
  const std::string path = "/proc/sys/net/ipv4/conf/" + ifc.cfg.name + "/arp_ignore";
  if (Status s = sysctls_.Set(path, std::to_string(want)); !s.ok()) {
    MIPSEC_LOG(log_, kWarning) << ifc.cfg.name << ": " << s.error().detail();
    return;
  }
  ifc.arp_ignore = want;
  MIPSEC_LOG(log_, kDebug) << ifc.cfg.name << ": ARP for the home address "
                           << (answer_home ? "answered" : "not answered") << " (arp_ignore "
                           << want << ")";
}

void MnDaemon::EnsureNextHop(int ifindex, Ipv4Address next_hop) {
  if (next_hop_ && next_hop_route_.oif == ifindex && next_hop_route_.gateway == next_hop) return;
  if (next_hop_) {
    DeleteRule(*next_hop_);
    next_hop_.reset();
    DeleteRoute(next_hop_route_);
  }
  // A table of its own after the interfaces' (config: table_base + 64
  // stays in range).
  platform::Route r;
  r.destination = Ipv4Prefix();
  r.gateway = next_hop;
  r.oif = ifindex;
  r.preferred_source = config_.home_address;
  r.table = config_.table_base + 64;
  AddRoute(r);
  next_hop_route_ = r;
  platform::Rule rule;
  rule.source = Ipv4Prefix::Host(config_.home_address);
  rule.table = r.table;
  rule.priority = config_.rule_priority;
  AddRule(rule);
  next_hop_ = rule;
  MIPSEC_LOG(log_, kInfo) << "datagrams from the home address go via the foreign agent "
                          << next_hop.ToString() << " (table " << r.table << ")";
}

// ---- The VPN (mc) ----

Status MnDaemon::InitVpn() {
  const config::VpnClientConfig& vc = config_.vpn->client;
  peer_ = config::ToInitiatorPeerConfig(vc);
  // The userspace data path carries ESP-in-UDP only (RFC 3948).
  peer_.force_encapsulation = true;
  // IKE and ESP take any local address: each datagram names the care-of
  // address it leaves from (IP_PKTINFO), whose rule keeps it on its link.
  platform::UdpOptions uo;
  uo.bind = Ipv4Endpoint{Ipv4Address::Any(), ikev2::kIkePort};
  auto ike = platform::LinuxUdpSocket::Open(uo);
  if (!ike.ok()) return Error(ike.error().code(), "IKE socket: " + ike.error().detail());
  auto dp = ikev2d::OpenTunnelDataPath(*netlink_, vc.tun_name,
                                       Ipv4Endpoint{Ipv4Address::Any(), peer_.natt_port},
                                       vc.tun_mtu);
  if (!dp.ok()) return Error(dp.error().code(), "[vpn] " + dp.error().detail());
  vpn_tun_name_ = (*dp)->tun().name();
  vpn_tun_ifindex_ = (*dp)->tun().ifindex();
  ikev2::IkeSaManagerConfig mc;  // a pure initiator
  auto rt = ikev2d::IkeRuntime::Create(*loop_, std::move(*ike), std::move(*dp), std::move(mc),
                                       random_, log_.Child("ike"), ikev2d::IkeRuntimeOptions{});
  if (!rt.ok()) return Error(rt.error().code(), "IKE runtime: " + rt.error().detail());
  ike_ = std::move(*rt);
  ike_->set_event_observer(
      [this](std::uint64_t id, const ikev2::IkeEvent& e) { OnIkeEvent(id, e); });
  ike_->set_virtual_ip_hook(
      [this](std::uint64_t id, const ikev2::VirtualIpAssigned& v) { OnVirtualIp(id, v); });
  // Registration replies and RFC 3519 tunnel data from the i-HA, decrypted.
  platform::UdpOptions u;
  u.bind = Ipv4Endpoint{Ipv4Address::Any(), mip4::kMipPort};
  u.device = vpn_tun_name_;
  u.reuse_address = true;
  u.receive_ttl = true;
  auto mip = platform::LinuxUdpSocket::Open(u);
  if (!mip.ok()) {
    return Error(mip.error().code(), "udp 434 on " + vpn_tun_name_ + ": " + mip.error().detail());
  }
  vpn_mip_sock_ = std::move(*mip);
  return Ok{};
}

Ipv4Address MnDaemon::CurrentGateway() const {
  const config::MnVpnConfig& v = *config_.vpn;
  return gateway_index_ == 0 ? v.client.gateway : v.backup_gateways[gateway_index_ - 1];
}

void MnDaemon::ExecuteVpn(Timestamp now, const mn::VpnCommand& c) {
  ++counters_.vpn_commands;
  if (!ike_) {
    ++counters_.vpn_command_errors;
    MIPSEC_LOG(log_, kWarning) << "vpn " << mn::VpnCommandKindName(c.kind)
                               << " without [vpn] (ignored)";
    return;
  }
  Status st = Ok{};
  switch (c.kind) {
    case mn::VpnCommand::Kind::kConnect:
      st = ConnectVpn(now, c);
      break;
    case mn::VpnCommand::Kind::kUpdateAddresses: {
      ikev2::IkeSa* sa = sa_id_ ? ike_->manager().Find(*sa_id_) : nullptr;
      if (sa == nullptr) {
        st = Error(Errc::kState, "no IKE SA to move");
        break;
      }
      std::string list;
      for (Ipv4Address a : c.addresses) list += (list.empty() ? "" : ",") + a.ToString();
      MIPSEC_LOG(log_, kInfo) << "vpn: addresses [" << list << "] preferred "
                              << (c.preferred ? c.preferred->ToString() : std::string("none"))
                              << " (MOBIKE, RFC 4555 3.5)";
      st = sa->UpdateLocalAddresses(now, c.addresses, c.preferred);
      ike_->Flush();
      break;
    }
    case mn::VpnCommand::Kind::kDisconnect:
      if (ikev2::IkeSa* sa = sa_id_ ? ike_->manager().Find(*sa_id_) : nullptr) {
        MIPSEC_LOG(log_, kInfo) << "vpn: disconnecting from " << sa->remote().address.ToString();
        sa->Delete(now);
        ike_->Flush();
      }
      break;
  }
  if (!st.ok()) {
    ++counters_.vpn_command_errors;
    MIPSEC_LOG(log_, kWarning) << "vpn " << mn::VpnCommandKindName(c.kind) << ": "
                               << st.error().ToString();
    if (c.kind == mn::VpnCommand::Kind::kConnect && !sa_id_) {
      // Nothing will ever answer: the controller backs off and retries.
      in_ike_callback_ = true;
      controller_->OnVpnDown(now, st.error().detail());
      in_ike_callback_ = false;
    }
  }
}

Status MnDaemon::ConnectVpn(Timestamp now, const mn::VpnCommand& c) {
  // A set-up from an old address, or an IKE SA kept while inside: replaced.
  if (sa_id_) TerminateVpn("new IKE SA from " +
                           (c.preferred ? c.preferred->ToString() : std::string("-")));
  if (!c.preferred) return Error(Errc::kInvalidArgument, "connect without a local address");
  const Ipv4Address gw = CurrentGateway();
  MIPSEC_ASSIGN_OR_RETURN(std::uint64_t id,
                          ike_->Initiate(peer_, Ipv4Endpoint{*c.preferred, ikev2::kIkePort},
                                         Ipv4Endpoint{gw, config_.vpn->client.gateway_port}));
  sa_id_ = id;
  child_up_ = false;
  vpn_reported_ = false;
  // RFC 4555 3.4: our other addresses go in IKE_AUTH.
  if (ikev2::IkeSa* sa = ike_->manager().Find(id)) {
    (void)sa->UpdateLocalAddresses(now, c.addresses, c.preferred);
    ike_->Flush();
  }
  MIPSEC_LOG(log_, kInfo) << "vpn: initiating IKE SA to " << gw.ToString() << " from "
                          << c.preferred->ToString();
  return Ok{};
}

void MnDaemon::TerminateVpn(const std::string& why) {
  restarting_vpn_ = true;
  if (ikev2::IkeSa* sa = sa_id_ ? ike_->manager().Find(*sa_id_) : nullptr) {
    sa->Terminate(ikev2::IkeDownReason::kFailed, why);
  }
  ike_->Flush();  // IkeSaDown: TIA dropped, sa_id_ cleared
  restarting_vpn_ = false;
  sa_id_.reset();
  child_up_ = false;
  vpn_reported_ = false;
  DropTia();
}

void MnDaemon::OnVirtualIp(std::uint64_t sa_id, const ikev2::VirtualIpAssigned& v) {
  if (!sa_id_ || sa_id != *sa_id_) return;
  ApplyTia(v.address);
  if (!tia_) {
    // Without its address the tunnel is useless: give the SA up.
    if (ikev2::IkeSa* sa = ike_->manager().Find(sa_id)) sa->Delete(loop_->Now());
  }
  // The observer sees this event next (OnIkeEvent), with the TIA in place.
}

void MnDaemon::ApplyTia(Ipv4Address tia) {
  if (tia_ && *tia_ == tia) return;
  DropTia();
  if (Status s = netlink_->AddAddress(vpn_tun_ifindex_, {tia, 32}); !s.ok()) {
    ++counters_.netlink_errors;
    MIPSEC_LOG(log_, kError) << "TIA " << tia.ToString() << " on " << vpn_tun_name_ << ": "
                             << s.error().ToString();
    return;
  }
  tia_ = tia;
  // Only datagrams from the TIA (the tunnel engine's) enter the ESP tunnel.
  const std::uint32_t table = config_.table_base + 65;
  for (const Ipv4Prefix& p : config_.vpn->client.routes) {
    platform::Route r;
    r.destination = p;
    r.oif = vpn_tun_ifindex_;
    r.preferred_source = tia;
    r.table = table;
    AddRoute(r);
    tia_routes_.push_back(r);
  }
  platform::Rule rule;
  rule.source = Ipv4Prefix::Host(tia);
  rule.table = table;
  rule.priority = config_.rule_priority;
  AddRule(rule);
  tia_rule_ = rule;
  MIPSEC_LOG(log_, kInfo) << "vpn: TIA " << tia.ToString() << " on " << vpn_tun_name_
                          << ", table " << table;
}

void MnDaemon::DropTia() {
  if (!netlink_) return;
  if (tia_rule_) {
    DeleteRule(*tia_rule_);
    tia_rule_.reset();
  }
  for (auto it = tia_routes_.rbegin(); it != tia_routes_.rend(); ++it) DeleteRoute(*it);
  tia_routes_.clear();
  if (tia_) {
    (void)netlink_->DeleteAddress(vpn_tun_ifindex_, {*tia_, 32});
    tia_.reset();
  }
}

void MnDaemon::OnIkeEvent(std::uint64_t sa_id, const ikev2::IkeEvent& e) {
  if (const auto* r = std::get_if<ikev2::IkeSaRekeyed>(&e)) {
    if (sa_id_ && *sa_id_ == r->old_sa_id) sa_id_ = r->new_sa_id;
    return;
  }
  if (!sa_id_ || sa_id != *sa_id_) return;
  const Timestamp now = loop_->Now();
  in_ike_callback_ = true;
  if (std::holds_alternative<ikev2::ChildSaUp>(e)) {
    child_up_ = true;
  } else if (std::holds_alternative<ikev2::ChildSaDown>(e)) {
    child_up_ = ike_->installed_children() > 0;
  } else if (const auto* pc = std::get_if<ikev2::PathConfirmed>(&e)) {
    // RFC 4555 3.5: the gateway answered on this address.
    if (vpn_reported_) controller_->OnVpnPathConfirmed(now, pc->local.address);
  } else if (const auto* down = std::get_if<ikev2::IkeSaDown>(&e)) {
    if (down->reason != ikev2::IkeDownReason::kRekeyed) {
      const bool was_up = vpn_reported_;
      sa_id_.reset();
      child_up_ = false;
      vpn_reported_ = false;
      DropTia();
      if (!restarting_vpn_) {
        bool next_gateway = false;
        if (!was_up && !config_.vpn->backup_gateways.empty()) {
          // The set-up failed: the next configured gateway gets the next
          // try (R4: a new gateway, a new TIA and a new registration).
          const Ipv4Address failed = CurrentGateway();
          gateway_index_ = (gateway_index_ + 1) % (config_.vpn->backup_gateways.size() + 1);
          next_gateway = gateway_index_ != 0;  // after a whole round: back off
          MIPSEC_LOG(log_, kNotice) << "vpn: set-up to " << failed.ToString()
                                    << " failed; next: " << CurrentGateway().ToString();
        }
        MIPSEC_LOG(log_, kNotice) << "vpn: IKE SA down: " << down->detail;
        controller_->OnVpnDown(now, down->detail, next_gateway);
      }
    }
  }
  if (!vpn_reported_ && sa_id_ && tia_ && child_up_) {
    ikev2::IkeSa* sa = ike_->manager().Find(*sa_id_);
    if (sa != nullptr && sa->state() == ikev2::IkeSaState::kEstablished) {
      vpn_reported_ = true;
      MIPSEC_LOG(log_, kNotice) << "vpn: up, TIA " << tia_->ToString() << " gateway "
                                << sa->remote().address.ToString() << " from "
                                << sa->local().address.ToString();
      controller_->OnVpnUp(now, mn::VpnUp{*tia_, sa->remote().address, sa->local().address});
    }
  }
  in_ike_callback_ = false;
  // The controller's output (registration through the tunnel, ...) goes
  // out once the runtime is done with this event, in this same instant.
  loop_->SetDeadline(post_timer_, now);
}

void MnDaemon::OnVpnUdpReadable() {
  if (!vpn_mip_sock_) return;
  const Timestamp now = loop_->Now();
  for (;;) {
    auto n = vpn_mip_sock_->RecvBatch(rx_.slots());
    if (!n.ok() || *n == 0) break;
    for (std::size_t i = 0; i < *n; ++i) {
      const platform::Datagram& d = rx_.slots()[i];
      ++counters_.io.udp_received;
      if (d.truncated) {
        ++counters_.io.udp_truncated;
        continue;
      }
      mip4::UdpReceived rx = mip4d::ToUdpReceived(d);
      rx.ifindex = vpn_tun_ifindex_;  // the controller's tunnel pseudo-interface
      (void)controller_->OnUdp(now, rx);
    }
    Drain(now);
  }
}

// ---- Host changes ----

void MnDaemon::AddRoute(const platform::Route& r) {
  if (Status s = netlink_->ReplaceRoute(r); !s.ok()) {
    ++counters_.netlink_errors;
    MIPSEC_LOG(log_, kWarning) << s.error().ToString();
  }
}

void MnDaemon::DeleteRoute(const platform::Route& r) {
  if (Status s = netlink_->DeleteRoute(r); !s.ok()) {
    MIPSEC_LOG(log_, kDebug) << s.error().ToString();
  }
}

void MnDaemon::AddRule(const platform::Rule& r) {
  if (Status s = netlink_->AddRule(r); !s.ok()) {
    ++counters_.netlink_errors;
    MIPSEC_LOG(log_, kWarning) << s.error().ToString();
  }
}

void MnDaemon::DeleteRule(const platform::Rule& r) {
  if (Status s = netlink_->DeleteRule(r); !s.ok()) {
    MIPSEC_LOG(log_, kDebug) << s.error().ToString();
  }
}

void MnDaemon::SetLogLevel(LogLevel level) {
  log_.set_min_level(level);
  controller_->set_log_level(level);
  for (auto& ifc : ifcs_) {
    if (ifc->dhcp) ifc->dhcp->set_log_level(level);
  }
}

// ---- Queries ----

MnStatus MnDaemon::status() const {
  MnStatus s;
  s.mode = std::string(controller_->mode());
  s.home_address = config_.home_address;
  s.home_agent = config_.home_agent;
  s.tun = tun_->name();
  s.tun_ifindex = tun_->ifindex();
  s.vpn_configured = config_.vpn.has_value();
  s.vpn = controller_->vpn();
  s.shutting_down = controller_->shutting_down();
  s.now = loop_->Now();
  s.realtime_ns = platform::RealtimeNanos();
  s.started = started_;
  for (const auto& ifc : ifcs_) {
    MnInterfaceStatus i;
    i.name = ifc->cfg.name;
    i.ifindex = ifc->ifindex;
    i.running = ifc->running;
    i.state = ifc->ifindex ? controller_->state(ifc->ifindex) : mn::IfState::kDown;
    i.plane = ifc->ifindex ? controller_->plane(ifc->ifindex) : mn::DataPlane::kBlocked;
    if (ifc->address) {
      i.address = ifc->address->address;
      i.prefix_length = ifc->address->prefix_length;
    }
    i.router = ifc->router;
    i.dhcp = ifc->cfg.address ? std::string("static")
             : ifc->dhcp      ? std::string(dhcp::ClientStateName(ifc->dhcp->state()))
                              : std::string("stopped");
    i.table = ifc->table;
    if (controller_->active_interface() && *controller_->active_interface() == ifc->ifindex) {
      s.active = ifc->cfg.name;
    }
    s.interfaces.push_back(std::move(i));
  }
  s.controller = controller_->counters();
  s.daemon = counters_;
  s.recent.assign(recent_.begin(), recent_.end());
  return s;
}

std::string MnDaemon::CountersLine() const {
  const mn::ControllerCounters& c = controller_->counters();
  std::string s = "mode " + std::string(controller_->mode().empty() ? "-" : controller_->mode());
  s += " probes " + std::to_string(c.probes) + " sent " + std::to_string(c.sent) + " passed " +
       std::to_string(c.passed) + " blocked " + std::to_string(c.blocked) + " delivered " +
       std::to_string(c.delivered) + " | tun_in " + std::to_string(counters_.tun_in) +
       " tun_out " + std::to_string(counters_.tun_out) + " udp_in " +
       std::to_string(counters_.io.udp_received) + " udp_out " +
       std::to_string(counters_.io.udp_sent) + " raw_in " +
       std::to_string(counters_.io.raw_received) + " raw_out " +
       std::to_string(counters_.io.raw_sent) + " send_errors " +
       std::to_string(counters_.io.send_errors) + " dhcp_out " +
       std::to_string(counters_.dhcp_sent) + " dhcp_in " + std::to_string(counters_.dhcp_received);
  return s;
}

}  // namespace mipsec::mnd
