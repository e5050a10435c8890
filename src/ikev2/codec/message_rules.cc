#include "ikev2/codec/message_rules.h"

#include <array>
#include <map>
#include <string>

namespace mipsec::ikev2 {
namespace {

using PT = PayloadType;
constexpr std::uint16_t kMany = PayloadRule::kMany;

// RFC 7296 1.2: HDR, SAi1, KEi, Ni  -->  (N(COOKIE) first on a retry, 2.6;
// NAT_DETECTION_*, other status notifies, V). CERTREQ is allowed in the
// request too (strongSwan and others may send it; 3.7).
constexpr PayloadRule kInitRequest[] = {
    {PT::kSa, 1, 1, false},           {PT::kKe, 1, 1, false},
    {PT::kNonce, 1, 1, false},        {PT::kNotify, 0, kMany, false},
    {PT::kVendorId, 0, kMany, false}, {PT::kCertReq, 0, kMany, false},
};
// <--  HDR, SAr1, KEr, Nr, [CERTREQ]
constexpr PayloadRule kInitResponse[] = {
    {PT::kSa, 1, 1, false},           {PT::kKe, 1, 1, false},
    {PT::kNonce, 1, 1, false},        {PT::kNotify, 0, kMany, false},
    {PT::kVendorId, 0, kMany, false}, {PT::kCertReq, 0, kMany, false},
};
// RFC 7296 1.2: HDR, SK {IDi, [CERT,] [CERTREQ,] [IDr,] AUTH, SAi2, TSi, TSr}
// AUTH may be left out to ask for EAP (2.16), which the SA layer refuses;
// SA/TSi/TSr may be left out (childless, RFC 6023). CP: 2.19.
constexpr PayloadRule kAuthRequest[] = {
    {PT::kIdi, 1, 1, true}, {PT::kCert, 0, 16, true},      {PT::kCertReq, 0, kMany, true},
    {PT::kIdr, 0, 1, true}, {PT::kAuth, 0, 1, true},       {PT::kEap, 0, 1, true},
    {PT::kCp, 0, 1, true},  {PT::kSa, 0, 1, true},         {PT::kTsi, 0, 1, true},
    {PT::kTsr, 0, 1, true}, {PT::kNotify, 0, kMany, true}, {PT::kVendorId, 0, kMany, true},
};
// <--  HDR, SK {IDr, [CERT,] AUTH, SAr2, TSi, TSr}
constexpr PayloadRule kAuthResponse[] = {
    {PT::kIdr, 1, 1, true},          {PT::kCert, 0, 16, true}, {PT::kAuth, 1, 1, true},
    {PT::kEap, 0, 1, true},          {PT::kCp, 0, 1, true},    {PT::kSa, 0, 1, true},
    {PT::kTsi, 0, 1, true},          {PT::kTsr, 0, 1, true},   {PT::kNotify, 0, kMany, true},
    {PT::kVendorId, 0, kMany, true},
};
// RFC 7296 1.3: HDR, SK {[N], SA, Ni, [KEi], [TSi, TSr]}  (TS absent when
// rekeying the IKE SA, 1.3.2)
constexpr PayloadRule kChildRequest[] = {
    {PT::kSa, 1, 1, true},           {PT::kNonce, 1, 1, true}, {PT::kKe, 0, 1, true},
    {PT::kTsi, 0, 1, true},          {PT::kTsr, 0, 1, true},   {PT::kNotify, 0, kMany, true},
    {PT::kVendorId, 0, kMany, true},
};
// <--  HDR, SK {SA, Nr, [KEr], [TSi, TSr]}
constexpr PayloadRule kChildResponse[] = {
    {PT::kSa, 1, 1, true},           {PT::kNonce, 1, 1, true}, {PT::kKe, 0, 1, true},
    {PT::kTsi, 0, 1, true},          {PT::kTsr, 0, 1, true},   {PT::kNotify, 0, kMany, true},
    {PT::kVendorId, 0, kMany, true},
};
// RFC 7296 1.4: HDR, SK {[N,] [D,] [CP,] ...}, either way; may be empty
// (liveness check, 2.4; MOBIKE probes, RFC 4555).
constexpr PayloadRule kInformational[] = {
    {PT::kNotify, 0, kMany, true},
    {PT::kDelete, 0, kMany, true},
    {PT::kCp, 0, 1, true},
    {PT::kVendorId, 0, kMany, true},
};

constexpr MessageRules kRules[] = {
    {ExchangeType::kIkeSaInit, false, true, kInitRequest},
    {ExchangeType::kIkeSaInit, true, true, kInitResponse},
    {ExchangeType::kIkeAuth, false, true, kAuthRequest},
    {ExchangeType::kIkeAuth, true, true, kAuthResponse},
    {ExchangeType::kCreateChildSa, false, false, kChildRequest},
    {ExchangeType::kCreateChildSa, true, false, kChildResponse},
    {ExchangeType::kInformational, false, false, kInformational},
    {ExchangeType::kInformational, true, false, kInformational},
};

std::string N(std::size_t v) { return std::to_string(v); }

Status Fail(const Message& m, std::optional<ErrorNotify>* notify, Errc code,
            const std::string& what) {
  if (!m.header.response) SuggestNotify(notify, {NotifyType::kInvalidSyntax, {}});
  return Error(code, ExchangeTypeName(m.header.exchange) +
                         (m.header.response ? " response: " : " request: ") + what);
}

Status CheckPayload(const Message& m, const Payload& p) {
  if (const SaPayload* sa = p.As<SaPayload>()) {
    return CheckProposalNumbering(*sa, m.header.response);
  }
  if (const NoncePayload* n = p.As<NoncePayload>()) {
    // RFC 7296 3.9.
    if (n->data.size() < NoncePayload::kMinSize || n->data.size() > NoncePayload::kMaxSize) {
      return Error(Errc::kMalformed, "nonce of " + N(n->data.size()) + " bytes, not 16..256");
    }
  }
  if (const NotifyPayload* n = p.As<NotifyPayload>()) {
    // RFC 7296 3.10: SPI Size is 0 for the IKE SA, 4 for ESP/AH.
    const std::size_t spi = n->spi.size();
    const bool ok =
        (n->protocol == ProtocolId::kNone || n->protocol == ProtocolId::kIke)
            ? (spi == 0 || spi == 8)
            : (n->protocol == ProtocolId::kEsp || n->protocol == ProtocolId::kAh) && spi == 4;
    if (!ok) {
      return Error(Errc::kMalformed, "notify " + NotifyTypeName(n->type) + " has protocol " +
                                         ProtocolIdName(n->protocol) + " with SPI size " + N(spi));
    }
  }
  return Ok{};
}

}  // namespace

const MessageRules* FindMessageRules(ExchangeType exchange, bool response) {
  for (const MessageRules& r : kRules) {
    if (r.exchange == exchange && r.response == response) return &r;
  }
  return nullptr;
}

Status Validate(const Message& m, std::optional<ErrorNotify>* notify) {
  const IkeHeader& h = m.header;
  const MessageRules* rules = FindMessageRules(h.exchange, h.response);
  if (rules == nullptr) {
    return Error(Errc::kUnsupported, "unknown exchange type " + ExchangeTypeName(h.exchange));
  }
  // RFC 7296 3.1: the initiator's SPI is never zero.
  if (h.spi_i == 0) return Fail(m, notify, Errc::kMalformed, "initiator SPI is zero");
  if (h.exchange == ExchangeType::kIkeSaInit) {
    if (m.is_protected()) return Fail(m, notify, Errc::kMalformed, "has an encrypted payload");
    if (!h.response && h.spi_r != 0) {
      return Fail(m, notify, Errc::kMalformed, "responder SPI is not zero");
    }
    if (h.message_id != 0) return Fail(m, notify, Errc::kMalformed, "message ID is not 0");
  } else if (!m.is_protected()) {
    return Fail(m, notify, Errc::kMalformed, "has no encrypted payload");
  }
  if (rules->fixed_roles && h.initiator == h.response) {
    return Fail(
        m, notify, Errc::kMalformed,
        h.response ? "response with the Initiator flag" : "request without the Initiator flag");
  }

  bool exempt = false;
  for (const NotifyPayload* n : m.Notifies()) {
    if (!h.response) break;
    if (n->is_error()) exempt = true;
    if (h.exchange == ExchangeType::kIkeSaInit && n->type == NotifyType::kCookie) exempt = true;
  }

  std::map<PayloadType, std::size_t> counts;
  for (const auto* list : {&m.payloads, &m.inner}) {
    const bool inside = list == &m.inner;
    for (const Payload& p : *list) {
      if (std::holds_alternative<UnknownPayload>(p.body)) {
        if (p.critical) {
          // Normally caught while decoding; a hand-built message may have it.
          if (!h.response) {
            SuggestNotify(notify, {NotifyType::kUnsupportedCriticalPayload,
                                   Bytes{static_cast<std::uint8_t>(p.type)}});
          }
          return Error(Errc::kUnsupported,
                       "unsupported critical payload " + PayloadTypeName(p.type));
        }
        continue;  // RFC 7296 2.5: skipped
      }
      const PayloadRule* rule = nullptr;
      for (const PayloadRule& r : rules->payloads) {
        if (r.type == p.type) rule = &r;
      }
      if (rule == nullptr) {
        return Fail(m, notify, Errc::kMalformed, PayloadTypeName(p.type) + " not allowed");
      }
      if (rule->encrypted && !inside) {
        return Fail(m, notify, Errc::kMalformed, PayloadTypeName(p.type) + " must be encrypted");
      }
      if (++counts[p.type] > rule->max) {
        return Fail(m, notify, Errc::kMalformed,
                    "more than " + N(rule->max) + " " + PayloadTypeName(p.type) + " payloads");
      }
      Status s = CheckPayload(m, p);
      if (!s.ok()) return Fail(m, notify, s.error().code(), s.error().detail());
    }
  }
  if (!exempt) {
    for (const PayloadRule& r : rules->payloads) {
      if (counts[r.type] < r.min) {
        return Fail(m, notify, Errc::kMalformed, "missing " + PayloadTypeName(r.type) + " payload");
      }
    }
  }
  return Ok{};
}

}  // namespace mipsec::ikev2
