#include "ikev2/tasks/ike_rekey.h"

#include <algorithm>
#include <utility>

#include "common/log.h"
#include "common/wire/reader.h"
#include "common/wire/writer.h"
#include "ikev2/codec/notify_data.h"
#include "ikev2/crypto/key_exchange.h"
#include "ikev2/crypto/keys.h"
#include "ikev2/sa/ike_sa.h"
#include "ikev2/tasks/ike_delete.h"

namespace mipsec::ikev2 {
namespace {

Bytes Spi64(std::uint64_t spi) {
  Bytes b(8);
  wire::StoreU32(b, 0, static_cast<std::uint32_t>(spi >> 32));
  wire::StoreU32(b, 4, static_cast<std::uint32_t>(spi));
  return b;
}

std::uint64_t LoadSpi64(const Bytes& b) {
  return (static_cast<std::uint64_t>(wire::LoadU32(b, 0)) << 32) | wire::LoadU32(b, 4);
}

std::uint64_t NewSpi(IkeSa& sa) {
  std::uint64_t v = 0;
  while (v == 0) v = sa.rng().U64();
  return v;
}

// RFC 7296 2.8.1: octet by octet; a nonce that is a prefix of the other is
// the lower one (std::lexicographical_compare does exactly that).
const Bytes& Lower(const Bytes& a, const Bytes& b) {
  return std::lexicographical_compare(b.begin(), b.end(), a.begin(), a.end()) ? b : a;
}

bool Less(const Bytes& a, const Bytes& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

// SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) (2.18), then the new
// IKE SA's keys with the new suite, nonces and SPIs.
Result<IkeSaKeys> RekeyedKeys(const IkeSa& sa, const Suite& suite, const SecretBytes& gir,
                              const Bytes& ni, const Bytes& nr, std::uint64_t spi_i,
                              std::uint64_t spi_r) {
  MIPSEC_ASSIGN_OR_RETURN(SecretBytes skeyseed,
                          ComputeRekeySkeyseed(sa.prf(), sa.keys()->sk_d, gir, ni, nr));
  return DeriveIkeSaKeys(suite, skeyseed, ni, nr, spi_i, spi_r);
}

}  // namespace

void IkeRekey::NoteCollision(Bytes ni, Bytes nr, std::weak_ptr<IkeSa> peer_sa) {
  collision_ = Collision{std::move(ni), std::move(nr), std::move(peer_sa)};
}

TaskStatus IkeRekey::Build(IkeSa& sa, Timestamp now, Message& m) {
  if (!initiator()) {
    if (refusal_) {
      AddPayload(m, Payload::Notify(*refusal_));
      return TaskStatus::kDone;
    }
    if (!selected_ || !ke_ || !gir_) return TaskStatus::kDone;
    new_spi_ = NewSpi(sa);
    Result<IkeSaKeys> keys =
        RekeyedKeys(sa, selected_->suite, *gir_, ni_, nr_, peer_spi_, new_spi_);
    Result<std::shared_ptr<IkeSa>> next =
        keys.ok()
            ? sa.MakeSuccessor(now, false, peer_spi_, new_spi_, selected_->suite, std::move(*keys))
            : Result<std::shared_ptr<IkeSa>>(keys.error());
    gir_.reset();
    if (!next.ok()) {
      MIPSEC_LOG(sa.log(), kNotice) << "IKE SA rekey: " << next.error().ToString();
      AddPayload(m, Payload::Notify(NotifyPayload::Make(NotifyType::kNoProposalChosen)));
      return TaskStatus::kDone;
    }
    // RFC 7296 1.3.2: SA (with the new responder SPI), Nr, KEr.
    AddPayload(m, Payload::Sa(SaPayload{{ProposalFromSuite(selected_->suite, selected_->number,
                                                           ProtocolId::kIke, Spi64(new_spi_))}}));
    AddPayload(m, Payload::Nonce(NoncePayload{nr_}));
    AddPayload(
        m, Payload::Ke(KePayload{static_cast<std::uint16_t>(group_),
                                 Bytes(ke_->public_value().begin(), ke_->public_value().end())}));
    if (Task* t = sa.task_manager().FindActive(TaskType::kIkeRekey)) {
      // 2.8.2 / 2.25.2: we rekey this IKE SA too; our exchange decides.
      MIPSEC_LOG(sa.log(), kInfo) << "simultaneous IKE SA rekey noticed";
      static_cast<IkeRekey*>(t)->NoteCollision(ni_, nr_, *next);
    } else {
      sa.HandOver(now, **next);  // the peer deletes the old IKE SA
    }
    return TaskStatus::kDone;
  }
  if (sa.state() != IkeSaState::kEstablished || sa.superseded()) return TaskStatus::kDone;
  const PeerConfig& c = sa.config();
  if (group_ == DhId::kNone) group_ = c.ike_proposals.front().dh();
  Result<std::unique_ptr<crypto::KeyExchange>> ke = NewKeyExchange(group_, sa.rng());
  if (!ke.ok()) {
    MIPSEC_LOG(sa.log(), kNotice) << "IKE SA rekey: key exchange: " << ke.error().ToString();
    return TaskStatus::kDone;
  }
  ke_ = std::move(*ke);
  if (new_spi_ == 0) new_spi_ = NewSpi(sa);
  ni_ = sa.NewNonce();
  collision_.reset();
  // RFC 7296 1.3.2: SA (with the new initiator SPI), Ni, KEi.
  AddPayload(m, Payload::Sa(MakeOffer(c.ike_proposals, ProtocolId::kIke, Spi64(new_spi_))));
  AddPayload(m, Payload::Nonce(NoncePayload{ni_}));
  AddPayload(m,
             Payload::Ke(KePayload{static_cast<std::uint16_t>(group_),
                                   Bytes(ke_->public_value().begin(), ke_->public_value().end())}));
  return TaskStatus::kNeedMore;
}

TaskStatus IkeRekey::Process(IkeSa& sa, Timestamp now, const Message& m) {
  if (initiator()) return ProcessResponse(sa, now, m);
  ProcessRequest(sa, m);
  return TaskStatus::kNeedMore;
}

void IkeRekey::ProcessRequest(IkeSa& sa, const Message& m) {
  const TaskManager& tm = sa.task_manager();
  auto refuse = [&](NotifyPayload n, const char* why) {
    MIPSEC_LOG(sa.log(), kInfo) << "refusing IKE SA rekey: " << why;
    refusal_ = std::move(n);
  };
  // RFC 7296 2.25.1 / 2.25.2 / 2.8.2: temporary conditions.
  if (tm.HasActive(TaskType::kChildCreate) || tm.HasActive(TaskType::kChildRekey) ||
      tm.HasActive(TaskType::kChildDelete)) {
    return refuse(NotifyPayload::Make(NotifyType::kTemporaryFailure),
                  "a CHILD SA exchange of ours is in progress");
  }
  if (sa.state() != IkeSaState::kEstablished || tm.HasActive(TaskType::kIkeDelete)) {
    return refuse(NotifyPayload::Make(NotifyType::kTemporaryFailure), "the IKE SA is closing");
  }
  if (sa.superseded()) {
    return refuse(NotifyPayload::Make(NotifyType::kTemporaryFailure),
                  "the IKE SA was rekeyed already");
  }
  const SaPayload& offer = *m.Find(PayloadType::kSa)->As<SaPayload>();
  const Payload* kp = m.Find(PayloadType::kKe);
  const Payload* np = m.Find(PayloadType::kNonce);
  if (kp == nullptr || np == nullptr) {
    return refuse(NotifyPayload::Make(NotifyType::kInvalidSyntax), "no KE or Nonce");
  }
  const KePayload& peer_ke = *kp->As<KePayload>();
  Result<Selection> sel = SelectProposal(offer, sa.config().ike_proposals, ProtocolId::kIke,
                                         static_cast<DhId>(peer_ke.dh_group));
  if (!sel.ok()) {
    return refuse(NotifyPayload::Make(NotifyType::kNoProposalChosen), "no acceptable proposal");
  }
  if (sel->spi.size() != 8) {
    return refuse(NotifyPayload::Make(NotifyType::kInvalidSyntax), "IKE SPI of the wrong size");
  }
  group_ = sel->suite.dh();
  if (static_cast<DhId>(peer_ke.dh_group) != group_) {
    // RFC 7296 1.3.2 / 2.7: ask for the selected proposal's group.
    return refuse(MakeInvalidKePayload(static_cast<std::uint16_t>(group_)), "KE group differs");
  }
  Result<std::unique_ptr<crypto::KeyExchange>> ke = NewKeyExchange(group_, sa.rng());
  if (!ke.ok()) {
    return refuse(NotifyPayload::Make(NotifyType::kNoProposalChosen), "key exchange failed");
  }
  ke_ = std::move(*ke);
  Result<SecretBytes> gir = ComputeSharedSecret(*ke_, group_, peer_ke.data);
  if (!gir.ok()) {
    ke_.reset();
    return refuse(NotifyPayload::Make(NotifyType::kInvalidSyntax), "bad KE value");
  }
  ni_ = np->As<NoncePayload>()->data;
  nr_ = sa.NewNonce();
  peer_spi_ = LoadSpi64(sel->spi);
  selected_ = std::move(*sel);
  // The new SA's SPI is chosen in Build(); keep the secret until then.
  gir_ = std::move(*gir);
}

TaskStatus IkeRekey::ProcessResponse(IkeSa& sa, Timestamp now, const Message& m) {
  if (sa.state() != IkeSaState::kEstablished) return TaskStatus::kDone;
  auto give_up = [&](const std::string& why) {
    MIPSEC_LOG(sa.log(), kNotice) << "IKE SA not rekeyed: " << why;
    AdoptPeerSa(sa);
    return TaskStatus::kDone;
  };
  for (const NotifyPayload* n : m.Notifies()) {
    if (!n->is_error()) continue;
    if (n->type == NotifyType::kTemporaryFailure) {
      // 2.8.2: the peer finished its own rekey first: its new IKE SA wins.
      if (AdoptPeerSa(sa)) return TaskStatus::kDone;
      sa.ScheduleRekeyRetry(now);
      return TaskStatus::kDone;
    }
    if (n->type == NotifyType::kInvalidKePayload && !collision_) {
      Result<std::uint16_t> g = ParseInvalidKePayload(*n);
      const auto& offered = sa.config().ike_proposals;
      const bool ok = g.ok() && std::any_of(offered.begin(), offered.end(), [&](const Suite& s) {
                        return s.dh() == static_cast<DhId>(*g);
                      });
      if (ok && static_cast<DhId>(*g) != group_ && ++ke_retries_ <= 1) {
        group_ = static_cast<DhId>(*g);
        ke_.reset();
        return TaskStatus::kNeedMore;  // a new CREATE_CHILD_SA exchange
      }
    }
    return give_up("peer sent " + NotifyTypeName(n->type));
  }
  const Payload* sap = m.Find(PayloadType::kSa);
  const Payload* kp = m.Find(PayloadType::kKe);
  const Payload* np = m.Find(PayloadType::kNonce);
  if (sap == nullptr || kp == nullptr || np == nullptr) return give_up("no SA, KE or Nonce");
  Result<Selection> sel =
      CheckSelection(*sap->As<SaPayload>(), sa.config().ike_proposals, ProtocolId::kIke);
  if (!sel.ok()) return give_up(sel.error().ToString());
  if (sel->spi.size() != 8) return give_up("IKE SPI of the wrong size");
  const KePayload& peer_ke = *kp->As<KePayload>();
  if (!ke_ || sel->suite.dh() != group_) return give_up("KEr not of the offered group");
  Result<SecretBytes> gir =
      ComputeSharedSecret(*ke_, static_cast<DhId>(peer_ke.dh_group), peer_ke.data);
  if (!gir.ok()) return give_up("KEr: " + gir.error().ToString());
  nr_ = np->As<NoncePayload>()->data;
  const std::uint64_t spi_r = LoadSpi64(sel->spi);
  Result<IkeSaKeys> keys = RekeyedKeys(sa, sel->suite, *gir, ni_, nr_, new_spi_, spi_r);
  if (!keys.ok()) return give_up("keys: " + keys.error().ToString());
  Result<std::shared_ptr<IkeSa>> ours =
      sa.MakeSuccessor(now, true, new_spi_, spi_r, sel->suite, std::move(*keys));
  if (!ours.ok()) return give_up(ours.error().ToString());
  sa.RekeyDone();

  std::shared_ptr<IkeSa> peer = collision_ ? collision_->sa.lock() : nullptr;
  if (peer && peer->state() != IkeSaState::kDown) {
    // 2.8.2: three IKE SAs now. The new one whose exchange holds the lowest
    // of the four nonces is deleted by its creator; the other inherits.
    const Bytes& mine = Lower(ni_, nr_);
    const Bytes& theirs = Lower(collision_->ni, collision_->nr);
    if (Less(mine, theirs)) {
      MIPSEC_LOG(sa.log(), kInfo) << "IKE SA rekey collision lost, deleting our new IKE SA";
      sa.HandOver(now, *peer);
      (*ours)->Delete(now);
      collision_.reset();
      return TaskStatus::kDone;  // the peer deletes the old IKE SA
    }
    MIPSEC_LOG(sa.log(), kInfo) << "IKE SA rekey collision won";
    // The peer deletes its redundant new IKE SA (`peer`).
  }
  collision_.reset();
  sa.HandOver(now, **ours);
  // 2.8: the initiator of the surviving rekey deletes the old IKE SA.
  sa.task_manager().Queue(std::make_unique<IkeDelete>(true));
  return TaskStatus::kDone;
}

bool IkeRekey::AdoptPeerSa(IkeSa& sa) {
  if (!collision_) return false;
  std::shared_ptr<IkeSa> peer = collision_->sa.lock();
  collision_.reset();
  if (!peer || peer->state() == IkeSaState::kDown || sa.superseded()) return false;
  MIPSEC_LOG(sa.log(), kInfo) << "the peer's simultaneous IKE SA rekey stands";
  sa.HandOver(sa.now(), *peer);
  return true;
}

void IkeRekey::Abort(IkeSa& sa) {
  // 2.25.2: the peer deleted the old IKE SA while we were rekeying it: if
  // we answered its rekey, its new IKE SA inherits; our attempt is dropped.
  if (initiator()) AdoptPeerSa(sa);
}

}  // namespace mipsec::ikev2
