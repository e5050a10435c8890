#include "platform/linux/netlink.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>

#include "platform/linux/sys_error.h"

namespace mipsec::platform {
namespace {

constexpr std::size_t kReceiveBufferSize = 65536;
constexpr int kAnswerGuardSeconds = 5;
constexpr int kDumpAttempts = 5;

std::string MessageName(int type) {
  switch (type) {
    case RTM_NEWLINK:
      return "RTM_NEWLINK";
    case RTM_DELLINK:
      return "RTM_DELLINK";
    case RTM_GETLINK:
      return "RTM_GETLINK";
    case RTM_NEWADDR:
      return "RTM_NEWADDR";
    case RTM_DELADDR:
      return "RTM_DELADDR";
    case RTM_GETADDR:
      return "RTM_GETADDR";
    case RTM_NEWROUTE:
      return "RTM_NEWROUTE";
    case RTM_DELROUTE:
      return "RTM_DELROUTE";
    case RTM_GETROUTE:
      return "RTM_GETROUTE";
    case RTM_NEWRULE:
      return "RTM_NEWRULE";
    case RTM_DELRULE:
      return "RTM_DELRULE";
    case RTM_GETRULE:
      return "RTM_GETRULE";
    case RTM_GETNEIGH:
      return "RTM_GETNEIGH";
    default:
      return "netlink message " + std::to_string(type);
  }
}

// Attributes of one message or nest, indexed by type (later duplicates win;
// types beyond the table are ignored).
using AttrTable = std::array<const nlattr*, 128>;

int CollectAttr(const nlattr* attr, void* data) {
  auto* table = static_cast<AttrTable*>(data);
  std::uint16_t type = mnl_attr_get_type(attr);
  if (type < table->size()) (*table)[type] = attr;
  return MNL_CB_OK;
}

AttrTable ParseAttrs(const nlmsghdr* nlh, std::size_t header_size) {
  AttrTable t{};
  mnl_attr_parse(nlh, static_cast<unsigned>(header_size), CollectAttr, &t);
  return t;
}

AttrTable ParseNested(const nlattr* nest) {
  AttrTable t{};
  mnl_attr_parse_nested(nest, CollectAttr, &t);
  return t;
}

std::optional<std::uint32_t> AttrU32(const nlattr* a) {
  if (a == nullptr || mnl_attr_get_payload_len(a) < sizeof(std::uint32_t)) return std::nullopt;
  return mnl_attr_get_u32(a);
}

// IPv4 addresses travel in network byte order.
std::optional<Ipv4Address> AttrIpv4(const nlattr* a) {
  if (auto v = AttrU32(a)) return Ipv4Address::FromHostOrder(ntohl(*v));
  return std::nullopt;
}

std::uint32_t NetworkOrder(Ipv4Address a) { return htonl(a.ToHostOrder()); }

std::string AttrString(const nlattr* a) {
  if (a == nullptr || mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0) return "";
  return mnl_attr_get_str(a);
}

bool PayloadHolds(const nlmsghdr* nlh, std::size_t size) {
  return mnl_nlmsg_get_payload_len(nlh) >= size;
}

std::optional<LinkInfo> ParseLink(const nlmsghdr* nlh) {
  if (!PayloadHolds(nlh, sizeof(ifinfomsg))) return std::nullopt;
  const auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
  AttrTable a = ParseAttrs(nlh, sizeof(ifinfomsg));
  LinkInfo l;
  l.ifindex = ifi->ifi_index;
  l.flags = ifi->ifi_flags;
  l.up = (ifi->ifi_flags & IFF_UP) != 0;
  l.running = (ifi->ifi_flags & IFF_RUNNING) != 0;
  l.loopback = (ifi->ifi_flags & IFF_LOOPBACK) != 0;
  l.name = AttrString(a[IFLA_IFNAME]);
  l.mtu = AttrU32(a[IFLA_MTU]).value_or(0);
  if (a[IFLA_LINKINFO] != nullptr)
    l.kind = AttrString(ParseNested(a[IFLA_LINKINFO])[IFLA_INFO_KIND]);
  return l;
}

std::optional<AddressInfo> ParseAddress(const nlmsghdr* nlh) {
  if (!PayloadHolds(nlh, sizeof(ifaddrmsg))) return std::nullopt;
  const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(nlh));
  if (ifa->ifa_family != AF_INET) return std::nullopt;
  AttrTable a = ParseAttrs(nlh, sizeof(ifaddrmsg));
  std::optional<Ipv4Address> local = AttrIpv4(a[IFA_LOCAL]);
  std::optional<Ipv4Address> address = AttrIpv4(a[IFA_ADDRESS]);
  if ((!local && !address) || ifa->ifa_prefixlen > 32) return std::nullopt;
  AddressInfo info;
  info.ifindex = static_cast<int>(ifa->ifa_index);
  info.local = InterfaceAddress{local ? *local : *address, ifa->ifa_prefixlen};
  // IFA_ADDRESS differs from IFA_LOCAL only on point-to-point links.
  if (local && address && *local != *address) info.peer = *address;
  info.label = AttrString(a[IFA_LABEL]);
  return info;
}

std::optional<Neighbour> ParseNeighbour(const nlmsghdr* nlh) {
  if (!PayloadHolds(nlh, sizeof(ndmsg))) return std::nullopt;
  const auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(nlh));
  if (ndm->ndm_family != AF_INET || (ndm->ndm_flags & NTF_PROXY)) return std::nullopt;
  AttrTable a = ParseAttrs(nlh, sizeof(ndmsg));
  std::optional<Ipv4Address> dst = AttrIpv4(a[NDA_DST]);
  if (!dst) return std::nullopt;
  Neighbour n;
  n.ifindex = ndm->ndm_ifindex;
  n.address = *dst;
  n.state = ndm->ndm_state;
  if (const nlattr* ll = a[NDA_LLADDR]; ll != nullptr && mnl_attr_get_payload_len(ll) == 6) {
    std::array<std::uint8_t, 6> mac{};
    std::memcpy(mac.data(), mnl_attr_get_payload(ll), mac.size());
    n.lladdr = mac;
  }
  return n;
}

RouteType FromRtnType(std::uint8_t t) {
  switch (t) {
    case RTN_UNICAST:
      return RouteType::kUnicast;
    case RTN_LOCAL:
      return RouteType::kLocal;
    case RTN_BROADCAST:
      return RouteType::kBroadcast;
    case RTN_MULTICAST:
      return RouteType::kMulticast;
    case RTN_BLACKHOLE:
      return RouteType::kBlackhole;
    case RTN_UNREACHABLE:
      return RouteType::kUnreachable;
    default:
      return RouteType::kOther;
  }
}

std::optional<Route> ParseRoute(const nlmsghdr* nlh) {
  if (!PayloadHolds(nlh, sizeof(rtmsg))) return std::nullopt;
  const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
  if (rtm->rtm_family != AF_INET) return std::nullopt;
  AttrTable a = ParseAttrs(nlh, sizeof(rtmsg));
  auto destination = Ipv4Prefix::FromAddressAndLength(
      AttrIpv4(a[RTA_DST]).value_or(Ipv4Address::Any()), rtm->rtm_dst_len);
  if (!destination.ok()) return std::nullopt;
  Route r;
  r.destination = *destination;
  r.gateway = AttrIpv4(a[RTA_GATEWAY]).value_or(Ipv4Address::Any());
  r.oif = static_cast<int>(AttrU32(a[RTA_OIF]).value_or(0));
  r.metric = AttrU32(a[RTA_PRIORITY]).value_or(0);
  r.table = AttrU32(a[RTA_TABLE]).value_or(rtm->rtm_table);
  r.preferred_source = AttrIpv4(a[RTA_PREFSRC]).value_or(Ipv4Address::Any());
  r.type = FromRtnType(rtm->rtm_type);
  r.protocol = rtm->rtm_protocol;
  return r;
}

// An IPv4 lookup rule; nullopt for other families and actions.
std::optional<Rule> ParseRule(const nlmsghdr* nlh) {
  if (!PayloadHolds(nlh, sizeof(fib_rule_hdr))) return std::nullopt;
  const auto* frh = static_cast<const fib_rule_hdr*>(mnl_nlmsg_get_payload(nlh));
  if (frh->family != AF_INET || frh->action != FR_ACT_TO_TBL) return std::nullopt;
  AttrTable a = ParseAttrs(nlh, sizeof(fib_rule_hdr));
  auto source = Ipv4Prefix::FromAddressAndLength(
      AttrIpv4(a[FRA_SRC]).value_or(Ipv4Address::Any()), frh->src_len);
  if (!source.ok()) return std::nullopt;
  Rule r;
  r.source = *source;
  r.iif = AttrString(a[FRA_IIFNAME]);
  r.table = AttrU32(a[FRA_TABLE]).value_or(frh->table);
  r.priority = AttrU32(a[FRA_PRIORITY]).value_or(0);
  return r;
}

std::optional<NetlinkEvent> ToEvent(const nlmsghdr* nlh) {
  switch (nlh->nlmsg_type) {
    case RTM_NEWLINK:
      if (auto l = ParseLink(nlh)) return LinkChanged{std::move(*l)};
      break;
    case RTM_DELLINK:
      if (auto l = ParseLink(nlh)) return LinkRemoved{l->ifindex, l->name};
      break;
    case RTM_NEWADDR:
      if (auto a = ParseAddress(nlh)) return AddressAdded{std::move(*a)};
      break;
    case RTM_DELADDR:
      if (auto a = ParseAddress(nlh)) return AddressRemoved{std::move(*a)};
      break;
    case RTM_NEWROUTE:
    case RTM_DELROUTE:
      if (auto r = ParseRoute(nlh)) {
        // The kernel's per-destination cache entries are not routes.
        const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
        if (rtm->rtm_flags & RTM_F_CLONED) break;
        return RouteChanged{nlh->nlmsg_type == RTM_DELROUTE, std::move(*r)};
      }
      break;
    default:
      break;
  }
  return std::nullopt;
}

// The kernel's text for a refusal (extended ack, NLMSGERR_ATTR_MSG), if any.
std::string ExtendedAckMessage(const nlmsghdr* nlh) {
  if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return "";
  const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
  std::size_t offset = sizeof(nlmsgerr);
  if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - sizeof(nlmsghdr);
  if (mnl_nlmsg_get_payload_len(nlh) <= offset) return "";
  return AttrString(ParseAttrs(nlh, offset)[NLMSGERR_ATTR_MSG]);
}

// A request buffer: one message, small attributes only.
struct RequestBuffer {
  alignas(nlmsghdr) std::uint8_t bytes[4096];
  RequestBuffer() { std::memset(bytes, 0, sizeof bytes); }
  nlmsghdr* Header(std::uint16_t type, std::uint16_t flags) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(bytes);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = flags;
    return nlh;
  }
};

std::string LinkName(int ifindex) { return "ifindex " + std::to_string(ifindex); }

class LinuxNetlinkMonitor final : public NetlinkMonitor {
 public:
  explicit LinuxNetlinkMonitor(mnl_socket* nl) : nl_(nl), buf_(kReceiveBufferSize) {}
  ~LinuxNetlinkMonitor() override { mnl_socket_close(nl_); }
  LinuxNetlinkMonitor(const LinuxNetlinkMonitor&) = delete;
  LinuxNetlinkMonitor& operator=(const LinuxNetlinkMonitor&) = delete;

  int fd() const override { return mnl_socket_get_fd(nl_); }

  Result<std::size_t> Dispatch(const std::function<void(const NetlinkEvent&)>& on_event) override {
    std::size_t delivered = 0;
    // Bounded, so a flood of notifications cannot starve the loop; the fd
    // stays readable and the next round continues.
    for (int reads = 0; reads < 64; ++reads) {
      ssize_t n = recv(fd(), buf_.data(), buf_.size(), MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        if (errno == ENOBUFS) {  // overrun: the kernel dropped notifications
          on_event(EventsLost{});
          ++delivered;
          continue;
        }
        return SysError("netlink monitor recv");
      }
      int len = static_cast<int>(n);
      for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf_.data()); mnl_nlmsg_ok(nlh, len);
           nlh = mnl_nlmsg_next(nlh, &len)) {
        if (auto ev = ToEvent(nlh)) {
          on_event(*ev);
          ++delivered;
        }
      }
    }
    return delivered;
  }

 private:
  mnl_socket* nl_;
  std::vector<std::uint8_t> buf_;
};

}  // namespace

Result<std::unique_ptr<LinuxNetlink>> LinuxNetlink::Open() {
  mnl_socket* nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (nl == nullptr) return SysError("netlink socket (NETLINK_ROUTE)");
  std::unique_ptr<LinuxNetlink> self(new LinuxNetlink(nl));
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) return SysError("netlink bind");
  int one = 1;
  // Best effort: older kernels answer without the reason text.
  mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof one);
  mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof one);
  timeval guard{kAnswerGuardSeconds, 0};
  if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof guard) != 0) {
    return SysError("netlink setsockopt(SO_RCVTIMEO)");
  }
  return self;
}

LinuxNetlink::LinuxNetlink(mnl_socket* nl)
    : nl_(nl), seq_(static_cast<std::uint32_t>(time(nullptr))) {}

LinuxNetlink::~LinuxNetlink() { mnl_socket_close(nl_); }

Status LinuxNetlink::Transact(void* buf, const std::string& what, const MessageFn& on_message,
                              const std::function<void()>& on_restart) {
  auto* req = static_cast<nlmsghdr*>(buf);
  const bool dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  req->nlmsg_flags |= NLM_F_REQUEST;
  if (!dump) req->nlmsg_flags |= NLM_F_ACK;
  const std::uint32_t portid = mnl_socket_get_portid(nl_);
  std::vector<std::uint8_t> rbuf(kReceiveBufferSize);

  for (int attempt = 0; attempt < kDumpAttempts; ++attempt) {
    req->nlmsg_seq = ++seq_;
    if (mnl_socket_sendto(nl_, req, req->nlmsg_len) < 0)
      return SysError("netlink " + what + ": send");
    bool interrupted = false;
    bool done = false;
    while (!done) {
      ssize_t n = mnl_socket_recvfrom(nl_, rbuf.data(), rbuf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          return Error(Errc::kTimeout, "netlink " + what + ": no answer from the kernel within " +
                                           std::to_string(kAnswerGuardSeconds) + "s");
        }
        return SysError("netlink " + what + ": receive");
      }
      int len = static_cast<int>(n);
      for (auto* m = reinterpret_cast<const nlmsghdr*>(rbuf.data()); mnl_nlmsg_ok(m, len);
           m = mnl_nlmsg_next(m, &len)) {
        // Answers to an earlier request that timed out are skipped.
        if (m->nlmsg_seq != req->nlmsg_seq || m->nlmsg_pid != portid) continue;
        if (m->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
        if (m->nlmsg_type == NLMSG_ERROR) {
          if (!PayloadHolds(m, sizeof(nlmsgerr))) {
            return Error(Errc::kSystem, "netlink " + what + ": truncated NLMSG_ERROR");
          }
          int error = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(m))->error;
          if (error == 0) {  // the ack
            done = true;
            break;
          }
          std::string detail = "netlink " + what + ": " + ErrnoString(-error);
          std::string kernel = ExtendedAckMessage(m);
          if (!kernel.empty()) detail += " (kernel: " + kernel + ")";
          return Error(Errc::kSystem, std::move(detail));
        }
        if (m->nlmsg_type == NLMSG_DONE) {
          // A dump that failed half-way reports the error here.
          if (PayloadHolds(m, sizeof(int))) {
            int error;
            std::memcpy(&error, mnl_nlmsg_get_payload(m), sizeof error);
            if (error < 0)
              return Error(Errc::kSystem, "netlink " + what + ": " + ErrnoString(-error));
          }
          done = true;
          break;
        }
        if (m->nlmsg_type == NLMSG_NOOP || m->nlmsg_type == NLMSG_OVERRUN) continue;
        on_message(m);
      }
    }
    if (!interrupted) return Ok{};
    if (on_restart) on_restart();  // the dump changed under us: read it again
  }
  return Error(Errc::kSystem, "netlink " + what + ": dump interrupted " +
                                  std::to_string(kDumpAttempts) + " times in a row");
}

// --- links ---

Result<std::vector<LinkInfo>> LinuxNetlink::ListLinks() {
  RequestBuffer b;
  nlmsghdr* nlh = b.Header(RTM_GETLINK, NLM_F_DUMP);
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  std::vector<LinkInfo> links;
  MIPSEC_TRY(Transact(
      b.bytes, "RTM_GETLINK dump",
      [&](const nlmsghdr* m) {
        if (m->nlmsg_type != RTM_NEWLINK) return;
        if (auto l = ParseLink(m)) links.push_back(std::move(*l));
      },
      [&] { links.clear(); }));
  return links;
}

Result<LinkInfo> LinuxNetlink::GetLinkRequest(int ifindex, std::string_view name) {
  RequestBuffer b;
  nlmsghdr* nlh = b.Header(RTM_GETLINK, 0);
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  std::string what = "RTM_GETLINK ";
  if (!name.empty()) {
    if (name.size() >= IFNAMSIZ) {
      return Error(Errc::kInvalidArgument, "interface name too long: " + std::string(name));
    }
    mnl_attr_put_strz(nlh, IFLA_IFNAME, std::string(name).c_str());
    what += std::string(name);
  } else {
    what += LinkName(ifindex);
  }
  mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  std::optional<LinkInfo> link;
  MIPSEC_TRY(Transact(b.bytes, what, [&](const nlmsghdr* m) {
    if (m->nlmsg_type == RTM_NEWLINK) link = ParseLink(m);
  }));
  if (!link) return Error(Errc::kSystem, "netlink " + what + ": no link in the answer");
  return std::move(*link);
}

Result<LinkInfo> LinuxNetlink::GetLink(int ifindex) { return GetLinkRequest(ifindex, ""); }

Result<LinkInfo> LinuxNetlink::GetLinkByName(std::string_view name) {
  if (name.empty()) return Error(Errc::kInvalidArgument, "GetLinkByName: empty name");
  return GetLinkRequest(0, name);
}

Status LinuxNetlink::SetLinkUp(int ifindex, bool up) {
  RequestBuffer b;
  nlmsghdr* nlh = b.Header(RTM_NEWLINK, 0);
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  ifi->ifi_change = IFF_UP;
  ifi->ifi_flags = up ? IFF_UP : 0;
  return Transact(b.bytes,
                  std::string("RTM_NEWLINK set ") + (up ? "up " : "down ") + LinkName(ifindex),
                  [](const nlmsghdr*) {});
}

Status LinuxNetlink::SetMtu(int ifindex, std::uint32_t mtu) {
  RequestBuffer b;
  nlmsghdr* nlh = b.Header(RTM_NEWLINK, 0);
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
  return Transact(b.bytes, "RTM_NEWLINK mtu " + std::to_string(mtu) + " on " + LinkName(ifindex),
                  [](const nlmsghdr*) {});
}

Status LinuxNetlink::CreateVethPair(std::string_view name, std::string_view peer_name) {
  if (name.empty() || peer_name.empty() || name.size() >= IFNAMSIZ ||
      peer_name.size() >= IFNAMSIZ) {
    return Error(Errc::kInvalidArgument, "CreateVethPair: bad names '" + std::string(name) +
                                             "', '" + std::string(peer_name) + "'");
  }
  RequestBuffer b;
  nlmsghdr* nlh = b.Header(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, std::string(name).c_str());
  nlattr* linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  nlattr* peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
  // The peer is described by its own ifinfomsg followed by attributes.
  auto* peer_ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  peer_ifi->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, std::string(peer_name).c_str());
  mnl_attr_nest_end(nlh, peer);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, linkinfo);
  return Transact(b.bytes,
                  "RTM_NEWLINK veth " + std::string(name) + " peer " + std::string(peer_name),
                  [](const nlmsghdr*) {});
}

Status LinuxNetlink::DeleteLink(int ifindex) {
  RequestBuffer b;
  nlmsghdr* nlh = b.Header(RTM_DELLINK, 0);
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  return Transact(b.bytes, "RTM_DELLINK " + LinkName(ifindex), [](const nlmsghdr*) {});
}

// --- addresses ---

Result<std::vector<AddressInfo>> LinuxNetlink::ListAddresses(int ifindex) {
  RequestBuffer b;
  nlmsghdr* nlh = b.Header(RTM_GETADDR, NLM_F_DUMP);
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  ifa->ifa_family = AF_INET;
  std::vector<AddressInfo> out;
  MIPSEC_TRY(Transact(
      b.bytes, "RTM_GETADDR dump",
      [&](const nlmsghdr* m) {
        if (m->nlmsg_type != RTM_NEWADDR) return;
        auto a = ParseAddress(m);
        if (a && (ifindex == 0 || a->ifindex == ifindex)) out.push_back(std::move(*a));
      },
      [&] { out.clear(); }));
  return out;
}

// --- neighbours ---

bool Neighbour::Usable() const {
  constexpr std::uint16_t kUsable =
      NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP;
  return lladdr.has_value() && (state & kUsable) != 0;
}

Result<std::vector<Neighbour>> LinuxNetlink::ListNeighbours(int ifindex) {
  RequestBuffer b;
  nlmsghdr* nlh = b.Header(RTM_GETNEIGH, NLM_F_DUMP);
  auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  ndm->ndm_family = AF_INET;
  // Filtered here: the kernel filters a dump by interface only on sockets
  // with strict checking.
  std::vector<Neighbour> out;
  MIPSEC_TRY(Transact(
      b.bytes, "RTM_GETNEIGH dump",
      [&](const nlmsghdr* m) {
        if (m->nlmsg_type != RTM_NEWNEIGH) return;
        auto n = ParseNeighbour(m);
        if (n && (ifindex == 0 || n->ifindex == ifindex)) out.push_back(std::move(*n));
      },
      [&] { out.clear(); }));
  return out;
}

Result<std::optional<Neighbour>> LinuxNetlink::GetNeighbour(int ifindex, Ipv4Address address) {
  MIPSEC_ASSIGN_OR_RETURN(std::vector<Neighbour> all, ListNeighbours(ifindex));
  for (Neighbour& n : all) {
    if (n.address == address) return std::optional<Neighbour>(std::move(n));
  }
  return std::optional<Neighbour>();
}

Status LinuxNetlink::AddressRequest(int type, int flags, int ifindex, InterfaceAddress address) {
  if (address.prefix_length < 0 || address.prefix_length > 32) {
    return Error(Errc::kInvalidArgument,
                 "bad prefix length " + std::to_string(address.prefix_length));
  }
  RequestBuffer b;
  nlmsghdr* nlh = b.Header(static_cast<std::uint16_t>(type), static_cast<std::uint16_t>(flags));
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = static_cast<std::uint8_t>(address.prefix_length);
  // As `ip addr add`: loopback addresses are host-scoped (the kernel
  // refuses them otherwise).
  ifa->ifa_scope = address.address.IsLoopback() ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE;
  ifa->ifa_index = static_cast<unsigned>(ifindex);
  mnl_attr_put_u32(nlh, IFA_LOCAL, NetworkOrder(address.address));
  mnl_attr_put_u32(nlh, IFA_ADDRESS, NetworkOrder(address.address));
  if (type == RTM_NEWADDR && address.prefix_length <= 30) {
    mnl_attr_put_u32(nlh, IFA_BROADCAST, NetworkOrder(address.Subnet().Broadcast()));
  }
  return Transact(b.bytes,
                  MessageName(type) + " " + address.ToString() + " on " + LinkName(ifindex),
                  [](const nlmsghdr*) {});
}

Status LinuxNetlink::AddAddress(int ifindex, InterfaceAddress address) {
  return AddressRequest(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, address);
}

Status LinuxNetlink::DeleteAddress(int ifindex, InterfaceAddress address) {
  return AddressRequest(RTM_DELADDR, 0, ifindex, address);
}

// --- routes ---

Result<std::vector<Route>> LinuxNetlink::ListRoutes(std::uint32_t table) {
  RequestBuffer b;
  nlmsghdr* nlh = b.Header(RTM_GETROUTE, NLM_F_DUMP);
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = AF_INET;
  std::vector<Route> out;
  MIPSEC_TRY(Transact(
      b.bytes, "RTM_GETROUTE dump",
      [&](const nlmsghdr* m) {
        if (m->nlmsg_type != RTM_NEWROUTE) return;
        const auto* r = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(m));
        if (PayloadHolds(m, sizeof(rtmsg)) && (r->rtm_flags & RTM_F_CLONED)) return;
        auto route = ParseRoute(m);
        if (route && route->table == table) out.push_back(std::move(*route));
      },
      [&] { out.clear(); }));
  return out;
}

Status LinuxNetlink::RouteRequest(int type, int flags, const Route& route) {
  RequestBuffer b;
  nlmsghdr* nlh = b.Header(static_cast<std::uint16_t>(type), static_cast<std::uint16_t>(flags));
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = static_cast<std::uint8_t>(route.destination.length());
  rtm->rtm_table = static_cast<std::uint8_t>(route.table < 256 ? route.table : RT_TABLE_UNSPEC);
  if (type == RTM_DELROUTE) {
    // As `ip route del`: any scope, protocol and type match.
    rtm->rtm_scope = RT_SCOPE_NOWHERE;
  } else {
    rtm->rtm_protocol = route.protocol;
    rtm->rtm_type = route.type == RouteType::kOther ? static_cast<std::uint8_t>(RTN_UNICAST)
                                                    : static_cast<std::uint8_t>(route.type);
    if (route.type == RouteType::kLocal) {
      rtm->rtm_scope = RT_SCOPE_HOST;
    } else if (route.type == RouteType::kUnicast && route.gateway.IsAny()) {
      rtm->rtm_scope = RT_SCOPE_LINK;  // directly connected
    } else {
      rtm->rtm_scope = RT_SCOPE_UNIVERSE;
    }
  }
  mnl_attr_put_u32(nlh, RTA_TABLE, route.table);
  if (route.destination.length() > 0) {
    mnl_attr_put_u32(nlh, RTA_DST, NetworkOrder(route.destination.address()));
  }
  if (!route.gateway.IsAny()) mnl_attr_put_u32(nlh, RTA_GATEWAY, NetworkOrder(route.gateway));
  if (route.oif != 0) mnl_attr_put_u32(nlh, RTA_OIF, static_cast<std::uint32_t>(route.oif));
  if (route.metric != 0) mnl_attr_put_u32(nlh, RTA_PRIORITY, route.metric);
  if (!route.preferred_source.IsAny()) {
    mnl_attr_put_u32(nlh, RTA_PREFSRC, NetworkOrder(route.preferred_source));
  }
  return Transact(b.bytes, MessageName(type) + " " + route.ToString(), [](const nlmsghdr*) {});
}

Status LinuxNetlink::AddRoute(const Route& route) {
  return RouteRequest(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, route);
}

Status LinuxNetlink::ReplaceRoute(const Route& route) {
  return RouteRequest(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, route);
}

Status LinuxNetlink::DeleteRoute(const Route& route) {
  return RouteRequest(RTM_DELROUTE, 0, route);
}

Result<RouteLookup> LinuxNetlink::LookupRoute(Ipv4Address destination, Ipv4Address source,
                                              int oif) {
  RequestBuffer b;
  nlmsghdr* nlh = b.Header(RTM_GETROUTE, 0);
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = 32;
  mnl_attr_put_u32(nlh, RTA_DST, NetworkOrder(destination));
  std::string what = "RTM_GETROUTE " + destination.ToString();
  if (!source.IsAny()) {
    rtm->rtm_src_len = 32;
    mnl_attr_put_u32(nlh, RTA_SRC, NetworkOrder(source));
    what += " from " + source.ToString();
  }
  if (oif != 0) {
    mnl_attr_put_u32(nlh, RTA_OIF, static_cast<std::uint32_t>(oif));
    what += " oif " + LinkName(oif);
  }
  std::optional<Route> answer;
  MIPSEC_TRY(Transact(b.bytes, what, [&](const nlmsghdr* m) {
    if (m->nlmsg_type == RTM_NEWROUTE) answer = ParseRoute(m);
  }));
  if (!answer) return Error(Errc::kSystem, "netlink " + what + ": no route in the answer");
  RouteLookup r;
  r.type = answer->type;
  r.oif = answer->oif;
  r.gateway = answer->gateway;
  // Asked "as if from `source`", the kernel does not repeat it as prefsrc.
  r.source = answer->preferred_source.IsAny() ? source : answer->preferred_source;
  r.table = answer->table;
  return r;
}

// --- policy rules ---

Result<std::vector<Rule>> LinuxNetlink::ListRules() {
  RequestBuffer b;
  nlmsghdr* nlh = b.Header(RTM_GETRULE, NLM_F_DUMP);
  auto* frh = static_cast<fib_rule_hdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(fib_rule_hdr)));
  frh->family = AF_INET;
  std::vector<Rule> out;
  MIPSEC_TRY(Transact(
      b.bytes, "RTM_GETRULE dump",
      [&](const nlmsghdr* m) {
        if (m->nlmsg_type != RTM_NEWRULE) return;
        if (auto r = ParseRule(m)) out.push_back(std::move(*r));
      },
      [&] { out.clear(); }));
  return out;
}

Status LinuxNetlink::RuleRequest(int type, int flags, const Rule& rule) {
  if (rule.iif.size() >= IFNAMSIZ) {
    return Error(Errc::kInvalidArgument, "rule iif name too long: " + rule.iif);
  }
  RequestBuffer b;
  nlmsghdr* nlh = b.Header(static_cast<std::uint16_t>(type), static_cast<std::uint16_t>(flags));
  auto* frh = static_cast<fib_rule_hdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(fib_rule_hdr)));
  frh->family = AF_INET;
  frh->action = FR_ACT_TO_TBL;
  frh->src_len = static_cast<std::uint8_t>(rule.source.length());
  frh->table = static_cast<std::uint8_t>(rule.table < 256 ? rule.table : RT_TABLE_UNSPEC);
  mnl_attr_put_u32(nlh, FRA_TABLE, rule.table);
  mnl_attr_put_u32(nlh, FRA_PRIORITY, rule.priority);
  if (rule.source.length() > 0) {
    mnl_attr_put_u32(nlh, FRA_SRC, NetworkOrder(rule.source.address()));
  }
  if (!rule.iif.empty()) mnl_attr_put_strz(nlh, FRA_IIFNAME, rule.iif.c_str());
  return Transact(b.bytes, MessageName(type) + " " + rule.ToString(), [](const nlmsghdr*) {});
}

Status LinuxNetlink::AddRule(const Rule& rule) {
  return RuleRequest(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, rule);
}

Status LinuxNetlink::DeleteRule(const Rule& rule) { return RuleRequest(RTM_DELRULE, 0, rule); }

// --- notifications ---

Result<std::unique_ptr<NetlinkMonitor>> LinuxNetlink::Subscribe(std::uint32_t groups) {
  if (groups == 0 || (groups & ~(kLinkEvents | kAddressEvents | kRouteEvents)) != 0) {
    return Error(Errc::kInvalidArgument, "Subscribe: bad group mask " + std::to_string(groups));
  }
  unsigned mask = 0;
  if (groups & kLinkEvents) mask |= RTMGRP_LINK;
  if (groups & kAddressEvents) mask |= RTMGRP_IPV4_IFADDR;
  if (groups & kRouteEvents) mask |= RTMGRP_IPV4_ROUTE;
  mnl_socket* nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (nl == nullptr) return SysError("netlink monitor socket");
  auto monitor = std::make_unique<LinuxNetlinkMonitor>(nl);
  if (mnl_socket_bind(nl, mask, MNL_SOCKET_AUTOPID) < 0) return SysError("netlink monitor bind");
  // A large buffer makes overruns (EventsLost) rare; FORCE needs
  // CAP_NET_ADMIN, the plain option is capped by rmem_max.
  int size = 1 << 20;
  if (setsockopt(monitor->fd(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) {
    setsockopt(monitor->fd(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  return std::unique_ptr<NetlinkMonitor>(std::move(monitor));
}

}  // namespace mipsec::platform
