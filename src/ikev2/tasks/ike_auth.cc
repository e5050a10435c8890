#include "ikev2/tasks/ike_auth.h"

#include <span>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/wire/writer.h"
#include "crypto/hash.h"
#include "crypto/x509.h"
#include "ikev2/crypto/auth.h"
#include "ikev2/crypto/identity.h"
#include "ikev2/sa/ike_sa.h"

namespace mipsec::ikev2 {

Bytes IdPayloadBody(const IdPayload& id) {
  wire::Writer w;
  id.Encode(w);
  return std::move(w).Take();
}

Status IkeAuth::AddOurAuth(IkeSa& sa, Message& m) {
  const PeerConfig& c = sa.config();
  const IkeSaKeys* keys = sa.keys();
  if (keys == nullptr) return Error(Errc::kState, "no IKE SA keys");
  // RFC 7296 2.15: our RealMessage (our IKE_SA_INIT message), the peer's
  // nonce, and prf(SK_px, our ID).
  const bool i = initiator();
  MIPSEC_ASSIGN_OR_RETURN(
      Bytes octets,
      SignedOctets(i ? sa.init_request() : sa.init_response(), i ? sa.nr() : sa.ni(), sa.prf(),
                   i ? keys->sk_pi : keys->sk_pr, IdPayloadBody(c.local_id)));
  if (c.local_auth.kind == AuthKind::kPsk) {
    const SecretBytes& psk = peer_psk_ != nullptr ? *peer_psk_ : c.local_auth.psk;
    MIPSEC_ASSIGN_OR_RETURN(Bytes data, PskAuthData(sa.prf(), psk, octets));
    AddPayload(m, Payload::Auth(AuthPayload{AuthMethod::kSharedKeyMic, std::move(data)}));
    return Ok{};
  }
  if (!c.local_auth.private_key) return Error(Errc::kInvalidArgument, "no private key");
  std::optional<std::span<const SigHashAlg>> peer_hashes;
  if (sa.peer_sig_hashes()) peer_hashes = std::span<const SigHashAlg>(*sa.peer_sig_hashes());
  MIPSEC_ASSIGN_OR_RETURN(AuthPayloadData auth,
                          SignAuth(*c.local_auth.private_key, octets, peer_hashes,
                                   SignOptions{c.local_auth.rsa_pss}));
  AddPayload(m, Payload::Auth(AuthPayload{auth.method, std::move(auth.data)}));
  return Ok{};
}

TaskStatus IkeAuth::Build(IkeSa& sa, Timestamp now, Message& m) {
  const PeerConfig& c = sa.config();
  AddPayload(m, initiator() ? Payload::Idi(c.local_id) : Payload::Idr(c.local_id));
  if (c.local_auth.kind == AuthKind::kCertificate && c.local_auth.certificate) {
    AddPayload(m, Payload::Cert(CertPayload{CertEncoding::kX509Signature,
                                            c.local_auth.certificate->der()}));
    for (const crypto::Certificate& ca : c.local_auth.intermediates) {
      AddPayload(m, Payload::Cert(CertPayload{CertEncoding::kX509Signature, ca.der()}));
    }
  }
  if (initiator() && c.remote_auth.kind == AuthKind::kCertificate) {
    // RFC 7296 3.7: SHA-1 hashes of the trust anchors' public keys.
    CertReqPayload req;
    for (const crypto::Certificate& ca : c.remote_auth.trust_anchors) {
      Result<crypto::PublicKey> key = ca.public_key();
      if (!key.ok()) continue;
      Result<Bytes> spki = key->ToSpkiDer();
      if (!spki.ok()) continue;
      Result<Bytes> h = crypto::Hash(crypto::HashAlg::kSha1, *spki);
      if (h.ok()) req.authorities.insert(req.authorities.end(), h->begin(), h->end());
    }
    AddPayload(m, Payload::CertReq(std::move(req)));
  }
  if (initiator() && c.send_idr && c.remote_id) AddPayload(m, Payload::Idr(*c.remote_id));
  if (Status s = AddOurAuth(sa, m); !s.ok()) {
    MIPSEC_LOG(sa.log(), kError) << "cannot authenticate: " << s.error().ToString();
    if (initiator()) {
      sa.Fail(IkeDownReason::kFailed, "building AUTH: " + s.error().ToString());
    } else {
      failure_ = NotifyPayload::Make(NotifyType::kAuthenticationFailed);
    }
    return TaskStatus::kFailed;
  }
  if (initiator()) {
    if (c.initial_contact) {
      AddPayload(m, Payload::Notify(NotifyPayload::Make(NotifyType::kInitialContact)));
    }
    return TaskStatus::kNeedMore;
  }
  sa.SetEstablished(now);
  return TaskStatus::kDone;
}

Status IkeAuth::VerifyPeer(IkeSa& sa, Timestamp now, const Message& m, const IdPayload& id) {
  const PeerConfig& c = sa.config();
  const IkeSaKeys* keys = sa.keys();
  if (keys == nullptr) return Error(Errc::kState, "no IKE SA keys");
  const Payload* ap = m.Find(PayloadType::kAuth);
  if (ap == nullptr) return Error(Errc::kAuthFailed, "no AUTH payload");
  const AuthPayload& auth = *ap->As<AuthPayload>();
  // The peer's RealMessage, our nonce, prf(SK_p of the peer, its ID).
  const bool i = initiator();
  MIPSEC_ASSIGN_OR_RETURN(
      Bytes octets,
      SignedOctets(i ? sa.init_response() : sa.init_request(), i ? sa.ni() : sa.nr(), sa.prf(),
                   i ? keys->sk_pr : keys->sk_pi, IdPayloadBody(id)));
  if (c.remote_id && !(id == *c.remote_id)) {
    return Error(Errc::kAuthFailed, "peer identity is not the configured one");
  }
  if (c.remote_auth.kind == AuthKind::kPsk) {
    if (auth.method != AuthMethod::kSharedKeyMic) {
      return Error(Errc::kAuthFailed, "peer used auth method " +
                                          std::to_string(static_cast<int>(auth.method)) +
                                          ", PSK expected");
    }
    if (!initiator() && c.psk_provider != nullptr) {
      // RFC 7296 2.15: the shared secret is the one of the identity in IDi.
      peer_psk_ = c.psk_provider->Find(id);
      if (peer_psk_ == nullptr) return Error(Errc::kAuthFailed, "no PSK for the peer's identity");
      return VerifyPskAuth(sa.prf(), *peer_psk_, octets, auth.data);
    }
    return VerifyPskAuth(sa.prf(), c.remote_auth.psk, octets, auth.data);
  }
  std::vector<crypto::Certificate> certs;
  for (const Payload* p : m.FindAll(PayloadType::kCert)) {
    const CertPayload* cp = p->As<CertPayload>();
    if (cp == nullptr || cp->encoding != CertEncoding::kX509Signature) continue;
    MIPSEC_ASSIGN_OR_RETURN(crypto::Certificate cert, crypto::Certificate::FromDer(cp->data));
    certs.push_back(std::move(cert));
  }
  if (certs.empty()) return Error(Errc::kAuthFailed, "no X.509 certificate from the peer");
  std::optional<std::int64_t> unix_time;
  if (c.remote_auth.unix_time_offset) {
    unix_time = (now + *c.remote_auth.unix_time_offset).nanos() / 1'000'000'000;
  }
  MIPSEC_TRY(crypto::VerifyCertificateChain(
      certs[0], std::span<const crypto::Certificate>(certs).subspan(1),
      c.remote_auth.trust_anchors, unix_time));
  MIPSEC_TRY(CertificateMatchesId(certs[0], id.type, id.data));
  MIPSEC_ASSIGN_OR_RETURN(crypto::PublicKey key, certs[0].public_key());
  return VerifySignatureAuth(auth.method, auth.data, key, octets);
}

TaskStatus IkeAuth::Process(IkeSa& sa, Timestamp now, const Message& m) {
  if (initiator()) {
    if (m.FindNotify(NotifyType::kAuthenticationFailed) != nullptr) {
      sa.Fail(IkeDownReason::kAuthFailed, "peer refused our authentication");
      return TaskStatus::kFailed;
    }
    if (m.Find(PayloadType::kEap) != nullptr) {
      sa.Fail(IkeDownReason::kAuthFailed, "peer wants EAP, which is not supported");
      return TaskStatus::kFailed;
    }
    const Payload* idr = m.Find(PayloadType::kIdr);
    if (idr == nullptr || m.Find(PayloadType::kAuth) == nullptr) {
      std::string why = "IKE_AUTH response without IDr/AUTH";
      for (const NotifyPayload* n : m.Notifies()) {
        if (n->is_error()) why = "IKE_AUTH refused with " + NotifyTypeName(n->type);
      }
      sa.Fail(IkeDownReason::kFailed, why);
      return TaskStatus::kFailed;
    }
    const IdPayload& id = *idr->As<IdPayload>();
    if (Status s = VerifyPeer(sa, now, m, id); !s.ok()) {
      sa.Fail(IkeDownReason::kAuthFailed, "responder authentication: " + s.error().ToString());
      return TaskStatus::kFailed;
    }
    sa.set_remote_id(id);
    sa.SetEstablished(now);
    return TaskStatus::kDone;
  }
  failure_ = NotifyPayload::Make(NotifyType::kAuthenticationFailed);
  if (m.Find(PayloadType::kEap) != nullptr || m.Find(PayloadType::kAuth) == nullptr) {
    // RFC 7296 2.16: no AUTH asks for EAP, which we do not offer.
    MIPSEC_LOG(sa.log(), kNotice) << "IKE_AUTH: peer wants EAP, refused";
    return TaskStatus::kFailed;
  }
  const IdPayload& id = *m.Find(PayloadType::kIdi)->As<IdPayload>();
  if (Status s = VerifyPeer(sa, now, m, id); !s.ok()) {
    MIPSEC_LOG(sa.log(), kNotice) << "IKE_AUTH: initiator authentication failed: "
                                  << s.error().ToString();
    return TaskStatus::kFailed;
  }
  failure_.reset();
  sa.set_remote_id(id);
  if (m.FindNotify(NotifyType::kInitialContact) != nullptr) sa.Emit(InitialContact{id});
  return TaskStatus::kNeedMore;
}

}  // namespace mipsec::ikev2
