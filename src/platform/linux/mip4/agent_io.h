// Linux socket glue shared by the Mobile IPv4 daemons (`mipsec ha`,
// `mipsec fa`) and the MN test tool: opening a mobility agent's sockets,
// turning received datagrams into the cores' mip4::UdpReceived, and sending
// the cores' mip4::Transmit (mip4/io.h) the way the simulator does
// (sim/apps/mip4_transmit.cc), one at a time or in sendmmsg batches.
//
// Library: mip4_linux (src/platform/linux/mip4/common.cmake). Namespace
// mipsec::mip4d. Needs CAP_NET_RAW for the raw sockets and CAP_NET_BIND_SERVICE
// for port 434.
//
// Typical driver loop (see ha_daemon.cc):
//   AgentSockets s = *OpenAgentSockets(opts);
//   RecvBuffers rx(64);                        // once; no per-packet allocation
//   TransmitBatch tx;                          // once
//   on s.udp readable:
//     n = s.udp->RecvBatch(rx.slots())         // recvmmsg
//     for each of the n: core.OnUdp(now, ToUdpReceived(rx.slots()[i]));
//                        while (t = core.PollTransmit()) tx.Add(std::move(*t));
//     tx.Flush(s);                             // one sendmmsg for the UDP ones
//
// Sending semantics (mip4::Transmit, mip4/io.h), all implemented here:
//   UdpTransmit  -> the UDP socket. local.address (unless 0.0.0.0) becomes the
//                   source and ifindex the egress interface, both through an
//                   IP_PKTINFO cmsg (ipi_spec_dst, ipi_ifindex); `ttl` is an
//                   IP_TTL cmsg for that datagram only; `broadcast` needs
//                   AgentSocketOptions::udp_broadcast (SO_BROADCAST is on by
//                   default). local.port is ignored: datagrams always leave
//                   from the socket's port (434 for agents).
//   IpTransmit   -> the whole IPv4 datagram through a raw socket with
//                   IP_HDRINCL (the ipip socket, or the icmp socket when no
//                   ipip socket was opened). The kernel fills a zero source,
//                   the total length, a zero Identification and the header
//                   checksum. Without ifindex: routed by destination.
//                   With ifindex (with or without link_next_hop): sent with
//                   IP_PKTINFO ipi_ifindex, i.e. the route lookup is done
//                   with flowi4_oif = ifindex. What we rely on (Linux
//                   ip_route_output_key_hash_rcu / fib_table_lookup): routes
//                   whose nexthop is another device are skipped; a route
//                   through that device is used (its gateway, if any, like
//                   SO_BINDTODEVICE and like the simulator); when NO route
//                   through that device matches, the kernel "assumes the
//                   destination is on link" and ARPs for it there. An FA
//                   delivering to a visitor's home address (RFC 5944 4.2.2)
//                   therefore gets on-link delivery as long as no gateway
//                   route through the visited interface covers the home
//                   address (the normal case; the FA may also add a /32
//                   route dev <if> to make it explicit).
//                   link_next_hop must equal the packet's destination (the
//                   only way the cores use it); anything else is
//                   Errc::kUnsupported (a raw IP socket cannot pick a
//                   next hop different from the destination).
// Failures are returned as Status by SendTransmit; TransmitBatch::Flush
// drops a failing or would-block datagram, counts it in
// AgentSockets::counters and goes on (UDP semantics: the cores retransmit).
#ifndef MIPSEC_PLATFORM_LINUX_MIP4_AGENT_IO_H_
#define MIPSEC_PLATFORM_LINUX_MIP4_AGENT_IO_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/result.h"
#include "mip4/io.h"
#include "platform/datagram.h"
#include "platform/linux/raw_socket.h"
#include "platform/linux/udp_socket.h"

namespace mipsec::mip4d {

struct AgentSocketOptions {
  // UDP: bound to bind_address:port (port 0: ephemeral, e.g. for an MN
  // tool), always with IP_PKTINFO and IP_RECVTTL (Datagram::ttl).
  Ipv4Address bind_address = Ipv4Address::Any();
  std::uint16_t port = mip4::kMipPort;
  // SO_BINDTODEVICE for every socket opened here; empty: none. Agents with
  // several interfaces leave it empty and use ifindex per datagram.
  std::string device;
  bool udp_broadcast = true;   // SO_BROADCAST (FA replies to 255.255.255.255)
  bool reuse_address = false;  // SO_REUSEADDR on the UDP socket
  // SO_RCVBUF / SO_SNDBUF for the UDP socket (0: the kernel's default). The
  // HA asks for a few MB so that load bursts are not dropped.
  int udp_buffer_bytes = 0;

  // Raw IPv4 socket for protocol 4 (RFC 2003 IP-in-IP): receives every
  // IP-in-IP datagram addressed to this host (header included) and sends
  // every IpTransmit with IP_HDRINCL.
  bool open_ipip = true;
  // Raw ICMP socket for Agent Advertisements (type 9) and Solicitations
  // (type 10) only (ICMP_FILTER), IP_MULTICAST_TTL 1 (RFC 5944 2.3 / 2.4),
  // multicast loop off. Join 224.0.0.11 / 224.0.0.1 per interface with
  // sockets.icmp->JoinMulticast(group, ifindex).
  bool open_icmp = false;
  // With open_icmp: let Destination Unreachable (type 3) through the filter
  // too, for an encapsulator's tunnel MTU discovery (RFC 2003 5.1: the
  // Fragmentation Needed messages routers inside its tunnels send it).
  bool icmp_destination_unreachable = false;
};

// Counters for what happened below the cores.
struct AgentIoCounters {
  std::uint64_t udp_received = 0;
  std::uint64_t udp_truncated = 0;  // dropped: longer than the receive buffer
  std::uint64_t raw_received = 0;   // ipip + icmp
  std::uint64_t udp_sent = 0;
  std::uint64_t raw_sent = 0;
  std::uint64_t send_errors = 0;      // a datagram the kernel refused
  std::uint64_t send_would_block = 0; // dropped because the socket buffer was full
  std::uint64_t receive_errors = 0;   // recvmmsg failures
};

// The sockets of one agent. Move-only; the fds close with it. Unregister
// them from an EventLoop before destroying this.
struct AgentSockets {
  std::unique_ptr<platform::LinuxUdpSocket> udp;   // always
  std::unique_ptr<platform::LinuxRawSocket> ipip;  // null unless open_ipip
  std::unique_ptr<platform::LinuxRawSocket> icmp;  // null unless open_icmp
  AgentIoCounters counters;

  // The raw socket IpTransmits go through: ipip, else icmp, else null.
  platform::LinuxRawSocket* raw_sender() const {
    return ipip ? ipip.get() : icmp.get();
  }
};

// Opens and configures every socket `options` asks for. Errors name the
// socket and the step, e.g. "udp 0.0.0.0:434: bind 0.0.0.0:434: Address
// already in use"; on error nothing stays open.
Result<AgentSockets> OpenAgentSockets(const AgentSocketOptions& options);

// The core's view of a datagram received on the UDP socket: local/remote
// endpoints, ifindex, payload (borrowed from d.buffer: valid while the
// buffer is) and ttl (set when the socket reported one, i.e. d.ttl != 0).
mip4::UdpReceived ToUdpReceived(const platform::Datagram& d);

// Sends one transmit now (semantics in the file comment). A full socket
// buffer is Errc::kResource. Counts udp_sent/raw_sent on success only.
Status SendTransmit(AgentSockets& sockets, mip4::Transmit&& transmit);

// Receive buffers for RecvBatch: `count` Datagrams, each over its own
// `buffer_size` bytes (default: the largest IPv4 datagram). Allocated once;
// slots() can be passed to RecvBatch over and over (a receive resets the
// fields it fills).
class RecvBuffers {
 public:
  explicit RecvBuffers(std::size_t count = 64, std::size_t buffer_size = 65535);
  RecvBuffers(const RecvBuffers&) = delete;
  RecvBuffers& operator=(const RecvBuffers&) = delete;

  std::span<platform::Datagram> slots() { return slots_; }

 private:
  std::vector<std::uint8_t> storage_;
  std::vector<platform::Datagram> slots_;
};

// Collects the transmits of one processing round and sends them together:
// UdpTransmits with sendmmsg (one syscall per 64), IpTransmits one by one
// through the raw socket, each kind in the order added. Keeps its vectors
// between rounds (no allocation once warmed up, apart from the transmits'
// own payloads). Not thread-safe.
class TransmitBatch {
 public:
  void Add(mip4::Transmit&& transmit);
  std::size_t size() const { return udp_.size() + ip_.size(); }
  // Sends everything added since the last Flush and empties the batch.
  // Failed datagrams are dropped and counted in sockets.counters (and the
  // first error of the round is returned for logging; the rest still go).
  Status Flush(AgentSockets& sockets);

 private:
  std::vector<mip4::UdpTransmit> udp_;
  std::vector<mip4::IpTransmit> ip_;
  std::vector<platform::OutgoingDatagram> out_;
};

}  // namespace mipsec::mip4d

#endif  // MIPSEC_PLATFORM_LINUX_MIP4_AGENT_IO_H_
