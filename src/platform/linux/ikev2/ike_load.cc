#include "platform/linux/ikev2/ike_load.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "crypto/random.h"
#include "ikev2/sa/ike_sa_manager.h"
#include "platform/linux/epoll_event_loop.h"
#include "platform/linux/udp_socket.h"

namespace mipsec::ikev2d {
namespace {

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const std::size_t k =
      std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

ikev2::IdPayload SlotIdentity(const ikev2::IdPayload& base, std::size_t slot) {
  if (base.type != ikev2::IdType::kFqdn && base.type != ikev2::IdType::kRfc822Addr) return base;
  ikev2::IdPayload id = base;
  const std::string prefix = std::to_string(slot) + "-";
  id.data.insert(id.data.begin(), prefix.begin(), prefix.end());
  return id;
}

class Loader {
 public:
  Loader(const IkeLoadOptions& o, Logger log) : o_(o), log_(std::move(log)) {}
  ~Loader() {
    if (!loop_) return;
    for (const auto& s : sockets_) (void)loop_->UnregisterFd(s->fd());
    if (timer_ != platform::EventLoop::kNoTimer) loop_->DestroyTimer(timer_);
  }
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  Status Open() {
    MIPSEC_ASSIGN_OR_RETURN(loop_, platform::EpollEventLoop::Create());
    for (std::uint16_t port : {ikev2::kIkePort, o_.peer.natt_port}) {
      platform::UdpOptions uo;
      uo.bind = Ipv4Endpoint{o_.local, port};
      auto s = platform::LinuxUdpSocket::Open(uo);
      if (!s.ok()) {
        return Error(s.error().code(), "UDP " + uo.bind.ToString() + ": " + s.error().detail());
      }
      platform::UdpSocket* raw = s->get();
      MIPSEC_TRY(loop_->RegisterFd(raw->fd(), platform::kReadable,
                                   [this, raw](std::uint32_t) { OnReadable(*raw); }));
      sockets_.push_back(std::move(*s));
    }
    ikev2::IkeSaManagerConfig mc;  // initiator only
    manager_ = std::make_unique<ikev2::IkeSaManager>(std::move(mc), rng_, log_.Child("ike"));
    timer_ = loop_->CreateTimer([this](Timestamp now) {
      manager_->OnTimeout(now);
      Drain(now);
    });
    rx_storage_.resize(kBatch * kMaxDatagram);
    rx_.resize(kBatch);
    for (std::size_t i = 0; i < kBatch; ++i) {
      rx_[i].buffer = MutableByteSpan(rx_storage_.data() + i * kMaxDatagram, kMaxDatagram);
    }
    return Ok{};
  }

  Result<IkeLoadResult> Run() {
    const Timestamp start = loop_->Now();
    measure_from_ = start + o_.warmup;
    end_ = measure_from_ + o_.duration;
    for (std::size_t slot = 0; slot < o_.concurrency; ++slot) {
      if (Status st = Start(slot, start); !st.ok()) return st.error();
    }
    Drain(start);
    while (loop_->Now() < end_) {
      MIPSEC_TRY(loop_->RunOnce(end_ - loop_->Now()));
    }
    // Set-ups still in flight finish (and are deleted, not counted), so the
    // gateway is left with nothing; at most drain_timeout.
    const Timestamp drain_end = loop_->Now() + o_.drain_timeout;
    while (manager_->size() > 0 && loop_->Now() < drain_end) {
      MIPSEC_TRY(loop_->RunOnce(Duration::Millis(20)));
    }
    IkeLoadResult r;
    r.established = established_;
    r.failed = failed_;
    r.datagrams_out = out_;
    r.datagrams_in = in_;
    r.seconds = static_cast<double>(o_.duration.nanos()) / 1e9;
    r.rate = static_cast<double>(established_) / r.seconds;
    double sum = 0;
    for (double l : latencies_ms_) {
      sum += l;
      r.latency_max_ms = std::max(r.latency_max_ms, l);
    }
    if (!latencies_ms_.empty()) r.latency_mean_ms = sum / static_cast<double>(latencies_ms_.size());
    r.latency_p50_ms = Percentile(latencies_ms_, 0.50);
    r.latency_p90_ms = Percentile(latencies_ms_, 0.90);
    r.latency_p99_ms = Percentile(latencies_ms_, 0.99);
    return r;
  }

 private:
  static constexpr std::size_t kBatch = 32;
  static constexpr std::size_t kMaxDatagram = 4096;

  Status Start(std::size_t slot, Timestamp now) {
    ikev2::PeerConfig pc = o_.peer;
    pc.local_id = SlotIdentity(o_.peer.local_id, slot);
    pc.initial_contact = false;
    MIPSEC_ASSIGN_OR_RETURN(
        ikev2::IkeSa * sa,
        manager_->Initiate(now, std::move(pc), Ipv4Endpoint{o_.local, ikev2::kIkePort},
                           o_.gateway));
    setups_[manager_->IdOf(sa)] = Setup{slot, now};
    return Ok{};
  }

  void OnReadable(platform::UdpSocket& s) {
    const Timestamp now = loop_->Now();
    for (int round = 0; round < 8; ++round) {
      auto n = s.RecvBatch(std::span<platform::Datagram>(rx_.data(), rx_.size()));
      if (!n.ok() || *n == 0) break;
      for (std::size_t i = 0; i < *n; ++i) {
        if (rx_[i].truncated) continue;
        if (now >= measure_from_ && now < end_) ++in_;
        manager_->OnDatagram(now, rx_[i].local, rx_[i].remote, rx_[i].data());
      }
      if (*n < rx_.size()) break;
    }
    Drain(now);
  }

  void Drain(Timestamp now) {
    for (int pass = 0; pass < 4; ++pass) {
      bool any = false;
      while (auto t = manager_->PollTransmit()) {
        any = true;
        platform::UdpSocket& s =
            t->local.port == ikev2::kIkePort ? *sockets_[0] : *sockets_[1];
        platform::OutgoingDatagram d;
        d.payload = t->payload;
        d.remote = t->remote;
        d.source = t->local.address;
        if (s.Send(d).ok() && now >= measure_from_ && now < end_) ++out_;
      }
      while (auto e = manager_->PollEvent()) {
        any = true;
        OnEvent(now, e->sa_id, e->event);
      }
      if (!any) break;
    }
    const Timestamp next = manager_->NextTimeout();
    if (next != Timestamp::Infinite()) loop_->SetDeadline(timer_, next);
  }

  void OnEvent(Timestamp now, std::uint64_t sa_id, const ikev2::IkeEvent& e) {
    auto it = setups_.find(sa_id);
    if (it == setups_.end()) return;
    const std::size_t slot = it->second.slot;
    if (std::holds_alternative<ikev2::ChildSaUp>(e)) {
      if (now >= measure_from_ && now < end_) {
        ++established_;
        latencies_ms_.push_back(static_cast<double>((now - it->second.started).nanos()) / 1e6);
      }
      setups_.erase(it);
      if (ikev2::IkeSa* sa = manager_->Find(sa_id)) sa->Delete(now);
      Restart(slot, now);
    } else if (const auto* down = std::get_if<ikev2::IkeSaDown>(&e)) {
      if (now >= measure_from_ && now < end_) ++failed_;
      if (failed_ <= 3 && now >= measure_from_) {
        MIPSEC_LOG(log_, kWarning) << "set-up failed: " << down->detail;
      }
      setups_.erase(it);
      Restart(slot, now);
    }
  }

  void Restart(std::size_t slot, Timestamp now) {
    if (now >= end_) return;
    if (Status st = Start(slot, now); !st.ok()) {
      MIPSEC_LOG(log_, kError) << "initiate: " << st.error().ToString();
    }
  }

  struct Setup {
    std::size_t slot = 0;
    Timestamp started;
  };

  IkeLoadOptions o_;
  Logger log_;
  crypto::SystemRandom rng_;
  std::unique_ptr<platform::EpollEventLoop> loop_;
  std::vector<std::unique_ptr<platform::UdpSocket>> sockets_;
  std::unique_ptr<ikev2::IkeSaManager> manager_;
  platform::EventLoop::TimerId timer_ = platform::EventLoop::kNoTimer;
  std::vector<std::uint8_t> rx_storage_;
  std::vector<platform::Datagram> rx_;
  std::map<std::uint64_t, Setup> setups_;
  Timestamp measure_from_;
  Timestamp end_;
  std::uint64_t established_ = 0;
  std::uint64_t failed_ = 0;
  std::uint64_t out_ = 0;
  std::uint64_t in_ = 0;
  std::vector<double> latencies_ms_;
};

}  // namespace

Result<IkeLoadResult> RunIkeLoad(const IkeLoadOptions& options, Logger log) {
  if (options.concurrency == 0) return Error(Errc::kInvalidArgument, "concurrency must be > 0");
  Loader l(options, std::move(log));
  MIPSEC_TRY(l.Open());
  return l.Run();
}

}  // namespace mipsec::ikev2d
