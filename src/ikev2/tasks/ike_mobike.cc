#include "ikev2/tasks/ike_mobike.h"

#include <string>
#include <vector>

#include "common/log.h"
#include "ikev2/codec/notify_data.h"
#include "ikev2/sa/ike_sa.h"
#include "ikev2/tasks/ike_natd.h"

namespace mipsec::ikev2 {
namespace {

constexpr std::size_t kCookie2Size = 16;  // RFC 4555 4.2.5: 8..64, unpredictable

// Our address list (RFC 4555 3.6): every address but the one in the IP
// header as ADDITIONAL_IP4_ADDRESS, or NO_ADDITIONAL_ADDRESSES.
void AddAddressList(IkeSa& sa, Message& m, bool allow_empty_notify) {
  const std::vector<Ipv4Address> extra = sa.AdditionalLocalAddresses();
  for (Ipv4Address a : extra) AddPayload(m, Payload::Notify(MakeAdditionalIp4Address(a)));
  if (extra.empty() && allow_empty_notify) {
    AddPayload(m, Payload::Notify(MakeNoAdditionalAddresses()));
  }
}

std::vector<Ipv4Address> PeerAdditionalAddresses(const Message& m, bool* any) {
  std::vector<Ipv4Address> out;
  *any = false;
  for (const NotifyPayload* n : m.Notifies()) {
    if (n->type == NotifyType::kNoAdditionalAddresses ||
        n->type == NotifyType::kAdditionalIp6Address) {
      *any = true;  // IPv6 addresses are not usable here, but the list is new
    } else if (n->type == NotifyType::kAdditionalIp4Address) {
      *any = true;
      Result<Ipv4Address> a = ParseAdditionalIp4Address(*n);
      if (a.ok()) out.push_back(*a);
    }
  }
  return out;
}

// RFC 4555 3.9: the content of NO_NATS_ALLOWED must equal the IP header the
// request arrived with. nullopt: absent.
std::optional<bool> NoNatsAllowedMatches(IkeSa& sa, const Message& m) {
  const NotifyPayload* n = m.FindNotify(NotifyType::kNoNatsAllowed);
  if (n == nullptr) return std::nullopt;
  Result<NoNatsAllowed> v = ParseNoNatsAllowed(*n);
  if (!v.ok()) {
    MIPSEC_LOG(sa.log(), kNotice) << "NO_NATS_ALLOWED unusable: " << v.error().ToString();
    return false;
  }
  const bool match = v->source == sa.message_remote() && v->destination == sa.message_local();
  if (!match) {
    // 3.9: its content is used for nothing but troubleshooting.
    MIPSEC_LOG(sa.log(), kNotice) << "NO_NATS_ALLOWED says " << v->source.ToString() << " -> "
                                  << v->destination.ToString() << " but the packet came "
                                  << sa.message_remote().ToString() << " -> "
                                  << sa.message_local().ToString()
                                  << ": UNEXPECTED_NAT_DETECTED";
  }
  return match;
}

}  // namespace

const char* MobikeKindName(IkeMobike::Kind k) {
  switch (k) {
    case IkeMobike::Kind::kAuth: return "auth";
    case IkeMobike::Kind::kUpdate: return "update";
    case IkeMobike::Kind::kAddresses: return "addresses";
    case IkeMobike::Kind::kCheck: return "path check";
    case IkeMobike::Kind::kRoutability: return "return routability check";
    case IkeMobike::Kind::kDpd: return "liveness check with NAT detection";
    case IkeMobike::Kind::kInformational: return "informational";
  }
  return "?";
}

void IkeMobike::AddCookie2(IkeSa& sa, Message& m) {
  cookie2_.assign(kCookie2Size, 0);
  sa.rng().Fill(cookie2_);
  AddPayload(m, Payload::Notify(NotifyPayload::Make(NotifyType::kCookie2, cookie2_)));
}

bool IkeMobike::CookieMatches(IkeSa& sa, const Message& m) {
  const NotifyPayload* n = m.FindNotify(NotifyType::kCookie2);
  if (n != nullptr && n->data == cookie2_) return true;
  // RFC 4555 3.7: "If the values do not match, the IKE_SA MUST be closed."
  sa.Fail(IkeDownReason::kFailed,
          n == nullptr ? "the response to our MOBIKE " + std::string(MobikeKindName(kind_)) +
                             " did not echo COOKIE2"
                       : "COOKIE2 in the response to our MOBIKE " +
                             std::string(MobikeKindName(kind_)) + " differs from ours");
  return false;
}

TaskStatus IkeMobike::Build(IkeSa& sa, Timestamp /*now*/, Message& m) {
  if (initiator()) return BuildInitiator(sa, m);
  if (kind_ == Kind::kAuth) {
    if (sa.mobike()) {
      AddPayload(m, Payload::Notify(NotifyPayload::Make(NotifyType::kMobikeSupported)));
      AddAddressList(sa, m, /*allow_empty_notify=*/false);
    }
    return TaskStatus::kDone;
  }
  if (refuse_) {
    AddPayload(m, Payload::Notify(NotifyPayload::Make(*refuse_)));
  } else if (answer_natd_) {
    // 3.8: a request with NAT detection gets ours back, computed over the
    // addresses this response goes from and to.
    AddNatDetection(sa, m, sa.spi_i(), sa.spi_r(), sa.message_local(), sa.message_remote());
  }
  // 3.7: "the recipient of an INFORMATIONAL request MUST copy the
  // notification as-is to the response".
  if (cookie2_echo_) AddPayload(m, Payload::Notify(*cookie2_echo_));
  return TaskStatus::kDone;
}

TaskStatus IkeMobike::BuildInitiator(IkeSa& sa, Message& m) {
  switch (kind_) {
    case Kind::kAuth:
      if (!sa.config().mobike.enabled) return TaskStatus::kDone;
      // 3.2: "MUST include a MOBIKE_SUPPORTED notification in the IKE_AUTH
      // exchange".
      AddPayload(m, Payload::Notify(NotifyPayload::Make(NotifyType::kMobikeSupported)));
      AddAddressList(sa, m, /*allow_empty_notify=*/false);
      // 3.9: without NAT-T, the first IKE_AUTH request MUST carry
      // NO_NATS_ALLOWED.
      if (!sa.peer_natt()) {
        AddPayload(m, Payload::Notify(MakeNoNatsAllowed(sa.local(), sa.remote())));
      }
      return TaskStatus::kNeedMore;
    case Kind::kUpdate:
      generation_ = sa.path_generation();
      AddPayload(m, Payload::Notify(MakeUpdateSaAddresses()));
      if (sa.peer_natt()) {
        AddNatDetection(sa, m, sa.spi_i(), sa.spi_r(), sa.local(), sa.remote());
      } else {
        AddPayload(m, Payload::Notify(MakeNoNatsAllowed(sa.local(), sa.remote())));  // 3.9
      }
      AddAddressList(sa, m, /*allow_empty_notify=*/true);  // 3.6: MAY go with the update
      AddCookie2(sa, m);
      MIPSEC_LOG(sa.log(), kInfo) << "MOBIKE: UPDATE_SA_ADDRESSES " << sa.local().ToString()
                                  << " - " << sa.remote().ToString();
      return TaskStatus::kNeedMore;
    case Kind::kAddresses:
      AddAddressList(sa, m, /*allow_empty_notify=*/true);
      if (!sa.peer_natt()) {
        AddPayload(m, Payload::Notify(MakeNoNatsAllowed(sa.local(), sa.remote())));  // 3.9
      }
      AddCookie2(sa, m);
      return TaskStatus::kNeedMore;
    case Kind::kCheck:
      AddCookie2(sa, m);
      sa.SendNextRequestOverAllPaths();
      return TaskStatus::kNeedMore;
    case Kind::kRoutability:
      if (!sa.return_routability_pending()) return TaskStatus::kDone;  // nothing left to check
      checked_ = sa.remote();
      AddCookie2(sa, m);
      MIPSEC_LOG(sa.log(), kInfo) << "MOBIKE: return routability check of "
                                  << checked_.ToString();
      return TaskStatus::kNeedMore;
    case Kind::kDpd:
      AddNatDetection(sa, m, sa.spi_i(), sa.spi_r(), sa.local(), sa.remote());
      return TaskStatus::kNeedMore;
    case Kind::kInformational:
      break;
  }
  return TaskStatus::kDone;
}

TaskStatus IkeMobike::Process(IkeSa& sa, Timestamp now, const Message& m) {
  return initiator() ? ProcessInitiator(sa, m) : ProcessResponder(sa, now, m);
}

TaskStatus IkeMobike::ProcessInitiator(IkeSa& sa, const Message& m) {
  switch (kind_) {
    case Kind::kAuth: {
      if (m.FindNotify(NotifyType::kMobikeSupported) == nullptr) {
        MIPSEC_LOG(sa.log(), kInfo) << "peer does not support MOBIKE";
        return TaskStatus::kDone;
      }
      bool any = false;
      std::vector<Ipv4Address> extra = PeerAdditionalAddresses(m, &any);
      sa.set_mobike(true);
      sa.SetPeerAddresses(sa.remote().address, std::move(extra));
      return TaskStatus::kDone;
    }
    case Kind::kUpdate: {
      if (!CookieMatches(sa, m)) return TaskStatus::kFailed;
      if (generation_ != sa.path_generation()) {
        // 3.5: we moved again after sending it; the newer UPDATE counts.
        MIPSEC_LOG(sa.log(), kDebug) << "MOBIKE: response to an outdated UPDATE_SA_ADDRESSES";
        return TaskStatus::kDone;
      }
      if (m.FindNotify(NotifyType::kUnexpectedNatDetected) != nullptr) {
        // 3.9: retry with new requests, as often as a request is
        // retransmitted, in case one packet was tampered with.
        if (nat_retries_ >= sa.config().retransmit.max_retransmits) {
          sa.Fail(IkeDownReason::kFailed,
                  "peer answered UNEXPECTED_NAT_DETECTED to every UPDATE_SA_ADDRESSES");
          return TaskStatus::kFailed;
        }
        MIPSEC_LOG(sa.log(), kNotice) << "MOBIKE: peer saw a NAT we did not expect, retrying";
        sa.QueueMobike(Kind::kUpdate, nat_retries_ + 1);
        return TaskStatus::kDone;
      }
      if (m.FindNotify(NotifyType::kUnacceptableAddresses) != nullptr) {
        sa.AddressesRefused();
        return TaskStatus::kDone;
      }
      const NatDetectionResult nat = EvaluateNatDetection(sa, m, sa.local(), sa.remote());
      if (nat.present) {
        sa.last_natd_destination() = nat.destination;
        sa.ApplyMobikeNatState(nat.local_behind_nat, nat.remote_behind_nat);
      }
      // The response is authenticated (it came through the SK payload)
      // and answers the UPDATE of our latest move: the peer uses this path.
      sa.ConfirmPath();
      return TaskStatus::kDone;
    }
    case Kind::kAddresses:
    case Kind::kCheck:
      // kCheck: IkeSa moved to the pair the response came over.
      return CookieMatches(sa, m) ? TaskStatus::kDone : TaskStatus::kFailed;
    case Kind::kRoutability:
      if (!CookieMatches(sa, m)) return TaskStatus::kFailed;
      sa.RoutabilityChecked(checked_);
      return TaskStatus::kDone;
    case Kind::kDpd: {
      const NatDetectionResult nat = EvaluateNatDetection(sa, m, sa.local(), sa.remote());
      if (nat.present && sa.last_natd_destination().empty()) {
        sa.last_natd_destination() = nat.destination;  // first check after an IKE rekey
      } else if (nat.present && nat.destination != sa.last_natd_destination()) {
        // 3.8: the peer sees us at another address or port now.
        MIPSEC_LOG(sa.log(), kInfo) << "MOBIKE: our NAT mapping changed, updating";
        sa.last_natd_destination() = nat.destination;
        sa.QueueMobike(Kind::kUpdate);
      }
      return TaskStatus::kDone;
    }
    case Kind::kInformational:
      break;
  }
  return TaskStatus::kDone;
}

TaskStatus IkeMobike::ProcessResponder(IkeSa& sa, Timestamp now, const Message& m) {
  if (kind_ == Kind::kAuth) {
    peer_mobike_ = m.FindNotify(NotifyType::kMobikeSupported) != nullptr;
    if (!peer_mobike_ || !sa.config().mobike.enabled) return TaskStatus::kNeedMore;
    if (std::optional<bool> ok = NoNatsAllowedMatches(sa, m); ok && !*ok) {
      failure_ = NotifyPayload::Make(NotifyType::kUnexpectedNatDetected);
      return TaskStatus::kFailed;
    }
    bool any = false;
    std::vector<Ipv4Address> extra = PeerAdditionalAddresses(m, &any);
    sa.set_mobike(true);
    sa.SetPeerAddresses(sa.message_remote().address, std::move(extra));
    return TaskStatus::kNeedMore;
  }
  if (const NotifyPayload* c = m.FindNotify(NotifyType::kCookie2)) cookie2_echo_ = *c;
  if (!sa.mobike()) return TaskStatus::kNeedMore;
  const bool update = m.FindNotify(NotifyType::kUpdateSaAddresses) != nullptr;
  bool address_list = false;
  std::vector<Ipv4Address> extra = PeerAdditionalAddresses(m, &address_list);
  const NatDetectionResult nat = EvaluateNatDetection(sa, m, sa.message_local(), sa.message_remote());
  answer_natd_ = nat.present;
  if (update || address_list) {
    if (std::optional<bool> ok = NoNatsAllowedMatches(sa, m); ok && !*ok) {
      refuse_ = NotifyType::kUnexpectedNatDetected;  // 3.9: and nothing else changes
      answer_natd_ = false;
      return TaskStatus::kNeedMore;
    }
  }
  if (update) {
    if (sa.mobike_initiator()) {
      // 3.5: the initiator decides the addresses; we are it.
      MIPSEC_LOG(sa.log(), kNotice) << "ignored UPDATE_SA_ADDRESSES from the IKE SA's responder";
    } else if (const PathPolicy* p = sa.config().mobike.path_policy;
               p != nullptr && !p->Acceptable(sa.message_local(), sa.message_remote())) {
      MIPSEC_LOG(sa.log(), kNotice) << "MOBIKE: refused move to " << sa.message_remote().ToString()
                                    << " - " << sa.message_local().ToString()
                                    << ": UNACCEPTABLE_ADDRESSES";
      refuse_ = NotifyType::kUnacceptableAddresses;
      answer_natd_ = false;
      return TaskStatus::kNeedMore;
    } else {
      std::optional<std::pair<bool, bool>> nat_state;
      if (nat.present) nat_state = std::make_pair(nat.local_behind_nat, nat.remote_behind_nat);
      sa.AcceptPeerMove(now, nat_state);
    }
  }
  if (address_list) sa.SetPeerAddresses(sa.message_remote().address, std::move(extra));
  return TaskStatus::kNeedMore;
}

}  // namespace mipsec::ikev2
