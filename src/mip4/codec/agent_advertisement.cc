#include "mip4/codec/agent_advertisement.h"

#include <string>

#include "common/ip/icmp.h"
#include "common/wire/reader.h"
#include "common/wire/writer.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/prefix_lengths_extension.h"

namespace mipsec::mip4 {

namespace {

constexpr ExtensionKind kAdvKinds[] = {
    {kAdvExtPadding, ExtensionFormat::kPadding, nullptr},
    {kAdvExtMobilityAgent, ExtensionFormat::kTlv, &CheckMobilityAgentExtension},
    {kAdvExtPrefixLengths, ExtensionFormat::kTlv, nullptr},
};

constexpr std::size_t kIcmpHeader = ip::IcmpMessage::kHeaderSize;

}  // namespace

Result<ParsedAgentAdvertisement> ParseAgentAdvertisement(ByteSpan icmp_message) {
  MIPSEC_ASSIGN_OR_RETURN(ip::IcmpMessage icmp, ip::ParseIcmp(icmp_message));
  if (icmp.type != ip::kIcmpRouterAdvertisement) {
    return Error(Errc::kMalformed, "ICMP type " + std::to_string(icmp.type) +
                                       " is not a Router Advertisement (9)");
  }
  ParsedAgentAdvertisement p;
  AgentAdvertisement& a = p.advertisement;
  a.code = icmp.code;
  const std::uint8_t num_addrs = static_cast<std::uint8_t>(icmp.rest >> 24);
  p.addr_entry_size = static_cast<std::uint8_t>(icmp.rest >> 16);
  a.lifetime = static_cast<std::uint16_t>(icmp.rest);
  // RFC 1256 5.2.
  if (p.addr_entry_size < 2) {
    return Error(Errc::kMalformed, "Addr Entry Size " + std::to_string(p.addr_entry_size) +
                                       " is below 2 (RFC 1256 5.2)");
  }
  wire::Reader r(icmp.body);
  for (std::size_t i = 0; i < num_addrs; ++i) {
    MIPSEC_ASSIGN_OR_RETURN(std::uint32_t addr, r.U32("router address"));
    MIPSEC_ASSIGN_OR_RETURN(std::uint32_t pref, r.U32("preference level"));
    // RFC 1256 5.2: extra per-address words are ignored.
    MIPSEC_TRY(r.Skip(4 * (p.addr_entry_size - 2u), "extra per-address words"));
    a.routers.push_back({Ipv4Address::FromHostOrder(addr), static_cast<std::int32_t>(pref)});
  }
  MIPSEC_ASSIGN_OR_RETURN(std::vector<Extension> exts,
                          ParseExtensionChain(icmp_message, kIcmpHeader + r.offset(), kAdvKinds));
  p.extensions = ExtensionList(icmp_message, std::move(exts));
  const Extension* maa = p.extensions.First(kAdvExtMobilityAgent);
  if (maa == nullptr) {
    return Error(Errc::kNotFound,
                 "Router Advertisement without a Mobility Agent Advertisement extension: not an "
                 "Agent Advertisement (RFC 5944 2.1)");
  }
  MIPSEC_ASSIGN_OR_RETURN(a.mobility, DecodeMobilityAgentExtension(*maa));
  if (const Extension* pl = p.extensions.First(kAdvExtPrefixLengths)) {
    MIPSEC_ASSIGN_OR_RETURN(a.prefix_lengths, DecodePrefixLengths(*pl));
  }
  a.padding = p.extensions.Find(kAdvExtPadding).has_value();
  return p;
}

bool ParsedAgentAdvertisement::IsCanonical() const {
  if (addr_entry_size != 2) return false;
  std::size_t i = 0;
  auto next_is = [&](std::uint8_t t) {
    if (i < extensions.size() && extensions[i].recognized && extensions[i].type == t) {
      ++i;
      return true;
    }
    return false;
  };
  if (!next_is(kAdvExtMobilityAgent)) return false;
  next_is(kAdvExtPrefixLengths);
  next_is(kAdvExtPadding);
  return i == extensions.size();
}

Result<Bytes> BuildAgentAdvertisement(const AgentAdvertisement& a) {
  if (a.routers.size() > AgentAdvertisement::kMaxRouters) {
    return Error(Errc::kInvalidArgument,
                 std::to_string(a.routers.size()) + " router addresses do not fit (at most 255)");
  }
  wire::Writer body;
  for (const RouterAddress& ra : a.routers) {
    body.U32(ra.address.ToHostOrder()).U32(static_cast<std::uint32_t>(ra.preference));
  }
  MIPSEC_TRY(AppendMobilityAgentExtension(body, a.mobility));
  if (a.prefix_lengths) MIPSEC_TRY(AppendPrefixLengths(body, *a.prefix_lengths));
  if (a.padding) body.U8(kAdvExtPadding);
  const std::uint32_t rest = static_cast<std::uint32_t>(a.routers.size()) << 24 | 2u << 16 |
                             a.lifetime;
  return ip::BuildIcmp(ip::kIcmpRouterAdvertisement, a.code, rest, body.View());
}

Result<Bytes> BuildAgentAdvertisementPacket(Ipv4Address src, Ipv4Address dst,
                                            const AgentAdvertisement& adv,
                                            std::uint16_t ip_identification) {
  MIPSEC_ASSIGN_OR_RETURN(Bytes icmp, BuildAgentAdvertisement(adv));
  // RFC 5944 2.1: TTL 1.
  return ip::BuildIcmpPacket(src, dst, icmp, 1, ip_identification);
}

std::optional<Violation> ValidateFields(const AgentAdvertisement& a) {
  if (a.code != kAdvCodeRoutesCommonTraffic && a.code != kAdvCodeNoCommonTraffic) {
    return Violation{RuleId::kAdvCode, std::nullopt,
                     "ICMP code " + std::to_string(a.code) + " is neither 0 nor 16 (RFC 5944 2.1)"};
  }
  const MobilityAgentExtension& m = a.mobility;
  // RFC 5944 2.1.1.
  if (!m.foreign_agent && !m.home_agent) {
    return Violation{RuleId::kAdvFlags, std::nullopt, "neither 'F' nor 'H' is set"};
  }
  if (m.busy && !m.foreign_agent) {
    return Violation{RuleId::kAdvFlags, std::nullopt, "'B' without 'F'"};
  }
  if (m.registration_required && !m.foreign_agent) {
    return Violation{RuleId::kAdvFlags, std::nullopt, "'R' without 'F'"};
  }
  if (m.foreign_agent && m.care_of_addresses.empty()) {
    return Violation{RuleId::kAdvFlags, std::nullopt, "'F' set but no care-of address"};
  }
  // RFC 5944 2.1.2.
  if (a.prefix_lengths) {
    if (a.prefix_lengths->size() != a.routers.size()) {
      return Violation{RuleId::kAdvPrefixLengths, std::nullopt,
                       std::to_string(a.prefix_lengths->size()) + " prefix lengths for " +
                           std::to_string(a.routers.size()) + " router addresses"};
    }
    for (std::uint8_t len : *a.prefix_lengths) {
      if (len > 32) {
        return Violation{RuleId::kAdvPrefixLengths, std::nullopt,
                         "prefix length " + std::to_string(len) + " exceeds 32"};
      }
    }
  }
  return std::nullopt;
}

std::optional<Violation> Validate(const ParsedAgentAdvertisement& p) {
  const ExtensionList& exts = p.extensions;
  // RFC 5944 2.1.1: the extension "follows the ICMP Router Advertisement
  // fields".
  if (exts.empty() || exts[0].type != kAdvExtMobilityAgent) {
    return Violation{RuleId::kAdvMobilityNotFirst, 0,
                     "the first extension is not the Mobility Agent Advertisement extension"};
  }
  if (exts.Count(kAdvExtMobilityAgent) > 1) {
    return Violation{RuleId::kAdvMobilityNotFirst, exts.Find(kAdvExtMobilityAgent, 1),
                     "more than one Mobility Agent Advertisement extension"};
  }
  if (exts.Count(kAdvExtPrefixLengths) > 1) {
    return Violation{RuleId::kAdvPrefixLengths, exts.Find(kAdvExtPrefixLengths),
                     "more than one Prefix-Lengths extension"};
  }
  if (std::optional<std::size_t> pl = exts.Find(kAdvExtPrefixLengths); pl && *pl != 1) {
    return Violation{RuleId::kAdvPrefixLengths, pl,
                     "Prefix-Lengths does not follow the Mobility Agent Advertisement extension "
                     "(RFC 5944 2.1.2)"};
  }
  return ValidateFields(p.advertisement);
}

}  // namespace mipsec::mip4
