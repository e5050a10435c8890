#include "platform/linux/ikev2/vpn_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <type_traits>
#include <utility>
#include <variant>

#include "platform/linux/fd.h"
#include "platform/linux/udp_socket.h"

namespace mipsec::ikev2d {

Result<Ipv4Address> SourceAddressFor(Ipv4Address destination) {
  platform::ScopedFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error(Errc::kSystem, std::string("socket: ") + std::strerror(errno));
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(ikev2::kIkePort);
  to.sin_addr.s_addr = htonl(destination.ToHostOrder());
  // connect() on a UDP socket only picks the route and the source address.
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&to), sizeof(to)) != 0) {
    return Error(Errc::kNotFound, "no route to " + destination.ToString() + ": " +
                                         std::strerror(errno));
  }
  sockaddr_in local{};
  socklen_t len = sizeof(local);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &len) != 0) {
    return Error(Errc::kSystem, std::string("getsockname: ") + std::strerror(errno));
  }
  return Ipv4Address::FromHostOrder(ntohl(local.sin_addr.s_addr));
}

VpnClient::VpnClient(const config::VpnClientConfig& config, const VpnClientOptions& options,
                     LogSink* sink)
    : config_(config),
      options_(options),
      log_(sink, "vpn", config.log_level),
      retry_delay_(options.retry_min) {}

Result<std::unique_ptr<VpnClient>> VpnClient::Create(const config::VpnClientConfig& config,
                                                     const VpnClientOptions& options,
                                                     LogSink* sink) {
  std::unique_ptr<VpnClient> c(new VpnClient(config, options, sink));
  Status st = c->Init();
  if (!st.ok()) return st.error();  // the destructor undoes what Init did
  return c;
}

Status VpnClient::Init() {
  for (const Ipv4Prefix& p : config_.routes) {
    if (p.Contains(config_.gateway)) {
      return Error(Errc::kInvalidArgument,
                   "routes: " + p.ToString() + " contains the gateway " +
                       config_.gateway.ToString() +
                       " (IKE and ESP to it would be routed into the tunnel)");
    }
  }
  follow_addresses_ = !config_.local_address;
  if (config_.local_address) {
    local_ = *config_.local_address;
  } else {
    auto src = SourceAddressFor(config_.gateway);
    if (!src.ok()) return Error(src.error().code(), "local address: " + src.error().detail());
    local_ = *src;
  }
  peer_ = config::ToInitiatorPeerConfig(config_);
  // The userspace data path carries ESP-in-UDP only (RFC 3948).
  peer_.force_encapsulation = true;

  MIPSEC_ASSIGN_OR_RETURN(loop_, platform::EpollEventLoop::Create());
  for (int sig : {SIGINT, SIGTERM}) {
    MIPSEC_TRY(loop_->HandleSignal(sig, [this](int s) {
      MIPSEC_LOG(log_, kInfo) << (s == SIGINT ? "SIGINT" : "SIGTERM") << ": shutting down";
      loop_->Stop();
    }));
  }
  MIPSEC_TRY(loop_->HandleSignal(SIGUSR1, [this](int) {
    MIPSEC_LOG(log_, kNotice) << "counters: " << CountersLine();
  }));
  MIPSEC_ASSIGN_OR_RETURN(netlink_, platform::LinuxNetlink::Open());

  // Following the host's addresses (MOBIKE), the sockets take any local
  // address and each datagram names its source.
  const Ipv4Address bind = follow_addresses_ ? Ipv4Address::Any() : local_;
  platform::UdpOptions uo;
  uo.bind = Ipv4Endpoint{bind, ikev2::kIkePort};
  auto ike = platform::LinuxUdpSocket::Open(uo);
  if (!ike.ok()) return Error(ike.error().code(), "IKE socket: " + ike.error().detail());

  auto dp = OpenTunnelDataPath(*netlink_, config_.tun_name, Ipv4Endpoint{bind, peer_.natt_port},
                               config_.tun_mtu);
  if (!dp.ok()) return dp.error();
  tun_name_ = (*dp)->tun().name();
  tun_ifindex_ = (*dp)->tun().ifindex();

  ikev2::IkeSaManagerConfig mc;  // no responder: a pure client
  MIPSEC_ASSIGN_OR_RETURN(runtime_, IkeRuntime::Create(*loop_, std::move(*ike), std::move(*dp),
                                                       std::move(mc), random_,
                                                       log_.Child("ike"), IkeRuntimeOptions{}));
  runtime_->set_event_observer(
      [this](std::uint64_t id, const ikev2::IkeEvent& e) { OnEvent(id, e); });
  runtime_->set_virtual_ip_hook(
      [this](std::uint64_t id, const ikev2::VirtualIpAssigned& v) { OnVirtualIp(id, v); });
  retry_timer_ = loop_->CreateTimer([this](Timestamp) { Connect(); });
  if (follow_addresses_) {
    auto mon = netlink_->Subscribe(platform::kLinkEvents | platform::kAddressEvents |
                                   platform::kRouteEvents);
    if (!mon.ok()) return Error(mon.error().code(), "netlink monitor: " + mon.error().detail());
    monitor_ = std::move(*mon);
    MIPSEC_TRY(loop_->RegisterFd(monitor_->fd(), EPOLLIN,
                                 [this](std::uint32_t) { OnNetlinkReadable(); }));
  }

  if (!config_.request_virtual_ip) {
    // No TIA: the routes use our own address as source from the start.
    for (const Ipv4Prefix& p : config_.routes) {
      platform::Route r;
      r.destination = p;
      r.oif = tun_ifindex_;
      r.preferred_source = local_;
      Status st = netlink_->ReplaceRoute(r);
      if (!st.ok()) {
        return Error(st.error().code(),
                     "route " + p.ToString() + " dev " + tun_name_ + ": " + st.error().detail());
      }
    }
    static_routes_ = true;
  }
  std::string routes;
  for (const auto& p : config_.routes) routes += " " + p.ToString();
  MIPSEC_LOG(log_, kInfo) << "client " << local_.ToString() << " -> gateway "
                          << config_.gateway.ToString() << ":" << config_.gateway_port << " tun "
                          << tun_name_ << " routes" << routes
                          << (config_.request_virtual_ip ? " (requesting a TIA)" : "");
  Connect();
  return Ok{};
}

void VpnClient::Connect() {
  if (stopping_ || sa_id_) return;
  if (follow_addresses_) {
    reported_ = ReadHostAddresses();
    if (reported_.preferred) local_ = *reported_.preferred;
  }
  auto id = runtime_->Initiate(peer_, Ipv4Endpoint{local_, ikev2::kIkePort},
                               Ipv4Endpoint{config_.gateway, config_.gateway_port});
  if (!id.ok()) {
    MIPSEC_LOG(log_, kError) << "initiate: " << id.error().ToString();
    if (!options_.retry) {
      failure_ = Status(id.error());
      loop_->Stop();
      return;
    }
    ScheduleReconnect();
    return;
  }
  sa_id_ = *id;
  if (follow_addresses_) {
    // RFC 4555 3.4: our other addresses go in IKE_AUTH.
    if (ikev2::IkeSa* sa = runtime_->manager().Find(*sa_id_)) {
      (void)sa->UpdateLocalAddresses(loop_->Now(), reported_.addresses, local_);
    }
  }
  MIPSEC_LOG(log_, kInfo) << "initiating IKE SA to " << config_.gateway.ToString() << " from "
                          << local_.ToString();
}

VpnClient::HostAddresses VpnClient::ReadHostAddresses() {
  HostAddresses h;
  auto links = netlink_->ListLinks();
  auto addrs = netlink_->ListAddresses(0);
  if (!links.ok() || !addrs.ok()) {
    MIPSEC_LOG(log_, kWarning) << "reading addresses: "
                               << (links.ok() ? addrs.error() : links.error()).ToString();
    return reported_;
  }
  for (const platform::AddressInfo& a : *addrs) {
    if (a.ifindex == tun_ifindex_) continue;
    const Ipv4Address ip = a.local.address;
    if (ip.IsLoopback() || ip.IsLinkLocal() || ip.IsAny() || (vip_ && ip == *vip_)) continue;
    const auto link = std::find_if(links->begin(), links->end(), [&](const platform::LinkInfo& l) {
      return l.ifindex == a.ifindex;
    });
    if (link == links->end() || !link->up || !link->running || link->loopback) continue;
    h.addresses.push_back(ip);
  }
  std::sort(h.addresses.begin(), h.addresses.end());
  h.addresses.erase(std::unique(h.addresses.begin(), h.addresses.end()), h.addresses.end());
  auto route = netlink_->LookupRoute(config_.gateway);
  if (route.ok() && route->type == platform::RouteType::kUnicast && route->oif != tun_ifindex_ &&
      !route->source.IsAny() &&
      std::binary_search(h.addresses.begin(), h.addresses.end(), route->source)) {
    h.preferred = route->source;
  }
  return h;
}

void VpnClient::OnNetlinkReadable() {
  // Everything queued is one batch: the state is read once after it.
  auto n = monitor_->Dispatch([](const platform::NetlinkEvent&) {});
  if (!n.ok()) {
    MIPSEC_LOG(log_, kWarning) << "netlink: " << n.error().ToString();
  }
  FollowAddresses();
}

void VpnClient::FollowAddresses() {
  if (stopping_) return;
  const HostAddresses now_addrs = ReadHostAddresses();
  if (now_addrs == reported_) return;  // our own routes, other links' noise
  reported_ = now_addrs;
  std::string list;
  for (Ipv4Address a : reported_.addresses) list += " " + a.ToString();
  MIPSEC_LOG(log_, kInfo) << "addresses now" << (list.empty() ? " none" : list)
                          << "; towards the gateway: "
                          << (reported_.preferred ? reported_.preferred->ToString() : "no route");
  if (!sa_id_) {
    if (reported_.preferred) {
      local_ = *reported_.preferred;
      loop_->SetDeadline(retry_timer_, loop_->Now());  // a route again: reconnect now
    }
    return;
  }
  ikev2::IkeSa* sa = runtime_->manager().Find(*sa_id_);
  if (sa == nullptr) return;
  if (sa->state() != ikev2::IkeSaState::kEstablished) {
    if (reported_.preferred && *reported_.preferred != sa->local().address) {
      Restart("local address changed during IKE SA setup");
    }
    return;
  }
  Status st = sa->UpdateLocalAddresses(loop_->Now(), reported_.addresses, reported_.preferred);
  runtime_->Flush();
  if (!st.ok()) Restart(st.error().detail());
}

void VpnClient::Restart(const std::string& why) {
  MIPSEC_LOG(log_, kNotice) << "new IKE SA: " << why;
  restarting_ = true;
  if (ikev2::IkeSa* sa = sa_id_ ? runtime_->manager().Find(*sa_id_) : nullptr) {
    sa->Terminate(ikev2::IkeDownReason::kFailed, why);
  }
  runtime_->Flush();  // IkeSaDown: TIA and routes dropped, sa_id_ cleared
  restarting_ = false;
  if (!sa_id_ && !stopping_) {
    retry_delay_ = options_.retry_min;
    loop_->SetDeadline(retry_timer_, loop_->Now());
  }
}

void VpnClient::ScheduleReconnect() {
  MIPSEC_LOG(log_, kInfo) << "reconnecting in " << retry_delay_.ToString();
  loop_->SetDeadline(retry_timer_, loop_->Now() + retry_delay_);
  retry_delay_ = std::min(retry_delay_ * 2, options_.retry_max);
}

void VpnClient::OnVirtualIp(std::uint64_t sa_id, const ikev2::VirtualIpAssigned& v) {
  if (!sa_id_ || sa_id != *sa_id_) return;
  if (vip_ && *vip_ != v.address) DropVirtualIp();
  Status st = ApplyVirtualIp(*netlink_, tun_ifindex_, v.address, config_.routes);
  if (!st.ok()) {
    // Without its address the tunnel is useless: give the SA up.
    MIPSEC_LOG(log_, kError) << "TIA " << v.address.ToString() << ": " << st.error().ToString();
    (void)RemoveVirtualIp(*netlink_, tun_ifindex_, v.address, config_.routes);
    if (ikev2::IkeSa* sa = runtime_->manager().Find(sa_id)) {
      sa->Delete(loop_->Now());
      runtime_->Flush();
    }
    return;
  }
  vip_ = v.address;
  std::ostringstream dns;
  for (const Ipv4Address& d : v.dns) dns << " " << d.ToString();
  MIPSEC_LOG(log_, kInfo) << "TIA " << v.address.ToString() << " on " << tun_name_
                          << (v.dns.empty() ? "" : " dns") << dns.str();
}

void VpnClient::DropVirtualIp() {
  if (!vip_) return;
  Status st = RemoveVirtualIp(*netlink_, tun_ifindex_, *vip_, config_.routes);
  if (!st.ok()) {
    MIPSEC_LOG(log_, kWarning) << "removing TIA: " << st.error().ToString();
  }
  vip_.reset();
}

void VpnClient::OnEvent(std::uint64_t sa_id, const ikev2::IkeEvent& e) {
  if (const auto* r = std::get_if<ikev2::IkeSaRekeyed>(&e)) {
    if (sa_id_ && *sa_id_ == r->old_sa_id) sa_id_ = r->new_sa_id;
    return;
  }
  if (std::holds_alternative<ikev2::IkeSaUp>(e)) {
    if (sa_id_ && *sa_id_ == sa_id) retry_delay_ = options_.retry_min;
    return;
  }
  if (const auto* f = std::get_if<ikev2::ChildSaFailed>(&e)) {
    (void)f;
    return;  // logged by the runtime; the IKE SA decides what happens next
  }
  const auto* down = std::get_if<ikev2::IkeSaDown>(&e);
  if (down == nullptr || !sa_id_ || *sa_id_ != sa_id) return;
  if (down->reason == ikev2::IkeDownReason::kRekeyed) return;  // IkeSaRekeyed moved us
  sa_id_.reset();
  DropVirtualIp();
  if (stopping_) return;
  MIPSEC_LOG(log_, kWarning) << "IKE SA down: " << down->detail;
  if (restarting_) return;  // Restart() reconnects at once
  if (!options_.retry) {
    failure_ = Error(Errc::kState, "IKE SA down: " + down->detail);
    loop_->Stop();
    return;
  }
  ScheduleReconnect();
}

std::string VpnClient::CountersLine() const {
  std::ostringstream o;
  o << runtime_->CountersLine() << " | tia " << (vip_ ? vip_->ToString() : "none");
  return o.str();
}

Status VpnClient::Run() {
  Status st = loop_->Run();
  stopping_ = true;
  runtime_->DeleteAll();
  const Timestamp end = loop_->Now() + options_.shutdown_grace;
  while (runtime_->size() > 0 && loop_->Now() < end) {
    (void)loop_->RunOnce(Duration::Millis(50));
  }
  runtime_->TerminateAll();
  DropVirtualIp();
  MIPSEC_LOG(log_, kInfo) << "counters: " << CountersLine();
  if (!st.ok()) return st;
  if (failure_) return *failure_;
  return Ok{};
}

VpnClient::~VpnClient() {
  stopping_ = true;
  if (runtime_) {
    runtime_->TerminateAll();
    DropVirtualIp();
  }
  if (loop_ && retry_timer_ != platform::EventLoop::kNoTimer) loop_->DestroyTimer(retry_timer_);
  runtime_.reset();  // data path stopped, TUN closed (its routes go with it)
}

}  // namespace mipsec::ikev2d
