#include "ikev2/sa/ike_sa_manager.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "ikev2/codec/header.h"
#include "ikev2/codec/message.h"
#include "ikev2/codec/notify_data.h"

namespace mipsec::ikev2 {
namespace {
constexpr std::size_t kMarkerSize = 4;
}  // namespace

IkeSaManager::IkeSaManager(IkeSaManagerConfig config, RandomSource& rng, Logger log)
    : config_(std::move(config)), rng_(rng), log_(std::move(log)) {}

IkeSaManager::~IkeSaManager() = default;

Result<IkeSa*> IkeSaManager::Initiate(Timestamp now, PeerConfig config, Ipv4Endpoint local,
                                      Ipv4Endpoint remote) {
  std::unique_ptr<IkeSa> sa =
      IkeSa::CreateInitiator(std::move(config), local, remote, rng_, log_, now);
  while (by_local_spi_.count(sa->spi_i()) != 0) {
    sa = IkeSa::CreateInitiator(sa->config(), local, remote, rng_, log_, now);
  }
  MIPSEC_TRY(sa->Connect(now));
  const std::uint64_t id = next_id_++;
  by_local_spi_[sa->spi_i()] = id;
  IkeSa* p = sa.get();
  sas_[id] = Entry{std::move(sa)};
  return p;
}

IkeSa* IkeSaManager::Find(std::uint64_t sa_id) {
  auto it = sas_.find(sa_id);
  return it == sas_.end() ? nullptr : it->second.sa.get();
}

std::uint64_t IkeSaManager::IdOf(const IkeSa* sa) const {
  for (const auto& [id, e] : sas_) {
    if (e.sa.get() == sa) return id;
  }
  return 0;
}

std::size_t IkeSaManager::half_open() const {
  std::size_t n = 0;
  for (const auto& [id, e] : sas_) {
    if (!e.sa->original_initiator() && e.sa->state() == IkeSaState::kConnecting) ++n;
  }
  return n;
}

void IkeSaManager::OnDatagram(Timestamp now, const Ipv4Endpoint& local,
                              const Ipv4Endpoint& remote, ByteSpan payload) {
  ByteSpan message = payload;
  const std::uint16_t natt =
      config_.responder ? config_.responder->natt_port : kNattPort;
  if (local.port == natt || remote.port == natt) {
    if (payload.size() < kMarkerSize || payload[0] != 0 || payload[1] != 0 || payload[2] != 0 ||
        payload[3] != 0) {
      ++stats_.dropped;  // ESP or a keepalive
      return;
    }
    message = payload.subspan(kMarkerSize);
  }
  Result<IkeHeader> h = DecodeHeader(message);
  if (!h.ok()) {
    ++stats_.dropped;
    return;
  }
  if (h->exchange == ExchangeType::kIkeSaInit && !h->response && h->spi_r == 0 && h->initiator) {
    HandleInitRequest(now, local, remote, payload, message, h->spi_i);
    Drain();
    return;
  }
  // The I flag says whether the sender is the original initiator, hence
  // which SPI is ours.
  const std::uint64_t ours = h->initiator ? h->spi_r : h->spi_i;
  auto it = by_local_spi_.find(ours);
  if (it == by_local_spi_.end()) {
    ++stats_.dropped;
    return;
  }
  if (IkeSa* sa = Find(it->second)) sa->OnDatagram(now, local, remote, payload);
  Drain();
}

void IkeSaManager::HandleInitRequest(Timestamp now, const Ipv4Endpoint& local,
                                     const Ipv4Endpoint& remote, ByteSpan payload,
                                     ByteSpan message, std::uint64_t spi_i) {
  // A retransmission (or a retry with COOKIE / another KE group after the
  // responder SA answered and stayed): the half-open SA for this SPIi.
  for (auto& [id, e] : sas_) {
    IkeSa& sa = *e.sa;
    if (!sa.original_initiator() && sa.spi_i() == spi_i && sa.remote() == remote &&
        sa.state() == IkeSaState::kConnecting) {
      sa.OnDatagram(now, local, remote, payload);
      return;
    }
  }
  if (!config_.responder) {
    ++stats_.dropped;
    return;
  }
  const std::size_t pending = half_open();
  if (pending >= config_.max_half_open) {
    ++stats_.dropped;
    return;
  }
  if (pending >= config_.cookie_threshold) {
    // RFC 7296 2.6: stateless COOKIE challenge.
    Result<Message> m = DecodeMessage(message);
    if (!m.ok()) {
      ++stats_.dropped;
      return;
    }
    const Payload* np = m->Find(PayloadType::kNonce);
    const NoncePayload* ni = np != nullptr ? np->As<NoncePayload>() : nullptr;
    if (ni == nullptr) {
      ++stats_.dropped;
      return;
    }
    cookies_.RotateIfDue(now, config_.cookie_secret_lifetime, rng_);
    const auto ip = remote.address.ToBytes();
    bool valid = false;
    // The COOKIE is the first payload of the retried request (2.6).
    if (!m->payloads.empty()) {
      const NotifyPayload* n = m->payloads.front().As<NotifyPayload>();
      if (n != nullptr && n->type == NotifyType::kCookie) {
        valid = cookies_.Verify(n->data, ni->data, ip, spi_i, now).ok();
        if (!valid) ++stats_.cookies_refused;
      }
    }
    if (!valid) {
      Result<Bytes> cookie = cookies_.Make(ni->data, ip, spi_i);
      Result<NotifyPayload> note = cookie.ok() ? MakeCookie(*cookie)
                                               : Result<NotifyPayload>(cookie.error());
      if (!note.ok()) return;
      IkeHeader rh;
      rh.spi_i = spi_i;
      rh.spi_r = 0;
      rh.exchange = ExchangeType::kIkeSaInit;
      rh.response = true;
      rh.initiator = false;
      rh.message_id = 0;
      Result<Bytes> out = MessageBuilder(rh).Add(Payload::Notify(std::move(*note))).Build();
      if (!out.ok()) return;
      IkeTransmit t;
      t.local = local;
      t.remote = remote;
      if (payload.size() != message.size()) t.payload.assign(kMarkerSize, 0);
      t.payload.insert(t.payload.end(), out->begin(), out->end());
      out_.push_back(std::move(t));
      ++stats_.cookies_sent;
      return;
    }
  }
  std::unique_ptr<IkeSa> sa =
      IkeSa::CreateResponder(*config_.responder, local, remote, spi_i, rng_, log_, now);
  while (by_local_spi_.count(sa->spi_r()) != 0) {
    sa = IkeSa::CreateResponder(*config_.responder, local, remote, spi_i, rng_, log_, now);
  }
  const std::uint64_t id = next_id_++;
  by_local_spi_[sa->spi_r()] = id;
  IkeSa* p = sa.get();
  sas_[id] = Entry{std::move(sa)};
  p->OnDatagram(now, local, remote, payload);
}

void IkeSaManager::OnTimeout(Timestamp now) {
  for (auto& [id, e] : sas_) {
    if (e.sa->NextTimeout() <= now) e.sa->OnTimeout(now);
  }
  Drain();
}

void IkeSaManager::AdoptNewSas(IkeSa& sa) {
  for (std::shared_ptr<IkeSa>& n : sa.TakeNewSas()) {
    if (by_local_spi_.count(n->local_spi()) != 0) {
      // 2^-64; the peer would not be able to tell the two apart.
      MIPSEC_LOG(log_, kNotice) << "rekeyed IKE SA with a local SPI in use, dropped";
      n->Terminate(IkeDownReason::kFailed, "local SPI collision");
      continue;
    }
    const std::uint64_t nid = next_id_++;
    by_local_spi_[n->local_spi()] = nid;
    sas_[nid] = Entry{std::move(n)};
  }
}

void IkeSaManager::Drain() {
  std::vector<std::uint64_t> gone;
  for (auto& [id, e] : sas_) {
    AdoptNewSas(*e.sa);
    while (std::optional<IkeTransmit> t = e.sa->PollTransmit()) out_.push_back(std::move(*t));
    while (std::optional<IkeEvent> ev = e.sa->PollEvent()) {
      if (IkeSaRekeyed* rk = std::get_if<IkeSaRekeyed>(&*ev)) {
        rk->old_sa_id = id;
        auto it = by_local_spi_.find(rk->original_initiator ? rk->spi_i : rk->spi_r);
        rk->new_sa_id = it != by_local_spi_.end() ? it->second : 0;
      }
      if (const InitialContact* ic = std::get_if<InitialContact>(&*ev)) {
        // RFC 7296 2.4: the peer lost its state; drop our other IKE SAs
        // with that identity without messages.
        for (auto& [oid, other] : sas_) {
          if (oid == id || other.sa->state() != IkeSaState::kEstablished) continue;
          if (other.sa->remote_id() && *other.sa->remote_id() == ic->remote_id) {
            other.sa->Terminate(IkeDownReason::kReplaced, "INITIAL_CONTACT on a newer IKE SA");
          }
        }
      }
      events_.push_back(Event{id, std::move(*ev)});
    }
    if (e.sa->state() == IkeSaState::kDown) gone.push_back(id);
  }
  // Terminated SAs may have produced output after their turn.
  for (auto& [id, e] : sas_) {
    AdoptNewSas(*e.sa);
    while (std::optional<IkeTransmit> t = e.sa->PollTransmit()) out_.push_back(std::move(*t));
    while (std::optional<IkeEvent> ev = e.sa->PollEvent()) {
      events_.push_back(Event{id, std::move(*ev)});
    }
    if (e.sa->state() == IkeSaState::kDown &&
        std::find(gone.begin(), gone.end(), id) == gone.end()) {
      gone.push_back(id);
    }
  }
  for (std::uint64_t id : gone) {
    auto it = sas_.find(id);
    if (it == sas_.end()) continue;
    by_local_spi_.erase(it->second.sa->local_spi());
    sas_.erase(it);
  }
}

std::optional<IkeTransmit> IkeSaManager::PollTransmit() {
  if (out_.empty()) Drain();
  if (out_.empty()) return std::nullopt;
  IkeTransmit t = std::move(out_.front());
  out_.pop_front();
  return t;
}

std::optional<IkeSaManager::Event> IkeSaManager::PollEvent() {
  if (events_.empty()) Drain();
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

Timestamp IkeSaManager::NextTimeout() const {
  Timestamp t = Timestamp::Infinite();
  for (const auto& [id, e] : sas_) t = std::min(t, e.sa->NextTimeout());
  return t;
}

}  // namespace mipsec::ikev2
