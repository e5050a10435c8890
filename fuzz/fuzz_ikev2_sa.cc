// Fuzz target: the IKE SA layer as a gateway runs it (ikev2/sa, ikev2/tasks).
//
// One responder IkeSaManager per input — PSK, the default proposals, CP
// served from a real TiaPool, a DeterministicRandom with a fixed seed — fed
// the input as a sequence of records:
//
//   [u8 ctl][u16 length, big-endian][length bytes: the UDP payload]
//
//   ctl bit 0     the datagram arrived on the NAT-T port (4500) from the
//                 peer's port 4500 (else 500 -> 500);
//   ctl bit 1     it came from the second peer address (198.51.100.7)
//                 instead of 10.0.0.2;
//   ctl bits 2-4  k: before it, virtual time advances by 2^(k-1) s (k > 0)
//                 and due timers run.
// A truncated last record is delivered as far as it goes. After every
// record, all transmits and events are drained. At the end, time runs on
// in large steps until no timer is left (or a bound is hit) so that
// retransmission, give-up, DPD and lifetimes run on whatever state the
// input built.
//
// Properties: no crash, leak, out-of-bounds access or UB; the pool never
// hands out more than it has; an assigned TIA is from the pool; and once every
// IKE SA is gone, every TIA has been released (no lease leaks).
//
// The seeds are real message sequences from our own initiator. Because the
// responder here is deterministic, a seed replays a whole exchange
// (IKE_SA_INIT, IKE_AUTH with CP, CREATE_CHILD_SA, INFORMATIONAL with and
// without MOBIKE) whose
// encrypted messages decrypt, so mutations reach the tasks behind SK. Built
// a second time with -DMIPSEC_IKEV2_SA_GEN_CORPUS as
// fuzz_ikev2_sa_gen_corpus, which runs that initiator against the same
// responder and writes the seeds:
//   build/<dir>/fuzz/fuzz_ikev2_sa_gen_corpus fuzz/corpus
// (regenerate them whenever the responder's behaviour or its RNG use
// changes, or the encrypted parts stop decrypting).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "common/log.h"
#include "common/random.h"
#include "fuzz_target.h"
#include "ikev2/sa/config.h"
#include "ikev2/sa/ike_sa_manager.h"
#include "ikev2/sa/tia_pool.h"
#include "ikev2/sa/traffic_selectors.h"

#ifdef MIPSEC_IKEV2_SA_GEN_CORPUS
#include <cstdio>
#include <fstream>
#include <string>
#endif

using namespace mipsec;         // NOLINT: a fuzz target, not library code
using namespace mipsec::ikev2;  // NOLINT

namespace {

constexpr std::uint64_t kResponderSeed = 0x5eed;
const Ipv4Address kGatewayIp = Ipv4Address::FromOctets(203, 0, 113, 1);
const Ipv4Address kPeerIp = Ipv4Address::FromOctets(10, 0, 0, 2);
const Ipv4Address kPeerIp2 = Ipv4Address::FromOctets(198, 51, 100, 7);
const Timestamp kStart = Timestamp::FromNanos(1'000'000'000'000);
const char kPsk[] = "fuzzing pre-shared key, 32 bytes";

// Formats every record (so logging code runs too) and drops it.
class DiscardSink final : public LogSink {
 public:
  void Write(const LogRecord& r) override { bytes_ += r.message.size(); }

 private:
  std::size_t bytes_ = 0;
};

TiaPool MakePool() { return *TiaPool::FromPrefix(*Ipv4Prefix::Parse("10.2.0.0/29")); }

PeerConfig ResponderConfig(AddressProvider* pool) {
  PeerConfig c;
  c.local_id = IdPayload::Fqdn("gw.example.org");
  c.local_auth.kind = AuthKind::kPsk;
  c.local_auth.psk = SecretBytes(AsBytes(kPsk));
  c.remote_auth.kind = AuthKind::kPsk;
  c.remote_auth.psk = c.local_auth.psk;
  c.ike_proposals = DefaultIkeProposals();
  c.esp_proposals = DefaultEspProposals();
  c.local_ts = {TrafficSelector::Ipv4Prefix(*Ipv4Prefix::Parse("10.1.0.0/16"))};
  c.remote_ts = {AnyIpv4Selector()};
  c.address_provider = pool;
  c.virtual_ip_netmask = Ipv4Address::FromOctets(255, 255, 255, 248);
  c.virtual_ip_dns = {Ipv4Address::FromOctets(10, 1, 0, 53)};
  c.lifetimes.ike_soft = Duration::Seconds(600);
  c.lifetimes.ike_hard = Duration::Seconds(700);
  c.lifetimes.child_soft = Duration::Seconds(300);
  c.lifetimes.child_hard = Duration::Seconds(400);
  return c;
}

IkeSaManagerConfig ManagerConfig(AddressProvider* pool) {
  IkeSaManagerConfig m;
  m.responder = ResponderConfig(pool);
  m.cookie_threshold = 4;
  m.max_half_open = 16;
  return m;
}

struct Record {
  std::uint8_t ctl = 0;
  Bytes payload;
};

Ipv4Endpoint LocalOf(std::uint8_t ctl) {
  return {kGatewayIp, (ctl & 1) ? kNattPort : kIkePort};
}
Ipv4Endpoint RemoteOf(std::uint8_t ctl) {
  return {(ctl & 2) ? kPeerIp2 : kPeerIp, (ctl & 1) ? kNattPort : kIkePort};
}
Duration AdvanceOf(std::uint8_t ctl) {
  const int k = (ctl >> 2) & 7;
  return k == 0 ? Duration::Seconds(0) : Duration::Seconds(std::int64_t{1} << (k - 1));
}

// The gateway side: the manager, its pool, and the checks on its output.
class Gateway {
 public:
  Gateway()
      : pool_(MakePool()),
        rng_(kResponderSeed),
        mgr_(ManagerConfig(&pool_), rng_, Logger(&sink_, "ike", LogLevel::kTrace)) {}

  Timestamp now() const { return now_; }

  void Advance(Duration d) {
    now_ = now_ + d;
    if (mgr_.NextTimeout() <= now_) mgr_.OnTimeout(now_);
    Drain();
  }

  void Deliver(std::uint8_t ctl, ByteSpan payload) {
    Advance(AdvanceOf(ctl));
    mgr_.OnDatagram(now_, LocalOf(ctl), RemoteOf(ctl), payload);
    Drain();
  }

  // Runs timers until none is left or `max_steps` ran.
  void RunOut(int max_steps) {
    for (int i = 0; i < max_steps; ++i) {
      const Timestamp next = mgr_.NextTimeout();
      if (next.IsInfinite()) break;
      now_ = next > now_ ? next : now_;
      mgr_.OnTimeout(now_);
      Drain();
    }
  }

  void CheckEnd() const {
    FUZZ_CHECK(pool_.in_use() <= pool_.size());
    // Every IKE SA gone: every TIA released.
    if (mgr_.size() == 0) FUZZ_CHECK(pool_.in_use() == 0);
  }

  std::vector<IkeTransmit>& sent() { return sent_; }
  IkeSaManager& manager() { return mgr_; }

 private:
  void Drain() {
    for (;;) {
      bool any = false;
      while (std::optional<IkeTransmit> t = mgr_.PollTransmit()) {
        any = true;
        FUZZ_CHECK(t->local.address == kGatewayIp);
        sent_.push_back(std::move(*t));
      }
      while (std::optional<IkeSaManager::Event> e = mgr_.PollEvent()) {
        any = true;
        if (const auto* v = std::get_if<VirtualIpAssigned>(&e->event)) {
          FUZZ_CHECK(pool_.Contains(v->address));
        }
      }
      if (!any) break;
    }
    FUZZ_CHECK(pool_.in_use() <= pool_.size());
    if (sent_.size() > 256) sent_.clear();
  }

  TiaPool pool_;
  DeterministicRandom rng_;
  DiscardSink sink_;
  IkeSaManager mgr_;
  Timestamp now_ = kStart;
  std::vector<IkeTransmit> sent_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Gateway gw;
  std::size_t pos = 0;
  int records = 0;
  while (pos < size && records < 64) {
    const std::uint8_t ctl = data[pos++];
    std::size_t len = 0;
    if (pos + 2 <= size) {
      len = static_cast<std::size_t>(data[pos]) << 8 | data[pos + 1];
      pos += 2;
    } else {
      pos = size;
    }
    if (len > size - pos) len = size - pos;
    gw.Deliver(ctl, ByteSpan(data + pos, len));
    pos += len;
    ++records;
  }
  gw.RunOut(400);
  gw.CheckEnd();
  return 0;
}

#ifdef MIPSEC_IKEV2_SA_GEN_CORPUS
// The seed generator: our initiator against a Gateway built exactly as the
// fuzz target builds it, recording what the gateway receives.
namespace {

PeerConfig InitiatorConfig() {
  PeerConfig c;
  c.local_id = IdPayload::Fqdn("mn.example.org");
  c.remote_id = IdPayload::Fqdn("gw.example.org");
  c.send_idr = true;
  c.local_auth.kind = AuthKind::kPsk;
  c.local_auth.psk = SecretBytes(AsBytes(kPsk));
  c.remote_auth.kind = AuthKind::kPsk;
  c.remote_auth.psk = c.local_auth.psk;
  c.ike_proposals = DefaultIkeProposals();
  c.esp_proposals = DefaultEspProposals();
  c.local_ts = {AnyIpv4Selector()};
  c.remote_ts = {TrafficSelector::Ipv4Prefix(*Ipv4Prefix::Parse("10.1.0.0/16"))};
  c.request_virtual_ip = true;
  return c;
}

class Recorder {
 public:
  explicit Recorder(PeerConfig config)
      : rng_(1), client_(IkeSaManagerConfig{}, rng_, Logger()) {
    Result<IkeSa*> sa = client_.Initiate(gw_.now(), std::move(config), {kPeerIp, kIkePort},
                                         {kGatewayIp, kIkePort});
    if (!sa.ok()) {
      std::fprintf(stderr, "initiate: %s\n", sa.error().ToString().c_str());
      std::exit(1);
    }
    sa_id_ = client_.IdOf(*sa);
    Pump();
  }

  IkeSa* sa() { return client_.Find(sa_id_); }

  // Carries datagrams both ways until quiet; `advance_ctl` is the time step
  // put on the first recorded datagram.
  void Pump(std::uint8_t advance_ctl = 0) {
    for (int guard = 0; guard < 100; ++guard) {
      bool any = false;
      while (std::optional<IkeTransmit> t = client_.PollTransmit()) {
        any = true;
        if (t->keepalive) continue;
        std::uint8_t ctl = advance_ctl;
        advance_ctl = 0;
        if (t->remote.port == kNattPort) ctl |= 1;
        gw_.Deliver(ctl, t->payload);
        records_.push_back(Record{ctl, t->payload});
      }
      while (client_.PollEvent()) {
      }
      for (IkeTransmit& t : gw_.sent()) {
        any = true;
        client_.OnDatagram(gw_.now(), t.remote, t.local, t.payload);
      }
      gw_.sent().clear();
      if (!any) return;
    }
  }

  // Time passes on both sides (a record of nothing carries it to the gateway).
  void Advance(int k) {
    const std::uint8_t ctl = static_cast<std::uint8_t>(k << 2);
    gw_.Deliver(ctl, ByteSpan());
    records_.push_back(Record{ctl, Bytes()});
    client_.OnTimeout(gw_.now());
    Pump();
  }

  Timestamp now() const { return gw_.now(); }

  void Write(const std::string& path) const {
    std::ofstream f(path, std::ios::binary);
    for (const Record& r : records_) {
      f.put(static_cast<char>(r.ctl));
      f.put(static_cast<char>(r.payload.size() >> 8));
      f.put(static_cast<char>(r.payload.size() & 0xff));
      f.write(reinterpret_cast<const char*>(r.payload.data()),
              static_cast<std::streamsize>(r.payload.size()));
    }
    if (!f) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      std::exit(1);
    }
    std::printf("%s: %zu records\n", path.c_str(), records_.size());
  }

  std::size_t gateway_sas() { return gw_.manager().size(); }

 private:
  Gateway gw_;
  DeterministicRandom rng_;
  IkeSaManager client_;
  std::uint64_t sa_id_ = 0;
  std::vector<Record> records_;
};

void Expect(bool cond, const char* what) {
  if (!cond) {
    std::fprintf(stderr, "seed generation failed: %s\n", what);
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR (writes CORPUS_DIR/ikev2_sa/*)\n", argv[0]);
    return 2;
  }
  const std::string dir = std::string(argv[1]) + "/ikev2_sa/";
  {
    // IKE_SA_INIT + IKE_AUTH (PSK, CP, one CHILD SA).
    Recorder r(InitiatorConfig());
    Expect(r.sa() && r.sa()->state() == IkeSaState::kEstablished, "setup");
    r.Write(dir + "setup_psk_cp");
  }
  {
    // Through a (faked) NAT: IKE_AUTH on port 4500 with the non-ESP marker.
    PeerConfig c = InitiatorConfig();
    c.force_encapsulation = true;
    Recorder r(std::move(c));
    Expect(r.sa() && r.sa()->state() == IkeSaState::kEstablished, "setup via NAT-T");
    r.Write(dir + "setup_natt");
  }
  {
    // ECP-256 and AES-CBC/HMAC first: the gateway picks it.
    PeerConfig c = InitiatorConfig();
    c.ike_proposals = {*Suite::ForIke(EncrId::kAesCbc, 128, PrfId::kHmacSha2_256,
                                      IntegId::kHmacSha2_256_128, DhId::kEcp256)};
    c.esp_proposals = {*Suite::ForEsp(EncrId::kAesCbc, 128, IntegId::kHmacSha2_256_128,
                                      std::nullopt, EsnId::kNoEsn)};
    Recorder r(std::move(c));
    Expect(r.sa() && r.sa()->state() == IkeSaState::kEstablished, "setup ecp256");
    r.Write(dir + "setup_cbc_ecp256");
  }
  {
    // Then a new CHILD SA, a CHILD rekey, an IKE rekey, a liveness check
    // and the delete.
    Recorder r(InitiatorConfig());
    Expect(r.sa() && r.sa()->state() == IkeSaState::kEstablished, "setup for rekeys");
    Expect(r.sa()->CreateChildSa(r.now()).ok(), "create child");
    r.Pump();
    const std::uint32_t spi = r.sa()->children().empty() ? 0 : r.sa()->children().front().info.spi_in;
    Expect(spi != 0, "a child");
    Expect(r.sa()->RekeyChildSa(r.now(), spi).ok(), "rekey child");
    r.Pump();
    Expect(r.sa()->RekeyIkeSa(r.now()).ok(), "rekey IKE SA");
    r.Pump();
    r.Advance(6);  // 32 s: liveness checks
    r.Write(dir + "setup_rekeys");
  }
  {
    // MOBIKE (RFC 4555): an address list, then UPDATE_SA_ADDRESSES with NAT
    // detection and COOKIE2 (the gateway sees them from the same address,
    // so it takes them for a NAT), then a path check after a lost address.
    Recorder r(InitiatorConfig());
    Expect(r.sa() && r.sa()->state() == IkeSaState::kEstablished, "setup for MOBIKE");
    Expect(r.sa()->mobike(), "MOBIKE negotiated");
    const Ipv4Address other = Ipv4Address::FromOctets(192, 0, 2, 99);
    Expect(r.sa()->UpdateLocalAddresses(r.now(), {kPeerIp, other}, kPeerIp).ok(), "list");
    r.Pump();
    Expect(r.sa()->UpdateLocalAddresses(r.now(), {other}, other).ok(), "move");
    r.Pump();
    Expect(r.sa()->UpdateLocalAddresses(r.now(), {kPeerIp}, std::nullopt).ok(), "path check");
    r.Pump();
    r.Write(dir + "setup_mobike");
  }
  {
    // Setup then delete (TIA released).
    Recorder r(InitiatorConfig());
    Expect(r.sa() && r.sa()->state() == IkeSaState::kEstablished, "setup for delete");
    r.sa()->Delete(r.now());
    r.Pump();
    Expect(r.gateway_sas() == 0, "gateway side deleted");
    r.Write(dir + "setup_delete");
  }
  return 0;
}
#endif  // MIPSEC_IKEV2_SA_GEN_CORPUS
