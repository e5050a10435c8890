// tun_udp_forwarder: carries IP packets between a TUN device and a UDP peer.
//
// The smallest real program on the platform layer (epoll loop, TUN, UDP,
// netlink, signals), used by the end-to-end namespace test beside it: two of
// these, one per namespace, make a point-to-point tunnel that `ping` crosses.
//
//   tun_udp_forwarder --tun mt0 --address 172.31.0.1/24
//                     --local 10.200.0.1:40000 --peer 10.200.0.2:40000
//
// Prints "ready" once the TUN is up and the socket bound, and on SIGTERM or
// SIGINT a summary line "tun->udp N udp->tun M dropped D".
#include <csignal>
#include <cstdio>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/ip/address.h"
#include "platform/linux/epoll_event_loop.h"
#include "platform/linux/netlink.h"
#include "platform/linux/tun_device.h"
#include "platform/linux/udp_socket.h"

namespace {

using namespace mipsec;
using namespace mipsec::platform;

int Fail(const char* what, const Error& e) {
  std::fprintf(stderr, "tun_udp_forwarder: %s: %s\n", what, e.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string tun_name, address_text, local_text, peer_text;
  std::uint32_t mtu = 1400;
  CLI::App app{"Carry IP packets between a TUN device and a UDP peer", "tun_udp_forwarder"};
  app.add_option("--tun", tun_name, "TUN device name")->required();
  app.add_option("--address", address_text, "Address of the TUN, a.b.c.d/len")->required();
  app.add_option("--local", local_text, "Local UDP endpoint a.b.c.d:port")->required();
  app.add_option("--peer", peer_text, "Peer UDP endpoint a.b.c.d:port")->required();
  app.add_option("--mtu", mtu, "TUN MTU")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  Result<InterfaceAddress> address = InterfaceAddress::Parse(address_text);
  if (!address.ok()) return Fail("--address", address.error());
  Result<Ipv4Endpoint> local = Ipv4Endpoint::Parse(local_text);
  if (!local.ok()) return Fail("--local", local.error());
  Result<Ipv4Endpoint> peer = Ipv4Endpoint::Parse(peer_text);
  if (!peer.ok()) return Fail("--peer", peer.error());

  auto loop = EpollEventLoop::Create();
  if (!loop.ok()) return Fail("event loop", loop.error());
  auto netlink = LinuxNetlink::Open();
  if (!netlink.ok()) return Fail("netlink", netlink.error());
  auto tun = LinuxTunDevice::Create(tun_name);
  if (!tun.ok()) return Fail("tun", tun.error());
  Status cfg = ConfigureInterface(**netlink, (*tun)->ifindex(), *address, mtu);
  if (!cfg.ok()) return Fail("configure tun", cfg.error());
  UdpOptions uo;
  uo.bind = *local;
  auto udp = LinuxUdpSocket::Open(uo);
  if (!udp.ok()) return Fail("udp", udp.error());

  constexpr std::size_t kBatch = 32;
  constexpr std::size_t kBufSize = 65536;
  std::vector<std::vector<std::uint8_t>> storage(kBatch, std::vector<std::uint8_t>(kBufSize));
  std::uint64_t tun_to_udp = 0, udp_to_tun = 0, dropped = 0;

  Status reg = (*loop)->RegisterFd((*tun)->fd(), kReadable, [&](std::uint32_t) {
    std::vector<PacketBuf> bufs(kBatch);
    for (std::size_t i = 0; i < kBatch; ++i) bufs[i].buffer = storage[i];
    Result<std::size_t> n = (*tun)->ReadBatch(bufs, 0);
    if (!n.ok()) {
      ++dropped;
      return;
    }
    std::vector<OutgoingDatagram> out(*n);
    for (std::size_t i = 0; i < *n; ++i) {
      out[i].payload = bufs[i].Packet(0);
      out[i].remote = *peer;
    }
    for (std::size_t sent = 0; sent < out.size();) {
      Result<std::size_t> s = (*udp)->SendBatch(std::span(out).subspan(sent));
      if (!s.ok() || *s == 0) {
        ++dropped;  // the first of the rest failed: drop it, carry on
        ++sent;
        continue;
      }
      sent += *s;
      tun_to_udp += *s;
    }
  });
  if (!reg.ok()) return Fail("register tun", reg.error());

  reg = (*loop)->RegisterFd((*udp)->fd(), kReadable, [&](std::uint32_t) {
    std::vector<Datagram> dgrams(kBatch);
    for (std::size_t i = 0; i < kBatch; ++i) dgrams[i].buffer = storage[i];
    Result<std::size_t> n = (*udp)->RecvBatch(dgrams);
    if (!n.ok()) {
      ++dropped;
      return;
    }
    std::vector<PacketBuf> bufs;
    for (std::size_t i = 0; i < *n; ++i) {
      // Only the configured peer may inject packets into our TUN.
      if (dgrams[i].remote != *peer || dgrams[i].truncated) {
        ++dropped;
        continue;
      }
      bufs.push_back(PacketBuf{dgrams[i].buffer, dgrams[i].length});
    }
    Result<std::size_t> w = (*tun)->WriteBatch(bufs, 0);
    if (!w.ok()) {
      dropped += bufs.size();
      return;
    }
    udp_to_tun += *w;
    dropped += bufs.size() - *w;
  });
  if (!reg.ok()) return Fail("register udp", reg.error());

  auto stop = [&](int) { (*loop)->Stop(); };
  if (Status s = (*loop)->HandleSignal(SIGTERM, stop); !s.ok()) return Fail("signal", s.error());
  if (Status s = (*loop)->HandleSignal(SIGINT, stop); !s.ok()) return Fail("signal", s.error());

  std::printf("ready %s %s\n", (*tun)->name().c_str(), address->ToString().c_str());
  std::fflush(stdout);
  Status run = (*loop)->Run();
  std::printf("tun->udp %llu udp->tun %llu dropped %llu\n",
              static_cast<unsigned long long>(tun_to_udp),
              static_cast<unsigned long long>(udp_to_tun), static_cast<unsigned long long>(dropped));
  std::fflush(stdout);
  if (!run.ok()) return Fail("event loop", run.error());
  return 0;
}
