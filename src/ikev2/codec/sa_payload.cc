#include "ikev2/codec/sa_payload.h"

#include <string>

#include "common/wire/reader.h"

namespace mipsec::ikev2 {
namespace {

constexpr std::uint8_t kLastSubstrucNone = 0;
constexpr std::uint8_t kMoreProposals = 2;   // RFC 7296 3.3.1
constexpr std::uint8_t kMoreTransforms = 3;  // RFC 7296 3.3.2
constexpr std::uint16_t kAttrFormatTv = 0x8000;

std::string N(std::size_t v) { return std::to_string(v); }

Result<TransformAttribute> DecodeAttribute(wire::Reader& r) {
  TransformAttribute a;
  MIPSEC_ASSIGN_OR_RETURN(std::uint16_t type, r.U16("transform attribute type"));
  a.tv = (type & kAttrFormatTv) != 0;
  a.type = static_cast<std::uint16_t>(type & ~kAttrFormatTv);
  if (a.tv) {
    MIPSEC_ASSIGN_OR_RETURN(a.value, r.U16("transform attribute value"));
  } else {
    MIPSEC_ASSIGN_OR_RETURN(std::uint16_t len, r.U16("transform attribute length"));
    MIPSEC_ASSIGN_OR_RETURN(ByteSpan v, r.Span(len, "transform attribute value"));
    a.data.assign(v.begin(), v.end());
  }
  return a;
}

Result<Transform> DecodeTransform(wire::Reader& r, bool* last) {
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t more, r.U8("transform last substruc"));
  if (more != kLastSubstrucNone && more != kMoreTransforms) {
    return r.Malformed("transform last substruc", "is " + N(more) + ", must be 0 or 3");
  }
  *last = more == kLastSubstrucNone;
  MIPSEC_TRY(r.Skip(1, "transform reserved"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint16_t len, r.U16("transform length"));
  if (len < 8) return r.Malformed("transform length", N(len) + " is below 8");
  MIPSEC_ASSIGN_OR_RETURN(wire::Reader t, r.Sub(len - 4u, "transform"));
  Transform out;
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t type, t.U8("transform type"));
  out.type = static_cast<TransformType>(type);
  MIPSEC_TRY(t.Skip(1, "transform reserved"));
  MIPSEC_ASSIGN_OR_RETURN(out.id, t.U16("transform ID"));
  while (!t.empty()) {
    MIPSEC_ASSIGN_OR_RETURN(TransformAttribute a, DecodeAttribute(t));
    out.attributes.push_back(std::move(a));
  }
  return out;
}

Result<Proposal> DecodeProposal(wire::Reader& r, bool* last) {
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t more, r.U8("proposal last substruc"));
  if (more != kLastSubstrucNone && more != kMoreProposals) {
    return r.Malformed("proposal last substruc", "is " + N(more) + ", must be 0 or 2");
  }
  *last = more == kLastSubstrucNone;
  MIPSEC_TRY(r.Skip(1, "proposal reserved"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint16_t len, r.U16("proposal length"));
  if (len < 8) return r.Malformed("proposal length", N(len) + " is below 8");
  MIPSEC_ASSIGN_OR_RETURN(wire::Reader p, r.Sub(len - 4u, "proposal"));
  Proposal out;
  MIPSEC_ASSIGN_OR_RETURN(out.number, p.U8("proposal number"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t proto, p.U8("proposal protocol ID"));
  out.protocol = static_cast<ProtocolId>(proto);
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t spi_size, p.U8("proposal SPI size"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t num_transforms, p.U8("proposal num transforms"));
  MIPSEC_ASSIGN_OR_RETURN(ByteSpan spi, p.Span(spi_size, "proposal SPI"));
  out.spi.assign(spi.begin(), spi.end());
  bool last_transform = p.empty();
  while (!last_transform) {
    MIPSEC_ASSIGN_OR_RETURN(Transform t, DecodeTransform(p, &last_transform));
    out.transforms.push_back(std::move(t));
  }
  if (!p.empty()) {
    return p.Malformed("proposal", N(p.remaining()) + " bytes after the last transform");
  }
  if (out.transforms.size() != num_transforms) {
    return p.Malformed("proposal num transforms", "says " + N(num_transforms) + " but " +
                                                      N(out.transforms.size()) + " present");
  }
  return out;
}

}  // namespace

Transform Transform::Make(TransformType type, std::uint16_t id,
                          std::optional<std::uint16_t> key_length) {
  Transform t;
  t.type = type;
  t.id = id;
  if (key_length) t.attributes.push_back({kAttrKeyLength, true, *key_length, {}});
  return t;
}

std::optional<std::uint16_t> Transform::KeyLength() const {
  for (const TransformAttribute& a : attributes) {
    if (a.type == kAttrKeyLength && a.tv) return a.value;
  }
  return std::nullopt;
}

std::size_t Transform::EncodedSize() const {
  std::size_t n = 8;
  for (const TransformAttribute& a : attributes) n += a.EncodedSize();
  return n;
}

const Transform* Proposal::Find(TransformType type) const {
  for (const Transform& t : transforms) {
    if (t.type == type) return &t;
  }
  return nullptr;
}

std::size_t Proposal::EncodedSize() const {
  std::size_t n = 8 + spi.size();
  for (const Transform& t : transforms) n += t.EncodedSize();
  return n;
}

Result<SaPayload> SaPayload::Decode(ByteSpan body) {
  wire::Reader r(body);
  SaPayload sa;
  bool last = r.empty();
  while (!last) {
    Result<Proposal> p = DecodeProposal(r, &last);
    if (!p.ok()) {
      return p.error().WithContext("SA proposal " + N(sa.proposals.size() + 1));
    }
    sa.proposals.push_back(std::move(*p));
  }
  if (!r.empty()) return r.Malformed("SA", N(r.remaining()) + " bytes after the last proposal");
  return sa;
}

std::size_t SaPayload::EncodedSize() const {
  std::size_t n = 0;
  for (const Proposal& p : proposals) n += p.EncodedSize();
  return n;
}

void SaPayload::Encode(wire::Writer& w) const {
  for (std::size_t i = 0; i < proposals.size(); ++i) {
    const Proposal& p = proposals[i];
    w.U8(i + 1 == proposals.size() ? kLastSubstrucNone : kMoreProposals).U8(0);
    w.U16(static_cast<std::uint16_t>(p.EncodedSize()));
    w.U8(p.number).U8(static_cast<std::uint8_t>(p.protocol));
    w.U8(static_cast<std::uint8_t>(p.spi.size()))
        .U8(static_cast<std::uint8_t>(p.transforms.size()));
    w.Append(p.spi);
    for (std::size_t j = 0; j < p.transforms.size(); ++j) {
      const Transform& t = p.transforms[j];
      w.U8(j + 1 == p.transforms.size() ? kLastSubstrucNone : kMoreTransforms).U8(0);
      w.U16(static_cast<std::uint16_t>(t.EncodedSize()));
      w.U8(static_cast<std::uint8_t>(t.type)).U8(0).U16(t.id);
      for (const TransformAttribute& a : t.attributes) {
        if (a.tv) {
          w.U16(static_cast<std::uint16_t>(a.type | kAttrFormatTv)).U16(a.value);
        } else {
          w.U16(a.type).U16(static_cast<std::uint16_t>(a.data.size())).Append(a.data);
        }
      }
    }
  }
}

Status CheckProposalNumbering(const SaPayload& sa, bool response) {
  if (sa.proposals.empty()) return Error(Errc::kMalformed, "SA payload has no proposal");
  // RFC 7296 3.3: the responder accepts a single proposal.
  if (response && sa.proposals.size() != 1) {
    return Error(Errc::kMalformed, "SA payload in a response has " + N(sa.proposals.size()) +
                                       " proposals, must be 1");
  }
  for (std::size_t i = 0; i < sa.proposals.size(); ++i) {
    const Proposal& p = sa.proposals[i];
    const std::string which = "SA proposal " + N(i + 1);
    // RFC 7296 3.3.1: the first proposal is 1, each next one is one more.
    if (!response && p.number != i + 1) {
      return Error(Errc::kMalformed,
                   which + " has number " + N(p.number) + ", must be " + N(i + 1));
    }
    if (response && p.number == 0) {
      return Error(Errc::kMalformed, which + " has number 0");
    }
    const std::size_t spi = p.spi.size();
    switch (p.protocol) {
      case ProtocolId::kIke:
        if (spi != 0 && spi != 8) {
          return Error(Errc::kMalformed, which + " (IKE) has SPI size " + N(spi) + ", not 0/8");
        }
        break;
      case ProtocolId::kEsp:
      case ProtocolId::kAh:
        if (spi != 4) {
          return Error(Errc::kMalformed, which + " (ESP/AH) has SPI size " + N(spi) + ", not 4");
        }
        break;
      default:
        return Error(Errc::kMalformed,
                     which + " has protocol ID " + N(static_cast<unsigned>(p.protocol)));
    }
    if (p.transforms.empty()) return Error(Errc::kMalformed, which + " has no transforms");
  }
  return Ok{};
}

}  // namespace mipsec::ikev2
