// mip4_mn_tool: our Mobile IPv4 mobile-node registration engine
// (mip4::MobileNodeRegistration, with its mip4::AgentDiscovery) on real
// sockets, for the namespace tests of `mipsec ha` / `mipsec fa`
// (mip4_daemons_test.cc). It drives the core on an EpollEventLoop in io.h's
// call order, as src/sim/apps/mip4_mn_app.cc does in the simulator.
//
//   mip4_mn_tool --home-address 192.0.2.10 --home-agent 198.18.0.1 --spi 1000
//       --key 00112233445566778899aabbccddeeff --interface eth0
//       --mode colocated --coa 203.0.113.10 --tun mip0 --reverse-tunnel
//
// Modes:
//   colocated  RegisterColocated(coa) at start (RFC 5944 3.6.1.2, D set).
//              IP-in-IP from the HA arrives on a raw protocol-4 socket
//              (OnIpPacket), RFC 3519 Tunnel Data on UDP 434 (OnUdp); the
//              decapsulated datagrams (PollDelivery) are written into the
//              TUN `--tun`, which holds the home address as a /32 and which
//              the test routes traffic from the home address into: what the
//              kernel sends into the TUN goes to SendPacket (reverse
//              tunnelling, RFC 3024 5.4 / RFC 3519 4.4).
//   fa         Agent solicitation on --interface (RFC 5944 2.4) and, on the
//              first foreign agent's advertisement (raw ICMP socket, type
//              9), RegisterViaFa (3.6.1.1). The home address lives on the
//              interface itself and the FA is the default router (4.2.2):
//              the kernel sends and receives the data traffic, no TUN.
//
// Output: one JSON object per line on stdout (flushed) for every core event
// ({"event":"registered","code":0,"coa":"...","udp_tunnel":true,...}),
// {"event":"ready",...} once the sockets (and the TUN) exist, and
// {"event":"stats",...} on SIGUSR1 and at exit. SIGTERM/SIGINT end it (exit
// 0). Diagnostics go to stderr through the core's logger.
#include <net/if.h>
#include <signal.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <array>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/ip/ipv4.h"
#include "common/log.h"
#include "common/secret.h"
#include "crypto/random.h"
#include "mip4/io.h"
#include "mip4/mn_reg/agent_discovery.h"
#include "mip4/mn_reg/registration.h"
#include "mip4/security/ntp_time.h"
#include "mip4/security/security_association.h"
#include "platform/linux/epoll_event_loop.h"
#include "platform/linux/mip4/agent_io.h"
#include "platform/linux/netlink.h"
#include "platform/linux/stderr_sink.h"
#include "platform/linux/tun_device.h"

namespace {

using namespace mipsec;
using namespace mipsec::platform;
using json = nlohmann::json;

constexpr std::size_t kBufferSize = 65536;
constexpr std::size_t kBatch = 16;

struct ToolOptions {
  Ipv4Address home_address;
  std::string nai;
  Ipv4Address home_agent;
  std::uint32_t spi = 0;
  SecretBytes key;
  mip4::ReplayMethod replay = mip4::ReplayMethod::kTimestamp;
  std::string interface;
  int ifindex = 0;
  bool fa_mode = false;
  Ipv4Address coa;
  std::string tun;
  mip4::UdpTunnelPolicy udp_tunnel = mip4::UdpTunnelPolicy::kRequest;
  bool reverse_tunnel = false;
  std::uint16_t lifetime = 1800;
  LogLevel log_level = LogLevel::kInfo;
};

void Emit(const json& j) {
  std::string line = j.dump();
  std::fprintf(stdout, "%s\n", line.c_str());
  std::fflush(stdout);
}

json BindingJson(const mip4::MnBinding& b) {
  return json{{"coa", b.care_of_address.ToString()},
              {"home_address", b.home_address.ToString()},
              {"home_agent", b.home_agent.ToString()},
              {"via_fa", !b.co_located()},
              {"encapsulation", std::string(mip4::TunnelEncapsulationName(b.encapsulation))},
              {"udp_tunnel", b.encapsulation == mip4::TunnelEncapsulation::kUdp},
              {"udp_tunnel_forced", b.udp_tunnel_forced},
              {"reverse_tunnel", b.reverse_tunnel},
              {"tnc", b.tnc},
              {"lifetime", b.granted_lifetime},
              {"keepalive_s", b.keepalive_interval.nanos() / 1'000'000'000}};
}

class MnTool {
 public:
  static Result<std::unique_ptr<MnTool>> Create(const ToolOptions& o, StderrSink& sink);
  // The fds leave the loop before they close (event_loop.h).
  ~MnTool();
  Status Run() { return loop_->Run(); }

 private:
  explicit MnTool(const ToolOptions& o) : options_(o) {}
  Status Start(StderrSink& sink);
  void Drain(Timestamp now);
  void Send(mip4::Transmit&& t);
  void HandleEvent(Timestamp now, const mip4::MnEvent& e);
  void OnUdpReadable();
  void OnRawReadable(RawIpSocket& socket);
  void OnTunReadable();
  void EmitStats(const char* event);

  ToolOptions options_;
  std::unique_ptr<EpollEventLoop> loop_;
  crypto::SystemRandom random_;
  std::unique_ptr<mip4::MnHaSecurity> security_;
  std::unique_ptr<mip4::MobileNodeRegistration> core_;
  std::unique_ptr<Timer> timer_;
  // UDP 434 always; raw protocol 4 (co-located: IP-in-IP from the HA) or
  // raw ICMP (fa: advertisements in, solicitations out).
  mip4d::AgentSockets sockets_;
  mip4d::RecvBuffers rx_{kBatch};
  std::unique_ptr<LinuxTunDevice> tun_;
  std::vector<Bytes> tun_buffers_;
  std::vector<int> registered_fds_;
  bool fa_chosen_ = false;
  bool draining_ = false;
  // Data-path counters of the tool (the core counts its own).
  std::uint64_t tun_in_ = 0, tun_send_errors_ = 0, tun_out_ = 0, send_errors_ = 0;
  std::uint64_t input_errors_ = 0;
};

Result<std::unique_ptr<MnTool>> MnTool::Create(const ToolOptions& o, StderrSink& sink) {
  std::unique_ptr<MnTool> t(new MnTool(o));
  MIPSEC_TRY(t->Start(sink));
  return t;
}

MnTool::~MnTool() {
  if (!loop_) return;
  for (int fd : registered_fds_) (void)loop_->UnregisterFd(fd);
}

Status MnTool::Start(StderrSink& sink) {
  MIPSEC_ASSIGN_OR_RETURN(loop_, EpollEventLoop::Create());
  Logger log(&sink, "mn", options_.log_level);

  MIPSEC_ASSIGN_OR_RETURN(
      mip4::SecurityAssociation sa,
      mip4::SecurityAssociation::Create({.spi = options_.spi,
                                         .algorithm = mip4::AuthAlgorithm::kHmacMd5,
                                         .key = options_.key,
                                         .replay = options_.replay}));
  // RFC 5944 5.7: timestamps are wall-clock (NTP) time; the core maps its
  // monotonic `now` through this.
  Timestamp start = MonotonicNow();
  security_ = std::make_unique<mip4::MnHaSecurity>(std::move(sa),
                                                   mip4::WallClockMapping{start, RealtimeNanos()});

  mip4::MobileNodeConfig config;
  config.home_address = options_.home_address;
  config.nai = options_.nai;
  config.home_agent = options_.home_agent;
  config.requested_lifetime = options_.lifetime;
  config.reverse_tunnel = options_.reverse_tunnel;
  config.udp_tunnel = options_.udp_tunnel;
  MIPSEC_ASSIGN_OR_RETURN(core_,
                          mip4::MobileNodeRegistration::Create(config, *security_, random_, log));

  // UDP 434 on every address: Registration Replies to the CoA (co-located)
  // or to the home address (via an FA), and RFC 3519 Tunnel Data. fa mode:
  // RFC 5944 2.4 advertisements arrive as ICMP type 9 (to 224.0.0.1 or
  // 255.255.255.255, TTL 1), solicitations leave through the same socket.
  mip4d::AgentSocketOptions so;
  so.reuse_address = true;
  so.open_ipip = !options_.fa_mode;
  so.open_icmp = options_.fa_mode;
  MIPSEC_ASSIGN_OR_RETURN(sockets_, mip4d::OpenAgentSockets(so));
  MIPSEC_TRY(
      loop_->RegisterFd(sockets_.udp->fd(), kReadable, [this](std::uint32_t) { OnUdpReadable(); }));
  registered_fds_.push_back(sockets_.udp->fd());
  if (options_.fa_mode) {
    MIPSEC_TRY(loop_->RegisterFd(sockets_.icmp->fd(), kReadable,
                                 [this](std::uint32_t) { OnRawReadable(*sockets_.icmp); }));
    registered_fds_.push_back(sockets_.icmp->fd());
  } else {
    MIPSEC_TRY(loop_->RegisterFd(sockets_.ipip->fd(), kReadable,
                                 [this](std::uint32_t) { OnRawReadable(*sockets_.ipip); }));
    registered_fds_.push_back(sockets_.ipip->fd());
    if (!options_.tun.empty()) {
      tun_buffers_.assign(kBatch, Bytes(kBufferSize));
      MIPSEC_ASSIGN_OR_RETURN(tun_, LinuxTunDevice::Create(options_.tun));
      MIPSEC_ASSIGN_OR_RETURN(std::unique_ptr<LinuxNetlink> nl, LinuxNetlink::Open());
      MIPSEC_TRY(ConfigureInterface(*nl, tun_->ifindex(), {options_.home_address, 32}, 1400));
      MIPSEC_TRY(
          loop_->RegisterFd(tun_->fd(), kReadable, [this](std::uint32_t) { OnTunReadable(); }));
      registered_fds_.push_back(tun_->fd());
    }
  }

  auto stop = [this](int) {
    EmitStats("stopped");
    loop_->Stop();
  };
  MIPSEC_TRY(loop_->HandleSignal(SIGTERM, stop));
  MIPSEC_TRY(loop_->HandleSignal(SIGINT, stop));
  MIPSEC_TRY(loop_->HandleSignal(SIGUSR1, [this](int) { EmitStats("stats"); }));

  timer_ = std::make_unique<Timer>(*loop_, [this](Timestamp now) {
    core_->OnTimeout(now);
    Drain(now);
  });

  json ready{{"event", "ready"},
             {"mode", options_.fa_mode ? "fa" : "colocated"},
             {"ifindex", options_.ifindex}};
  if (tun_) ready["tun"] = tun_->name();
  Emit(ready);

  Timestamp now = loop_->Now();
  if (options_.fa_mode) {
    core_->StartSolicitation(now, options_.ifindex, Ipv4Address::Any(), /*new_link=*/true);
  } else {
    MIPSEC_TRY(core_->RegisterColocated(now, options_.coa, options_.ifindex));
  }
  Drain(now);
  return Ok{};
}

// io.h step 2: transmits, then deliveries, then events; commands issued
// while handling events queue more output, so loop until all is out; then
// step 3: one timer for NextTimeout().
void MnTool::Drain(Timestamp now) {
  if (draining_) return;
  draining_ = true;
  for (;;) {
    bool any = false;
    while (std::optional<mip4::Transmit> t = core_->PollTransmit()) {
      any = true;
      Send(std::move(*t));
    }
    while (std::optional<Bytes> d = core_->PollDelivery()) {
      any = true;
      if (!tun_) continue;  // fa mode never has deliveries (no tunnel ends here)
      PacketBuf buf{MutableByteSpan(d->data(), d->size()), d->size()};
      Result<std::size_t> n = tun_->WriteBatch(std::span(&buf, 1), 0);
      if (n.ok() && *n == 1) {
        ++tun_out_;
      } else {
        ++send_errors_;
      }
    }
    while (std::optional<mip4::MnEvent> e = core_->PollEvent()) {
      any = true;
      HandleEvent(now, *e);
    }
    if (!any) break;
  }
  draining_ = false;
  timer_->Set(core_->NextTimeout());
}

void MnTool::Send(mip4::Transmit&& t) {
  // mip4d::SendTransmit implements io.h's semantics: UDP with IP_PKTINFO
  // source/interface and a per-datagram IP_TTL (RFC 3024 4.1.1: 255 on a
  // request to an FA); whole datagrams (IP-in-IP to the HA, solicitations)
  // through a raw socket with IP_HDRINCL.
  Status s = mip4d::SendTransmit(sockets_, std::move(t));
  if (!s.ok()) {
    ++send_errors_;
    std::fprintf(stderr, "mip4_mn_tool: send failed: %s\n", s.error().ToString().c_str());
  }
}

void MnTool::HandleEvent(Timestamp now, const mip4::MnEvent& e) {
  json j;
  if (const auto* r = std::get_if<mip4::RegisteredEvent>(&e)) {
    j = BindingJson(r->binding);
    j["event"] = "registered";
    j["code"] = r->code;
    j["renewal"] = r->renewal;
    j["transmissions"] = r->transmissions;
  } else if (const auto* d = std::get_if<mip4::DeniedEvent>(&e)) {
    j = {{"event", "denied"},
         {"code", d->code},
         {"by", d->by == mip4::DeniedBy::kHomeAgent ? "ha" : "fa"},
         {"authenticated", d->authenticated},
         {"tnc", d->tnc},
         {"coa", d->care_of_address.ToString()},
         {"kind", std::string(mip4::AttemptKindName(d->kind))}};
  } else if (const auto* t = std::get_if<mip4::RegistrationTimeoutEvent>(&e)) {
    j = {{"event", "timeout"},
         {"coa", t->care_of_address.ToString()},
         {"transmissions", t->transmissions},
         {"kind", std::string(mip4::AttemptKindName(t->kind))}};
  } else if (const auto* dr = std::get_if<mip4::DeregisteredEvent>(&e)) {
    j = {{"event", "deregistered"}, {"coa", dr->care_of_address.ToString()}, {"tnc", dr->tnc}};
  } else if (const auto* x = std::get_if<mip4::BindingExpiredEvent>(&e)) {
    j = BindingJson(x->binding);
    j["event"] = "binding_expired";
  } else if (const auto* k = std::get_if<mip4::KeepaliveLostEvent>(&e)) {
    j = BindingJson(k->binding);
    j["event"] = "keepalive_lost";
  } else if (const auto* a = std::get_if<mip4::AgentAdvertisedEvent>(&e)) {
    const mip4::AgentInfo& agent = a->agent;
    std::optional<Ipv4Address> coa = agent.FirstCareOf();
    j = {{"event", "agent_advertised"},
         {"agent", agent.address.ToString()},
         {"ifindex", agent.ifindex},
         {"foreign_agent", agent.is_foreign_agent()},
         {"home_agent", agent.mobility().home_agent},
         {"our_home_agent", agent.is_our_home_agent},
         {"reverse_tunnel", agent.mobility().reverse_tunnel},
         {"new_agent", a->new_agent}};
    if (coa) j["coa"] = coa->ToString();
    if (a->new_agent || !fa_chosen_) Emit(j);
    // The first foreign agent heard on our interface: register through it
    // (RFC 5944 3.6.1.1: the request goes to the advertisement's source).
    if (options_.fa_mode && !fa_chosen_ && agent.ifindex == options_.ifindex &&
        agent.is_foreign_agent()) {
      Result<mip4::ForeignAgentTarget> fa = mip4::ForeignAgentTarget::From(agent);
      if (!fa.ok()) {
        Emit({{"event", "error"}, {"detail", fa.error().ToString()}});
        return;
      }
      fa_chosen_ = true;
      core_->StopSolicitation();
      Status s = core_->RegisterViaFa(now, *fa, options_.ifindex);
      json reg{{"event", "registering"},
               {"via_fa", true},
               {"agent", fa->agent_address.ToString()},
               {"coa", fa->care_of_address.ToString()}};
      if (!s.ok()) reg["error"] = s.error().ToString();
      Emit(reg);
    }
    return;
  } else if (const auto* l = std::get_if<mip4::AgentLostEvent>(&e)) {
    j = {{"event", "agent_lost"}, {"agent", l->address.ToString()}, {"ifindex", l->ifindex}};
  } else if (const auto* rb = std::get_if<mip4::AgentRebootedEvent>(&e)) {
    j = {{"event", "agent_rebooted"}, {"agent", rb->address.ToString()}};
  }
  Emit(j);
}

void MnTool::OnUdpReadable() {
  std::span<Datagram> batch = rx_.slots();
  Result<std::size_t> n = sockets_.udp->RecvBatch(batch);
  if (!n.ok()) {
    std::fprintf(stderr, "mip4_mn_tool: %s\n", n.error().ToString().c_str());
    return;
  }
  Timestamp now = loop_->Now();
  for (std::size_t i = 0; i < *n; ++i) {
    const Datagram& d = batch[i];
    if (d.truncated) continue;
    if (!core_->OnUdp(now, mip4d::ToUdpReceived(d)).ok()) ++input_errors_;
  }
  Drain(now);
}

void MnTool::OnRawReadable(RawIpSocket& socket) {
  std::span<Datagram> batch = rx_.slots();
  Result<std::size_t> n = socket.RecvBatch(batch);
  if (!n.ok()) {
    std::fprintf(stderr, "mip4_mn_tool: %s\n", n.error().ToString().c_str());
    return;
  }
  Timestamp now = loop_->Now();
  for (std::size_t i = 0; i < *n; ++i) {
    const Datagram& d = batch[i];
    if (d.truncated) continue;
    if (!core_->OnIpPacket(now, d.ifindex, d.data()).ok()) ++input_errors_;
  }
  Drain(now);
}

void MnTool::OnTunReadable() {
  std::vector<PacketBuf> bufs(kBatch);
  for (std::size_t i = 0; i < kBatch; ++i) bufs[i].buffer = MutableByteSpan(tun_buffers_[i]);
  Result<std::size_t> n = tun_->ReadBatch(bufs, 0);
  if (!n.ok()) {
    std::fprintf(stderr, "mip4_mn_tool: %s\n", n.error().ToString().c_str());
    return;
  }
  Timestamp now = loop_->Now();
  for (std::size_t i = 0; i < *n; ++i) {
    ++tun_in_;
    // What the kernel routed into the TUN (sourced from the home address):
    // reverse tunnelled or UDP tunnelled to the HA by the core.
    Status s = core_->SendPacket(now, bufs[i].Packet(0));
    if (!s.ok()) {
      ++tun_send_errors_;
      if (tun_send_errors_ <= 5) {
        std::fprintf(stderr, "mip4_mn_tool: SendPacket: %s\n", s.error().ToString().c_str());
      }
    }
  }
  Drain(now);
}

void MnTool::EmitStats(const char* event) {
  const mip4::MnCounters& c = core_->counters();
  json drops = json::object();
  for (std::size_t i = 0; i < static_cast<std::size_t>(mip4::MnDrop::kCount); ++i) {
    if (c.dropped[i] == 0) continue;
    drops[std::string(mip4::MnDropName(static_cast<mip4::MnDrop>(i)))] = c.dropped[i];
  }
  Emit({{"event", event},
        {"requests_sent", c.requests_sent},
        {"retransmissions", c.retransmissions},
        {"replies_accepted", c.replies_accepted},
        {"keepalives_sent", c.keepalives_sent},
        {"keepalive_replies", c.keepalive_replies},
        {"tunnelled_in", c.tunnelled_in},
        {"tunnelled_out", c.tunnelled_out},
        {"dropped", drops},
        {"tun_in", tun_in_},
        {"tun_out", tun_out_},
        {"tun_send_errors", tun_send_errors_},
        {"send_errors", send_errors_},
        {"input_errors", input_errors_}});
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "mip4_mn_tool: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string home_text, ha_text, key_hex, replay_text = "timestamp", mode_text = "colocated";
  std::string coa_text, udp_text = "auto", level_text = "info";
  ToolOptions o;
  CLI::App app{"Mobile IPv4 mobile node (our registration engine) on real sockets", "mip4_mn_tool"};
  app.add_option("--home-address", home_text, "Home address")->required();
  app.add_option("--home-agent", ha_text, "Home agent address")->required();
  app.add_option("--spi", o.spi, "MN-HA SPI (>= 256)")->required();
  app.add_option("--key", key_hex, "MN-HA HMAC-MD5 key, hex")->required();
  app.add_option("--replay", replay_text, "timestamp or nonce (RFC 5944 5.7)")
      ->capture_default_str();
  app.add_option("--nai", o.nai, "NAI (RFC 2794)");
  app.add_option("--interface", o.interface, "The physical interface")->required();
  app.add_option("--mode", mode_text, "colocated or fa")->capture_default_str();
  app.add_option("--coa", coa_text, "Co-located care-of address (mode colocated)");
  app.add_option("--tun", o.tun, "TUN holding the home address (mode colocated)");
  app.add_option("--udp-tunnel", udp_text, "off, auto or force (RFC 3519)")->capture_default_str();
  app.add_flag("--reverse-tunnel", o.reverse_tunnel, "Request reverse tunnelling (T, RFC 3024)");
  app.add_option("--lifetime", o.lifetime, "Requested lifetime, seconds")->capture_default_str();
  app.add_option("--log-level", level_text, "trace, debug, info, ...")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  Result<Ipv4Address> home = Ipv4Address::Parse(home_text);
  if (!home.ok()) return Fail("--home-address: " + home.error().ToString());
  o.home_address = *home;
  Result<Ipv4Address> ha = Ipv4Address::Parse(ha_text);
  if (!ha.ok()) return Fail("--home-agent: " + ha.error().ToString());
  o.home_agent = *ha;
  Result<Bytes> key = FromHex(key_hex);
  if (!key.ok()) return Fail("--key: not hexadecimal");
  o.key = SecretBytes(*key);
  Result<mip4::ReplayMethod> replay = mip4::ParseReplayMethod(replay_text);
  if (!replay.ok()) return Fail("--replay: " + replay.error().ToString());
  o.replay = *replay;
  if (mode_text == "fa") {
    o.fa_mode = true;
  } else if (mode_text != "colocated") {
    return Fail("--mode: expected colocated or fa, got " + mode_text);
  }
  if (!o.fa_mode) {
    Result<Ipv4Address> coa = Ipv4Address::Parse(coa_text);
    if (!coa.ok()) return Fail("--coa (required with --mode colocated): " + coa_text);
    o.coa = *coa;
  } else if (!o.tun.empty() || !coa_text.empty()) {
    return Fail("--tun and --coa are for --mode colocated only");
  }
  if (udp_text == "off") {
    o.udp_tunnel = mip4::UdpTunnelPolicy::kNever;
  } else if (udp_text == "auto") {
    o.udp_tunnel = mip4::UdpTunnelPolicy::kRequest;
  } else if (udp_text == "force") {
    o.udp_tunnel = mip4::UdpTunnelPolicy::kForce;
  } else {
    return Fail("--udp-tunnel: expected off, auto or force, got " + udp_text);
  }
  std::optional<LogLevel> level = ParseLogLevel(level_text);
  if (!level) return Fail("--log-level: unknown level " + level_text);
  o.log_level = *level;
  o.ifindex = static_cast<int>(if_nametoindex(o.interface.c_str()));
  if (o.ifindex == 0) return Fail("--interface: no interface " + o.interface);

  StderrSink sink;
  Result<std::unique_ptr<MnTool>> tool = MnTool::Create(o, sink);
  if (!tool.ok()) return Fail(tool.error().ToString());
  Status s = (*tool)->Run();
  if (!s.ok()) return Fail(s.error().ToString());
  return 0;
}
