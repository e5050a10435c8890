// Fuzz target: HomeAgent::OnIcmp (src/mip4/ha), the ICMP a home agent takes
// from the network: Fragmentation Needed from inside its tunnels (RFC 2003
// 5.1 tunnel MTU soft state), Agent Solicitations, anything else.
//
// One HomeAgent per input, with two bindings made by real Registration
// Requests: 10.1.0.50 at care-of address 198.51.100.7 (IP-in-IP) and
// 10.1.0.51 through a NAT, 192.0.2.200:61000 (RFC 3519 UDP tunnel). The
// input is a record:
//
//   [u8 mode][u16 mtu][u16 quote length][u16 offset][bytes...]   (big-endian)
//
//   mode & 3 == 0   an ICMP Fragmentation Needed with next-hop `mtu` from a
//                   router to the HA, quoting the first `quote length` bytes
//                   (mod 1501) of the 1500-byte IP-in-IP datagram the HA
//                   really sent for a 1480-byte DF datagram to 10.1.0.50,
//                   with `bytes` written over the quote from `offset`;
//   mode & 3 == 1   the same about the UDP tunnel's datagram;
//   mode & 3 == 2   everything after the mode byte is the ICMP message (its
//                   checksum fixed), sent from the router to the HA;
//   mode & 3 == 3   everything after the mode byte is the IPv4 datagram as
//                   is.
// Missing fields are zero, so the seeds (fuzz/corpus/mip4_ha_icmp/) are a
// few bytes each: the target builds the valid message itself.
//
// Properties: no crash or out-of-bounds access; an ICMP message that is not
// accepted (HaCounters::icmp_too_big_accepted unchanged) changes no tunnel
// MTU, sends nothing and emits no event; an accepted one lowers at most the
// tunnel it quotes, to at least 68 and below 1500, and sends at most one
// ICMP Fragmentation Needed from the HA; the bindings never change; and the
// data plane agrees with the MTU afterwards (a 1480-byte DF datagram to
// 10.1.0.50 is tunnelled exactly when that tunnel's MTU is still 1500).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include "common/bytes.h"
#include "common/ip/icmp.h"
#include "common/ip/ipv4.h"
#include "common/ip/udp.h"
#include "common/log.h"
#include "common/random.h"
#include "common/secret.h"
#include "crypto/hmac.h"
#include "fuzz_target.h"
#include "mip4/codec/builder.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/udp_tunnel_request.h"
#include "mip4/ha/home_agent.h"
#include "mip4/security/ntp_time.h"
#include "mip4/security/sa_database.h"

using namespace mipsec;        // NOLINT: a fuzz target, not library code
using namespace mipsec::mip4;  // NOLINT

namespace {

constexpr Ipv4Address kHa = Ipv4Address::FromOctets(10, 1, 0, 1);
constexpr Ipv4Address kMn = Ipv4Address::FromOctets(10, 1, 0, 50);
constexpr Ipv4Address kMn2 = Ipv4Address::FromOctets(10, 1, 0, 51);
constexpr Ipv4Address kCoa = Ipv4Address::FromOctets(198, 51, 100, 7);
constexpr Ipv4Address kNat = Ipv4Address::FromOctets(192, 0, 2, 200);
constexpr Ipv4Address kPrivateCoa = Ipv4Address::FromOctets(192, 168, 1, 20);
constexpr Ipv4Address kCn = Ipv4Address::FromOctets(10, 2, 0, 9);
constexpr Ipv4Address kRouter = Ipv4Address::FromOctets(198, 51, 100, 1);
constexpr std::uint32_t kSpi = 1000;
constexpr std::int64_t kUnixNanos = 1'704'067'200'000'000'000;  // 2024-01-01
const Timestamp kNow = Timestamp::Zero() + Duration::Seconds(5);

struct Fixture {
  SaDatabase db;
  DeterministicRandom rng{7};
  MemorySink sink;
  std::unique_ptr<HomeAgent> ha;
};

Bytes Key() { return Bytes(16, 0x11); }

void Register(Fixture& f, Ipv4Address home, Ipv4Address coa, Ipv4Endpoint from, bool udp,
              std::uint64_t salt) {
  RegistrationRequest q;
  q.decapsulation_by_mn = true;
  q.lifetime = 300;
  q.home_address = home;
  q.home_agent = kHa;
  q.care_of_address = coa;
  q.identification =
      NtpTime::FromUnixNanos(kUnixNanos + kNow.nanos()).raw() + salt;
  MessageBuilder b = MessageBuilder::Request(q);
  if (udp) b.AppendUdpTunnelRequest(UdpTunnelRequest{});
  FUZZ_CHECK(b.AppendAuth(kExtMnHaAuth, kSpi, 16, [](ByteSpan c) {
                return crypto::Hmac(crypto::HashAlg::kMd5, SecretBytes(Key()), c);
              }).ok());
  const Bytes msg = std::move(b).Take();
  UdpReceived d;
  d.local = Ipv4Endpoint{kHa, kMipPort};
  d.remote = from;
  d.payload = msg;
  (void)f.ha->OnUdp(kNow, d);
  while (f.ha->PollTransmit()) {
  }
  while (f.ha->PollEvent()) {
  }
  FUZZ_CHECK(f.ha->Bindings(home).size() == 1);
}

std::unique_ptr<Fixture> MakeFixture() {
  auto f = std::make_unique<Fixture>();
  for (Ipv4Address home : {kMn, kMn2}) {
    SecurityAssociationParams p;
    p.spi = kSpi;
    p.key = SecretBytes(Key());
    std::vector<SecurityAssociation> sas;
    sas.push_back(SecurityAssociation::Create(std::move(p)).value());
    FUZZ_CHECK(f->db.AddMobileNode(home, "", std::move(sas)).ok());
  }
  HomeAgentOptions o;
  o.address = kHa;
  o.home_network = Ipv4Prefix::Parse("10.1.0.0/16").value();
  o.rfc5265_trusted_networks = false;
  o.wall_clock = WallClockMapping{Timestamp::Zero(), kUnixNanos};
  f->ha = HomeAgent::Create(std::move(o), f->db, f->rng, Logger(&f->sink, "ha")).value();
  Register(*f, kMn, kCoa, Ipv4Endpoint{kCoa, 40000}, false, 1);
  Register(*f, kMn2, kPrivateCoa, Ipv4Endpoint{kNat, 61000}, true, 2);
  return f;
}

Bytes Datagram(Ipv4Address dst, std::size_t total) {
  ip::Ipv4Header h;
  h.src = kCn;
  h.dst = dst;
  h.dont_fragment = true;
  return ip::BuildIpv4Udp(h, 5000, 6000, Bytes(total - 28, 0x5a)).value();
}

// The datagram the HA sends for a 1480-byte DF datagram to `home`, as it
// leaves the host (for the UDP tunnel: in a DF UDP datagram from port 434).
Bytes TunnelledBig(HomeAgent& ha, Ipv4Address home) {
  (void)ha.OnHomePacket(kNow, Datagram(home, home == kMn ? 1480 : 1468));
  std::optional<Transmit> t = ha.PollTransmit();
  FUZZ_CHECK(t.has_value() && !ha.PollTransmit());
  if (const auto* ipt = std::get_if<IpTransmit>(&*t)) return ipt->packet;
  const UdpTransmit& u = std::get<UdpTransmit>(*t);
  ip::Ipv4Header h;
  h.src = kHa;
  h.dst = u.remote.address;
  h.dont_fragment = true;
  return ip::BuildIpv4Udp(h, kMipPort, u.remote.port, u.payload).value();
}

std::size_t U16(ByteSpan in, std::size_t at) {
  const auto byte = [&](std::size_t i) -> std::size_t { return i < in.size() ? in[i] : 0; };
  return (byte(at) << 8) | byte(at + 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteSpan in(data, size);
  std::unique_ptr<Fixture> f = MakeFixture();
  HomeAgent& ha = *f->ha;
  const std::uint8_t mode = size > 0 ? (in[0] & 3) : 0;

  Bytes packet;
  if (mode <= 1) {
    const Bytes sent = TunnelledBig(ha, mode == 0 ? kMn : kMn2);
    Bytes quote(sent.begin(), sent.begin() + static_cast<std::ptrdiff_t>(
                                                 U16(in, 3) % (sent.size() + 1)));
    const std::size_t offset = U16(in, 5);
    for (std::size_t i = 7; i < in.size() && offset + (i - 7) < quote.size(); ++i) {
      quote[offset + (i - 7)] = in[i];
    }
    packet = ip::BuildIcmpPacket(kRouter, kHa,
                                 ip::BuildIcmp(ip::kIcmpDestinationUnreachable,
                                               ip::kIcmpFragmentationNeeded,
                                               static_cast<std::uint32_t>(U16(in, 1)), quote))
                 .value();
  } else if (mode == 2) {
    const ByteSpan m = in.subspan(1);
    if (m.size() >= ip::IcmpMessage::kHeaderSize && m.size() <= 65000) {
      const std::uint32_t rest = (std::uint32_t{m[4]} << 24) | (std::uint32_t{m[5]} << 16) |
                                 (std::uint32_t{m[6]} << 8) | m[7];
      packet = ip::BuildIcmpPacket(kRouter, kHa,
                                   ip::BuildIcmp(m[0], m[1], rest, m.subspan(8)))
                   .value();
    } else {
      packet.assign(m.begin(), m.end());
    }
  } else {
    packet.assign(in.begin() + 1, in.end());
  }

  const HaCounters before = ha.counters();
  ha.OnIcmp(kNow, 1, packet);
  const HaCounters& after = ha.counters();
  std::vector<Transmit> out;
  while (std::optional<Transmit> t = ha.PollTransmit()) out.push_back(std::move(*t));
  FUZZ_CHECK(!ha.PollEvent());
  FUZZ_CHECK(ha.Bindings(kMn).size() == 1 && ha.Bindings(kMn2).size() == 1);
  const std::size_t coa_mtu = ha.TunnelMtu(kNow, kCoa);
  const std::size_t nat_mtu = ha.TunnelMtu(kNow, kNat);
  FUZZ_CHECK(after.icmp_too_big_accepted <= before.icmp_too_big_accepted + 1);
  if (after.icmp_too_big_accepted == before.icmp_too_big_accepted) {
    FUZZ_CHECK(coa_mtu == 1500 && nat_mtu == 1500);
    FUZZ_CHECK(out.empty());
  } else {
    FUZZ_CHECK(after.icmp_too_big_received == before.icmp_too_big_received + 1);
    FUZZ_CHECK((coa_mtu == 1500) != (nat_mtu == 1500));
    for (std::size_t m : {coa_mtu, nat_mtu}) FUZZ_CHECK(m >= 68 && m <= 1500);
    FUZZ_CHECK(out.size() <= 1);
    for (const Transmit& t : out) {
      const auto* ipt = std::get_if<IpTransmit>(&t);
      FUZZ_CHECK(ipt != nullptr);
      Result<ip::Ipv4IcmpPacket> icmp = ip::ParseIpv4Icmp(ipt->packet);
      FUZZ_CHECK(icmp.ok() && icmp->ip.src == kHa);
      FUZZ_CHECK(icmp->icmp.type == ip::kIcmpDestinationUnreachable &&
                 icmp->icmp.code == ip::kIcmpFragmentationNeeded &&
                 icmp->icmp.next_hop_mtu() >= 68);
    }
  }

  // The data plane agrees with the soft state.
  const HaResult r = ha.OnHomePacket(kNow, Datagram(kMn, 1480));
  while (ha.PollTransmit()) {
  }
  FUZZ_CHECK((r.action == HaResult::Action::kDone) == (coa_mtu == 1500));
  return 0;
}
