#include "ikev2/tasks/ike_init.h"

#include <algorithm>
#include <string>

#include "common/log.h"
#include "ikev2/codec/notify_data.h"
#include "ikev2/crypto/auth.h"
#include "ikev2/crypto/key_exchange.h"
#include "ikev2/crypto/keys.h"
#include "ikev2/sa/ike_sa.h"

namespace mipsec::ikev2 {
namespace {

bool Offered(const std::vector<Suite>& ours, DhId g) {
  return std::any_of(ours.begin(), ours.end(), [&](const Suite& s) { return s.dh() == g; });
}

}  // namespace

void IkeInit::AddAnnouncements(IkeSa& sa, Message& m) const {
  // RFC 7383 2.3: the responder announces only if the initiator did.
  if (sa.config().fragmentation && (initiator() || sa.peer_fragmentation())) {
    AddPayload(m, Payload::Notify(NotifyPayload::Make(NotifyType::kIkev2FragmentationSupported)));
  }
  // RFC 7427 4: both sides announce the hashes they can verify.
  if (initiator() || sa.peer_sig_hashes()) {
    AddPayload(m, Payload::Notify(NotifyPayload::Make(
                      NotifyType::kSignatureHashAlgorithms,
                      EncodeSignatureHashAlgorithms(SupportedSignatureHashes()))));
  }
}

void IkeInit::ReadAnnouncements(IkeSa& sa, const Message& m) const {
  sa.peer_fragmentation() = m.FindNotify(NotifyType::kIkev2FragmentationSupported) != nullptr;
  if (const NotifyPayload* n = m.FindNotify(NotifyType::kSignatureHashAlgorithms)) {
    Result<std::vector<SigHashAlg>> algs = DecodeSignatureHashAlgorithms(n->data);
    if (algs.ok()) sa.peer_sig_hashes() = std::move(*algs);
  }
}

TaskStatus IkeInit::Build(IkeSa& sa, Timestamp /*now*/, Message& m) {
  if (!initiator()) {
    // Response (after ProcessRequest succeeded).
    AddPayload(m, Payload::Sa(SaPayload{
                      {ProposalFromSuite(selected_->suite, selected_->number, ProtocolId::kIke, {})}}));
    AddPayload(m, Payload::Ke(KePayload{static_cast<std::uint16_t>(group_),
                                        Bytes(ke_->public_value().begin(),
                                              ke_->public_value().end())}));
    AddPayload(m, Payload::Nonce(NoncePayload{sa.nr()}));
    AddAnnouncements(sa, m);
    return TaskStatus::kDone;
  }
  const PeerConfig& c = sa.config();
  if (group_ == DhId::kNone) group_ = c.ike_proposals.front().dh();
  if (!ke_ || static_cast<DhId>(ke_->group()) != group_) {
    Result<std::unique_ptr<crypto::KeyExchange>> ke = NewKeyExchange(group_, sa.rng());
    if (!ke.ok()) {
      sa.Fail(IkeDownReason::kFailed, "key exchange: " + ke.error().ToString());
      return TaskStatus::kFailed;
    }
    ke_ = std::move(*ke);
  }
  if (sa.ni().empty()) sa.ni() = sa.NewNonce();
  if (!sa.cookie().empty()) {
    // RFC 7296 2.6: the COOKIE notify comes first.
    Result<NotifyPayload> cookie = MakeCookie(sa.cookie());
    if (cookie.ok()) AddPayload(m, Payload::Notify(std::move(*cookie)));
  }
  AddPayload(m, Payload::Sa(MakeOffer(c.ike_proposals, ProtocolId::kIke, {})));
  AddPayload(m, Payload::Ke(KePayload{
                    static_cast<std::uint16_t>(group_),
                    Bytes(ke_->public_value().begin(), ke_->public_value().end())}));
  AddPayload(m, Payload::Nonce(NoncePayload{sa.ni()}));
  AddAnnouncements(sa, m);
  return TaskStatus::kNeedMore;
}

TaskStatus IkeInit::Process(IkeSa& sa, Timestamp /*now*/, const Message& m) {
  return initiator() ? ProcessResponse(sa, m) : ProcessRequest(sa, m);
}

Status IkeInit::DeriveKeys(IkeSa& sa, const Suite& suite, const KePayload& peer_ke) {
  MIPSEC_ASSIGN_OR_RETURN(SecretBytes gir,
                          ComputeSharedSecret(*ke_, static_cast<DhId>(peer_ke.dh_group),
                                              peer_ke.data));
  MIPSEC_ASSIGN_OR_RETURN(SecretBytes skeyseed,
                          ComputeSkeyseed(suite.prf(), sa.ni(), sa.nr(), gir));
  MIPSEC_ASSIGN_OR_RETURN(IkeSaKeys keys, DeriveIkeSaKeys(suite, skeyseed, sa.ni(), sa.nr(),
                                                          sa.spi_i(), sa.spi_r()));
  return sa.InstallKeys(suite, std::move(keys));
}

TaskStatus IkeInit::ProcessResponse(IkeSa& sa, const Message& m) {
  const PeerConfig& c = sa.config();
  if (const NotifyPayload* n = m.FindNotify(NotifyType::kCookie)) {
    Result<Bytes> cookie = ParseCookie(*n);
    if (!cookie.ok() || ++retries_ > kMaxRetries) {
      sa.Fail(IkeDownReason::kFailed, "COOKIE: " + (cookie.ok() ? std::string("too many retries")
                                                                  : cookie.error().ToString()));
      return TaskStatus::kFailed;
    }
    MIPSEC_LOG(sa.log(), kInfo) << "responder asks for a COOKIE, retrying IKE_SA_INIT";
    sa.cookie() = std::move(*cookie);
    return TaskStatus::kNeedMore;
  }
  if (const NotifyPayload* n = m.FindNotify(NotifyType::kInvalidKePayload)) {
    Result<std::uint16_t> g = ParseInvalidKePayload(*n);
    // RFC 7296 1.2: retry only with a group we offered, and not the same one.
    if (!g.ok() || !Offered(c.ike_proposals, static_cast<DhId>(*g)) ||
        static_cast<DhId>(*g) == group_ || ++retries_ > kMaxRetries) {
      sa.Fail(IkeDownReason::kFailed, "INVALID_KE_PAYLOAD with an unusable group");
      return TaskStatus::kFailed;
    }
    MIPSEC_LOG(sa.log(), kInfo) << "responder wants DH group " << *g << ", retrying IKE_SA_INIT";
    group_ = static_cast<DhId>(*g);
    return TaskStatus::kNeedMore;
  }
  for (const NotifyPayload* n : m.Notifies()) {
    if (!n->is_error()) continue;
    sa.Fail(n->type == NotifyType::kNoProposalChosen ? IkeDownReason::kNoProposal
                                                     : IkeDownReason::kFailed,
            "IKE_SA_INIT refused with " + NotifyTypeName(n->type));
    return TaskStatus::kFailed;
  }
  const SaPayload* sap = m.Find(PayloadType::kSa)->As<SaPayload>();
  const KePayload* ke = m.Find(PayloadType::kKe)->As<KePayload>();
  const NoncePayload* nr = m.Find(PayloadType::kNonce)->As<NoncePayload>();
  Result<Selection> sel = CheckSelection(*sap, c.ike_proposals, ProtocolId::kIke);
  if (!sel.ok()) {
    sa.Fail(IkeDownReason::kFailed, "IKE_SA_INIT response: " + sel.error().ToString());
    return TaskStatus::kFailed;
  }
  if (sel->suite.dh() != group_ || static_cast<DhId>(ke->dh_group) != group_) {
    sa.Fail(IkeDownReason::kFailed, "IKE_SA_INIT response: DH group differs from our KE");
    return TaskStatus::kFailed;
  }
  if (m.header.spi_r == 0) {
    sa.Fail(IkeDownReason::kFailed, "IKE_SA_INIT response with a zero responder SPI");
    return TaskStatus::kFailed;
  }
  sa.set_spi_r(m.header.spi_r);
  sa.nr() = nr->data;
  if (Status s = DeriveKeys(sa, sel->suite, *ke); !s.ok()) {
    sa.Fail(IkeDownReason::kFailed, "IKE_SA_INIT keys: " + s.error().ToString());
    return TaskStatus::kFailed;
  }
  ReadAnnouncements(sa, m);
  return TaskStatus::kDone;
}

TaskStatus IkeInit::ProcessRequest(IkeSa& sa, const Message& m) {
  const PeerConfig& c = sa.config();
  const SaPayload* sap = m.Find(PayloadType::kSa)->As<SaPayload>();
  const KePayload* ke = m.Find(PayloadType::kKe)->As<KePayload>();
  const NoncePayload* ni = m.Find(PayloadType::kNonce)->As<NoncePayload>();
  Result<Selection> sel =
      SelectProposal(*sap, c.ike_proposals, ProtocolId::kIke, static_cast<DhId>(ke->dh_group));
  if (!sel.ok()) {
    MIPSEC_LOG(sa.log(), kNotice) << "IKE_SA_INIT: " << sel.error().ToString();
    failure_ = NotifyPayload::Make(NotifyType::kNoProposalChosen);
    return TaskStatus::kFailed;
  }
  if (static_cast<DhId>(ke->dh_group) != sel->suite.dh()) {
    // RFC 7296 1.2 / 2.7: ask for the group of the selected proposal.
    failure_ = MakeInvalidKePayload(static_cast<std::uint16_t>(sel->suite.dh()));
    return TaskStatus::kFailed;
  }
  group_ = sel->suite.dh();
  Result<std::unique_ptr<crypto::KeyExchange>> ours = NewKeyExchange(group_, sa.rng());
  if (!ours.ok()) {
    failure_ = NotifyPayload::Make(NotifyType::kNoProposalChosen);
    return TaskStatus::kFailed;
  }
  ke_ = std::move(*ours);
  sa.ni() = ni->data;
  sa.nr() = sa.NewNonce();
  if (Status s = DeriveKeys(sa, sel->suite, *ke); !s.ok()) {
    // RFC 6989 2.5: an invalid public value.
    MIPSEC_LOG(sa.log(), kNotice) << "IKE_SA_INIT: " << s.error().ToString();
    failure_ = NotifyPayload::Make(NotifyType::kInvalidSyntax);
    return TaskStatus::kFailed;
  }
  ReadAnnouncements(sa, m);
  selected_ = std::move(*sel);
  return TaskStatus::kNeedMore;
}

}  // namespace mipsec::ikev2
