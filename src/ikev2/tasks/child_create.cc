#include "ikev2/tasks/child_create.h"

#include <algorithm>
#include <string>

#include "common/log.h"
#include "common/wire/writer.h"
#include "ikev2/codec/notify_data.h"
#include "ikev2/crypto/key_exchange.h"
#include "ikev2/crypto/keys.h"
#include "ikev2/sa/ike_sa.h"
#include "ikev2/sa/traffic_selectors.h"

namespace mipsec::ikev2 {
namespace {

Bytes SpiBytes(std::uint32_t spi) {
  Bytes b(4);
  wire::StoreU32(b, 0, spi);
  return b;
}

std::vector<Suite> Offer(const std::vector<Suite>& esp, bool in_auth) {
  if (!in_auth) return esp;
  std::vector<Suite> out;
  for (const Suite& s : esp) {
    Suite n = WithoutDh(s);
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  }
  return out;
}

const TsPayload* FindTs(const Message& m, PayloadType t) {
  const Payload* p = m.Find(t);
  return p != nullptr ? p->As<TsPayload>() : nullptr;
}

}  // namespace

TaskStatus ChildCreate::Build(IkeSa& sa, Timestamp now, Message& m) {
  if (!initiator()) {
    if (skip_) return TaskStatus::kDone;
    if (error_) {
      AddPayload(m, Payload::Notify(*error_));
      return TaskStatus::kDone;
    }
    if (!child_) return TaskStatus::kDone;
    AddPayload(m, Payload::Sa(SaPayload{{ProposalFromSuite(child_->suite, proposal_number_,
                                                           ProtocolId::kEsp,
                                                           SpiBytes(child_->spi_in))}}));
    if (!in_auth()) {
      AddPayload(m, Payload::Nonce(NoncePayload{nr_}));
      if (ke_) {
        AddPayload(m, Payload::Ke(KePayload{static_cast<std::uint16_t>(group_),
                                            Bytes(ke_->public_value().begin(),
                                                  ke_->public_value().end())}));
      }
    }
    AddPayload(m, Payload::Tsi(TsPayload{child_->remote_ts}));
    AddPayload(m, Payload::Tsr(TsPayload{child_->local_ts}));
    created_ = child_->spi_in;
    sa.AddChild(now, std::move(*child_), replaces_);
    child_.reset();
    return TaskStatus::kDone;
  }

  const PeerConfig& c = sa.config();
  if (local_ts_.empty()) local_ts_ = c.local_ts;
  if (remote_ts_.empty()) remote_ts_ = c.remote_ts;
  offered_ = Offer(c.esp_proposals, in_auth());
  if (offered_.empty()) {
    sa.Emit(ChildSaFailed{std::nullopt, "no ESP proposals configured"});
    return TaskStatus::kDone;
  }
  if (spi_in_ == 0) spi_in_ = sa.AllocateChildSpi();
  AddPayload(m, Payload::Sa(MakeOffer(offered_, ProtocolId::kEsp, SpiBytes(spi_in_))));
  if (!in_auth()) {
    ni_ = sa.NewNonce();
    AddPayload(m, Payload::Nonce(NoncePayload{ni_}));
    if (group_ == DhId::kNone) group_ = offered_.front().dh();
    if (group_ != DhId::kNone) {
      Result<std::unique_ptr<crypto::KeyExchange>> ke = NewKeyExchange(group_, sa.rng());
      if (!ke.ok()) {
        sa.Emit(ChildSaFailed{std::nullopt, "key exchange: " + ke.error().ToString()});
        return TaskStatus::kDone;
      }
      ke_ = std::move(*ke);
      AddPayload(m, Payload::Ke(KePayload{static_cast<std::uint16_t>(group_),
                                          Bytes(ke_->public_value().begin(),
                                                ke_->public_value().end())}));
    }
  }
  AddPayload(m, Payload::Tsi(TsPayload{local_ts_}));
  AddPayload(m, Payload::Tsr(TsPayload{remote_ts_}));
  return TaskStatus::kNeedMore;
}

TaskStatus ChildCreate::Process(IkeSa& sa, Timestamp /*now*/, const Message& m) {
  if (initiator()) return ProcessResponse(sa, m);
  ProcessRequest(sa, m);
  return TaskStatus::kNeedMore;
}

void ChildCreate::Abort(IkeSa& /*sa*/) {}

TaskStatus ChildCreate::ProcessResponse(IkeSa& sa, const Message& m) {
  if (sa.state() != IkeSaState::kEstablished) return TaskStatus::kDone;
  auto fail = [&](std::optional<NotifyType> n, const std::string& why) {
    MIPSEC_LOG(sa.log(), kNotice) << "CHILD SA not created: " << why;
    sa.Emit(ChildSaFailed{n, why});
    return TaskStatus::kDone;
  };
  for (const NotifyPayload* n : m.Notifies()) {
    if (!n->is_error()) continue;
    if (n->type == NotifyType::kInvalidKePayload && !in_auth()) {
      Result<std::uint16_t> g = ParseInvalidKePayload(*n);
      const bool offered =
          g.ok() && std::any_of(offered_.begin(), offered_.end(),
                                [&](const Suite& s) { return s.dh() == static_cast<DhId>(*g); });
      if (offered && static_cast<DhId>(*g) != group_ && ++retries_ <= 1) {
        group_ = static_cast<DhId>(*g);
        ke_.reset();
        return TaskStatus::kNeedMore;  // a new CREATE_CHILD_SA exchange
      }
    }
    if (n->type == NotifyType::kInternalAddressFailure) {
      return fail(n->type, "peer sent INTERNAL_ADDRESS_FAILURE");
    }
    if (m.Find(PayloadType::kSa) == nullptr) {
      return fail(n->type, "peer refused with " + NotifyTypeName(n->type));
    }
  }
  const Payload* sap = m.Find(PayloadType::kSa);
  if (sap == nullptr) return fail(std::nullopt, "no SA payload in the response");
  if (m.FindNotify(NotifyType::kUseTransportMode) != nullptr) {
    return fail(std::nullopt, "peer answered with transport mode, which we did not ask for");
  }
  Result<Selection> sel = CheckSelection(*sap->As<SaPayload>(), offered_, ProtocolId::kEsp);
  if (!sel.ok()) return fail(std::nullopt, sel.error().ToString());
  if (sel->spi.size() != 4) return fail(std::nullopt, "ESP SPI of the wrong size");
  const TsPayload* tsi = FindTs(m, PayloadType::kTsi);
  const TsPayload* tsr = FindTs(m, PayloadType::kTsr);
  if (tsi == nullptr || tsr == nullptr) return fail(std::nullopt, "no TSi/TSr in the response");
  // RFC 7296 2.9: the responder may narrow, never widen.
  if (!OnlyNarrowed(tsi->selectors, local_ts_) || !OnlyNarrowed(tsr->selectors, remote_ts_)) {
    return fail(std::nullopt, "response selectors " + TsListToString(tsi->selectors) + " === " +
                                  TsListToString(tsr->selectors) + " not within the proposal");
  }
  const IkeSaKeys* keys = sa.keys();
  std::optional<SecretBytes> gir;
  ByteSpan ni = sa.ni(), nr = sa.nr();
  if (!in_auth()) {
    const Payload* np = m.Find(PayloadType::kNonce);
    if (np == nullptr) return fail(std::nullopt, "no Nr");
    nr_ = np->As<NoncePayload>()->data;
    ni = ni_;
    nr = nr_;
    if (sel->suite.dh() != DhId::kNone) {
      const Payload* kp = m.Find(PayloadType::kKe);
      if (kp == nullptr || !ke_) return fail(std::nullopt, "no KEr for the PFS group");
      Result<SecretBytes> s = ComputeSharedSecret(
          *ke_, static_cast<DhId>(kp->As<KePayload>()->dh_group), kp->As<KePayload>()->data);
      if (!s.ok()) return fail(std::nullopt, "KEr: " + s.error().ToString());
      gir = std::move(*s);
    }
  }
  Result<ChildSaKeys> km = DeriveChildSaKeys(sa.prf(), keys->sk_d, sel->suite, ni, nr,
                                             gir ? &*gir : nullptr);
  if (!km.ok()) return fail(std::nullopt, "keys: " + km.error().ToString());
  ChildSaInfo info{sel->suite};
  info.spi_in = spi_in_;
  info.spi_out = wire::LoadU32(sel->spi, 0);
  info.keys_in = std::move(km->responder_to_initiator);
  info.keys_out = std::move(km->initiator_to_responder);
  info.local_ts = tsi->selectors;
  info.remote_ts = tsr->selectors;
  info.initiator = true;
  created_ = spi_in_;
  sa.AddChild(sa.now(), std::move(info), replaces_);
  return TaskStatus::kDone;
}

void ChildCreate::Refuse(IkeSa& sa, NotifyPayload n, const std::string& why) {
  MIPSEC_LOG(sa.log(), kNotice) << "refusing CHILD SA: " << why;
  sa.Emit(ChildSaFailed{n.type, why});
  error_ = std::move(n);
}

void ChildCreate::ProcessRequest(IkeSa& sa, const Message& m) {
  const PeerConfig& c = sa.config();
  if (in_auth()) {
    // Childless (RFC 6023) or refused configuration (3.10.1): no CHILD SA.
    if (m.Find(PayloadType::kSa) == nullptr || sa.virtual_ip_failed()) {
      skip_ = true;
      return;
    }
  } else {
    const SaPayload* offer = m.Find(PayloadType::kSa)->As<SaPayload>();
    const bool ike = !offer->proposals.empty() && offer->proposals[0].protocol == ProtocolId::kIke;
    if ((m.FindNotify(NotifyType::kRekeySa) != nullptr && !replaces_) || ike) {
      // Rekeys are ChildRekey's / IkeRekey's (TaskManager dispatch).
      Refuse(sa, NotifyPayload::Make(NotifyType::kNoAdditionalSas), "unexpected rekey request");
      return;
    }
  }
  const SaPayload& offer = *m.Find(PayloadType::kSa)->As<SaPayload>();
  const std::vector<Suite> ours = Offer(c.esp_proposals, in_auth());
  const Payload* kp = in_auth() ? nullptr : m.Find(PayloadType::kKe);
  std::optional<DhId> ke_group;
  if (kp != nullptr) ke_group = static_cast<DhId>(kp->As<KePayload>()->dh_group);
  Result<Selection> sel = SelectProposal(offer, ours, ProtocolId::kEsp, ke_group);
  if (!sel.ok()) {
    Refuse(sa, NotifyPayload::Make(NotifyType::kNoProposalChosen), sel.error().ToString());
    return;
  }
  const TsPayload* tsi = FindTs(m, PayloadType::kTsi);
  const TsPayload* tsr = FindTs(m, PayloadType::kTsr);
  if (tsi == nullptr || tsr == nullptr) {
    Refuse(sa, NotifyPayload::Make(NotifyType::kTsUnacceptable), "no TSi/TSr");
    return;
  }
  // RFC 7296 2.9: narrow to our policy; the peer's side to its virtual IP.
  std::vector<TrafficSelector> allowed_remote = c.remote_ts;
  if (sa.peer_virtual_ip()) {
    const TrafficSelector host =
        TrafficSelector::Ipv4Range(*sa.peer_virtual_ip(), *sa.peer_virtual_ip());
    allowed_remote = allowed_remote.empty() ? std::vector<TrafficSelector>{host}
                                            : Narrow(std::vector<TrafficSelector>{host},
                                                     allowed_remote);
  }
  std::vector<TrafficSelector> narrowed_i = Narrow(tsi->selectors, allowed_remote);
  std::vector<TrafficSelector> narrowed_r = Narrow(tsr->selectors, c.local_ts);
  if (narrowed_i.empty() || narrowed_r.empty()) {
    Refuse(sa, NotifyPayload::Make(NotifyType::kTsUnacceptable),
           "selectors " + TsListToString(tsi->selectors) + " === " +
               TsListToString(tsr->selectors) + " outside our policy");
    return;
  }
  std::optional<SecretBytes> gir;
  ByteSpan ni = sa.ni(), nr = sa.nr();
  if (!in_auth()) {
    ni_ = m.Find(PayloadType::kNonce)->As<NoncePayload>()->data;
    nr_ = sa.NewNonce();
    ni = ni_;
    nr = nr_;
    group_ = sel->suite.dh();
    if (group_ != DhId::kNone) {
      if (!ke_group || *ke_group != group_) {
        // RFC 7296 1.3: ask for the group of the selected proposal.
        Refuse(sa, MakeInvalidKePayload(static_cast<std::uint16_t>(group_)),
               "KE group differs from the selected proposal's");
        return;
      }
      Result<std::unique_ptr<crypto::KeyExchange>> ke = NewKeyExchange(group_, sa.rng());
      Result<SecretBytes> s = ke.ok() ? ComputeSharedSecret(**ke, *ke_group,
                                                            kp->As<KePayload>()->data)
                                      : Result<SecretBytes>(ke.error());
      if (!s.ok()) {
        Refuse(sa, NotifyPayload::Make(NotifyType::kNoProposalChosen), s.error().ToString());
        return;
      }
      ke_ = std::move(*ke);
      gir = std::move(*s);
    }
  }
  if (sel->spi.size() != 4) {
    Refuse(sa, NotifyPayload::Make(NotifyType::kNoProposalChosen), "ESP SPI of the wrong size");
    return;
  }
  Result<ChildSaKeys> km = DeriveChildSaKeys(sa.prf(), sa.keys()->sk_d, sel->suite, ni, nr,
                                             gir ? &*gir : nullptr);
  if (!km.ok()) {
    Refuse(sa, NotifyPayload::Make(NotifyType::kNoProposalChosen), km.error().ToString());
    return;
  }
  ChildSaInfo info{sel->suite};
  info.spi_in = sa.AllocateChildSpi();
  info.spi_out = wire::LoadU32(sel->spi, 0);
  info.keys_in = std::move(km->initiator_to_responder);
  info.keys_out = std::move(km->responder_to_initiator);
  info.local_ts = std::move(narrowed_r);
  info.remote_ts = std::move(narrowed_i);
  info.initiator = false;
  proposal_number_ = sel->number;
  child_ = std::move(info);
}

}  // namespace mipsec::ikev2
