// esp_datapath_tool: one end of a static-key ESP tunnel (RFC 4303 tunnel
// mode, ESP-in-UDP on port 4500 per RFC 3948) on the EspDataPath runtime
// (platform/linux/esp_datapath.h), for namespace tests and benchmarks. No
// IKE: both ends are given the same SPIs and keys (manual SAs).
//
//   esp_datapath_tool --tun esp0 --tun-address 172.30.1.1/32 --mtu 1400
//       --local 10.70.0.1 --remote 10.70.0.2 --cipher aes128gcm16
//       --out-spi 0x1001 --out-key <hex> --in-spi 0x2002 --in-key <hex>
//       --route 172.30.2.0/24
//
// Creates and configures the TUN (MTU, address, up), adds a kernel route
// for each --route prefix through the TUN (source: the TUN address) and
// makes the same prefixes the outbound SA's traffic selectors, then runs the
// two workers. Prints "ready <tun>" when traffic can flow. SIGUSR1 prints a
// "stats ..." line; SIGTERM or SIGINT prints it and exits 0.
//
// Keys are hex: --*-key is the cipher key (for GCM followed by the 4-byte
// salt: 20 bytes for aes128gcm16, 36 for aes256gcm16), --*-integ-key the
// HMAC key (32 bytes for sha256; CBC suites only).
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "esp/sa.h"
#include "platform/linux/esp_datapath.h"
#include "platform/linux/netlink.h"
#include "platform/linux/tun_device.h"

namespace {

using namespace mipsec;
using namespace mipsec::platform;

int Fail(const std::string& what, const std::string& why) {
  std::fprintf(stderr, "esp_datapath_tool: %s: %s\n", what.c_str(), why.c_str());
  return 1;
}

Result<Ipv4Endpoint> ParseEndpoint(const std::string& text) {
  if (text.find(':') != std::string::npos) return Ipv4Endpoint::Parse(text);
  MIPSEC_ASSIGN_OR_RETURN(Ipv4Address a, Ipv4Address::Parse(text));
  return Ipv4Endpoint{a, 4500};
}

Result<std::uint32_t> ParseSpi(const std::string& text) {
  try {
    std::size_t used = 0;
    unsigned long v = std::stoul(text, &used, 0);
    if (used == text.size() && v <= 0xffffffffUL) return static_cast<std::uint32_t>(v);
  } catch (...) {
  }
  return Error(Errc::kInvalidArgument, "not an SPI: " + text);
}

struct Suite {
  esp::Cipher cipher;
  esp::Integrity integrity;
};

Result<Suite> ParseSuite(const std::string& name) {
  if (name == "aes128gcm16") return Suite{esp::Cipher::kAesGcm16_128, esp::Integrity::kNone};
  if (name == "aes256gcm16") return Suite{esp::Cipher::kAesGcm16_256, esp::Integrity::kNone};
  if (name == "aes128-sha256") {
    return Suite{esp::Cipher::kAesCbc128, esp::Integrity::kHmacSha256_128};
  }
  if (name == "aes256-sha256") {
    return Suite{esp::Cipher::kAesCbc256, esp::Integrity::kHmacSha256_128};
  }
  return Error(
      Errc::kInvalidArgument,
      "unknown cipher suite " + name + " (aes128gcm16, aes256gcm16, aes128-sha256, aes256-sha256)");
}

void PrintStats(const EspDataPath& dp) {
  EspDataPathStats s = dp.Stats();
  std::string drops;
  for (std::size_t i = 1; i < esp::kDropReasonCount; ++i) {
    std::uint64_t n = s.tx.drops[i] + s.rx.drops[i];
    if (n == 0) continue;
    drops += " drop_" + std::string(esp::DropReasonName(static_cast<esp::DropReason>(i))) + "=" +
             std::to_string(n);
  }
  std::printf(
      "stats tx_batches=%llu tx_tun=%llu tx_tun_segmented=%llu tx_sent=%llu tx_sent_bytes=%llu tx_no_policy=%llu "
      "tx_send_errors=%llu tx_send_waits=%llu rx_batches=%llu rx_dgrams=%llu rx_delivered=%llu "
      "rx_delivered_bytes=%llu rx_truncated=%llu rx_tun_errors=%llu rx_tun_coalesced=%llu rx_ike=%llu "
      "rx_keepalives=%llu tx_read_ns=%llu tx_crypto_ns=%llu tx_send_ns=%llu rx_recv_ns=%llu "
      "rx_crypto_ns=%llu rx_write_ns=%llu%s\n",
      static_cast<unsigned long long>(s.tx.batches),
      static_cast<unsigned long long>(s.tx.tun_packets),
      static_cast<unsigned long long>(s.tx.tun_segmented),
      static_cast<unsigned long long>(s.tx.sent_packets),
      static_cast<unsigned long long>(s.tx.sent_bytes),
      static_cast<unsigned long long>(s.tx.no_policy),
      static_cast<unsigned long long>(s.tx.send_errors),
      static_cast<unsigned long long>(s.tx.send_waits),
      static_cast<unsigned long long>(s.rx.batches),
      static_cast<unsigned long long>(s.rx.datagrams),
      static_cast<unsigned long long>(s.rx.delivered),
      static_cast<unsigned long long>(s.rx.delivered_bytes),
      static_cast<unsigned long long>(s.rx.truncated),
      static_cast<unsigned long long>(s.rx.tun_write_errors),
      static_cast<unsigned long long>(s.rx.tun_coalesced),
      static_cast<unsigned long long>(s.rx.ike), static_cast<unsigned long long>(s.rx.keepalives),
      static_cast<unsigned long long>(s.tx.tun_read_ns),
      static_cast<unsigned long long>(s.tx.crypto_ns),
      static_cast<unsigned long long>(s.tx.send_ns), static_cast<unsigned long long>(s.rx.recv_ns),
      static_cast<unsigned long long>(s.rx.crypto_ns),
      static_cast<unsigned long long>(s.rx.tun_write_ns), drops.c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::string tun_name, tun_address_text, local_text, remote_text, suite_text = "aes128gcm16";
  std::string out_spi_text, in_spi_text, out_key_hex, in_key_hex, out_integ_hex, in_integ_hex;
  std::vector<std::string> route_texts, allow_texts;
  std::uint32_t mtu = 1400;
  std::uint32_t replay_window = esp::ReplayWindow::kDefaultSize;
  EspDataPathOptions options;
  EspDataPathLinuxConfig linux_config;
  CLI::App app{"One end of a static-key ESP-in-UDP tunnel over a TUN", "esp_datapath_tool"};
  app.add_option("--tun", tun_name, "TUN device name")->required();
  app.add_option("--tun-address", tun_address_text, "TUN address a.b.c.d/len")->required();
  app.add_option("--mtu", mtu, "TUN MTU")->capture_default_str();
  app.add_option("--local", local_text, "Local outer address[:port] (port 4500)")->required();
  app.add_option("--remote", remote_text, "Peer outer address[:port] (port 4500)")->required();
  app.add_option("--cipher", suite_text, "aes128gcm16, aes256gcm16, aes128-sha256, aes256-sha256")
      ->capture_default_str();
  app.add_option("--out-spi", out_spi_text, "Outbound SPI (the peer's inbound)")->required();
  app.add_option("--in-spi", in_spi_text, "Inbound SPI")->required();
  app.add_option("--out-key", out_key_hex, "Outbound cipher key (+ salt for GCM), hex")->required();
  app.add_option("--in-key", in_key_hex, "Inbound cipher key (+ salt for GCM), hex")->required();
  app.add_option("--out-integ-key", out_integ_hex, "Outbound HMAC key, hex (CBC suites)");
  app.add_option("--in-integ-key", in_integ_hex, "Inbound HMAC key, hex (CBC suites)");
  app.add_option("--route", route_texts, "Remote prefix routed into the tunnel (repeatable)")
      ->required();
  app.add_option("--allow-src", allow_texts, "Inner sources accepted inbound (default: any)");
  app.add_option("--replay-window", replay_window, "Anti-replay window")->capture_default_str();
  app.add_option("--batch", options.batch_size, "Packets per batch (1..64)")->capture_default_str();
  app.add_option("--tx-cpu", options.tx_cpu, "Pin the TX worker to this CPU")
      ->capture_default_str();
  app.add_option("--rx-cpu", options.rx_cpu, "Pin the RX worker to this CPU")
      ->capture_default_str();
  app.add_option("--sockbuf", linux_config.socket_buffer_bytes, "UDP socket buffer bytes")
      ->capture_default_str();
  bool no_gso = false;
  app.add_flag("--no-gso", no_gso, "Send without UDP_SEGMENT (UDP GSO)");
  bool no_gro = false;
  app.add_flag("--no-gro", no_gro, "Write to the TUN without TCP coalescing (IFF_VNET_HDR)");
  app.add_option("--txqueuelen", linux_config.tun_txqueuelen, "TUN transmit queue length")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  linux_config.udp_gso = !no_gso;
  linux_config.tun_gro = !no_gro;

  Result<InterfaceAddress> tun_address = InterfaceAddress::Parse(tun_address_text);
  if (!tun_address.ok()) return Fail("--tun-address", tun_address.error().ToString());
  Result<Ipv4Endpoint> local = ParseEndpoint(local_text);
  if (!local.ok()) return Fail("--local", local.error().ToString());
  Result<Ipv4Endpoint> remote = ParseEndpoint(remote_text);
  if (!remote.ok()) return Fail("--remote", remote.error().ToString());
  Result<Suite> suite = ParseSuite(suite_text);
  if (!suite.ok()) return Fail("--cipher", suite.error().ToString());
  Result<std::uint32_t> out_spi = ParseSpi(out_spi_text);
  if (!out_spi.ok()) return Fail("--out-spi", out_spi.error().ToString());
  Result<std::uint32_t> in_spi = ParseSpi(in_spi_text);
  if (!in_spi.ok()) return Fail("--in-spi", in_spi.error().ToString());
  std::vector<Ipv4Prefix> routes, allowed;
  for (const std::string& t : route_texts) {
    Result<Ipv4Prefix> p = Ipv4Prefix::Parse(t);
    if (!p.ok()) return Fail("--route", p.error().ToString());
    routes.push_back(*p);
  }
  for (const std::string& t : allow_texts) {
    Result<Ipv4Prefix> p = Ipv4Prefix::Parse(t);
    if (!p.ok()) return Fail("--allow-src", p.error().ToString());
    allowed.push_back(*p);
  }

  esp::SaConfig out;
  out.direction = esp::Direction::kOutbound;
  out.spi = *out_spi;
  out.cipher = suite->cipher;
  out.integrity = suite->integrity;
  out.local = *local;
  out.remote = *remote;
  out.udp_encap = true;
  esp::SaConfig in = out;
  in.direction = esp::Direction::kInbound;
  in.spi = *in_spi;
  in.local = *local;
  in.remote = *remote;
  in.replay_window = replay_window;
  in.inbound_allowed_sources = allowed;
  struct KeyArg {
    const char* flag;
    const std::string& hex;
    SecretBytes& key;
  };
  for (const KeyArg& k :
       {KeyArg{"--out-key", out_key_hex, out.enc_key}, KeyArg{"--in-key", in_key_hex, in.enc_key},
        KeyArg{"--out-integ-key", out_integ_hex, out.integ_key},
        KeyArg{"--in-integ-key", in_integ_hex, in.integ_key}}) {
    Result<Bytes> b = FromHex(k.hex);
    if (!b.ok()) return Fail(k.flag, b.error().ToString());
    k.key = SecretBytes(ByteSpan(*b));
  }

  // The workers inherit this mask; the main thread takes the signals.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGUSR1}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  options.max_inner_packet = std::max<std::size_t>(mtu, 1500);
  linux_config.tun_name = tun_name;
  linux_config.bind = Ipv4Endpoint{Ipv4Address::Any(), local->port};
  auto dp = EspDataPath::OpenLinux(linux_config, options);
  if (!dp.ok()) return Fail("data path", dp.error().ToString());
  auto netlink = LinuxNetlink::Open();
  if (!netlink.ok()) return Fail("netlink", netlink.error().ToString());
  const int ifindex = (*dp)->tun().ifindex();
  if (Status s = ConfigureInterface(**netlink, ifindex, *tun_address, mtu); !s.ok()) {
    return Fail("configure " + (*dp)->tun().name(), s.error().ToString());
  }
  for (const Ipv4Prefix& p : routes) {
    Route r;
    r.destination = p;
    r.oif = ifindex;
    r.preferred_source = tun_address->address;
    if (Status s = (*netlink)->ReplaceRoute(r); !s.ok()) {
      return Fail("route " + p.ToString(), s.error().ToString());
    }
  }
  if (Status s = (*dp)->AddInboundSa(in); !s.ok()) return Fail("inbound SA", s.error().ToString());
  if (Status s = (*dp)->SetOutboundSa(1, routes, out); !s.ok()) {
    return Fail("outbound SA", s.error().ToString());
  }
  if (Status s = (*dp)->Start(); !s.ok()) return Fail("start", s.error().ToString());

  std::printf("ready %s\n", (*dp)->tun().name().c_str());
  std::fflush(stdout);
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    PrintStats(**dp);
    if (sig != SIGUSR1) break;
  }
  (*dp)->Stop();
  return 0;
}
