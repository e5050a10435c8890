#include "dhcp/message.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "common/bug.h"
#include "common/wire/reader.h"
#include "common/wire/writer.h"

namespace mipsec::dhcp {

namespace {

// One option code as collected from the options field: the concatenation of
// its instances (RFC 3396), how many there were, and where the first began.
struct Collected {
  Bytes data;
  int count = 0;
  std::size_t offset = 0;
};

std::string OptName(std::uint8_t code) { return "option " + std::to_string(code); }

Error OptError(std::uint8_t code, const Collected& c, std::string_view why) {
  return Error(Errc::kMalformed,
               OptName(code) + " at offset " + std::to_string(c.offset) + ": " + std::string(why));
}

Result<Ipv4Address> OneAddress(std::uint8_t code, const Collected& c) {
  if (c.data.size() != 4) {
    return OptError(code, c, "length " + std::to_string(c.data.size()) + ", must be 4");
  }
  return Ipv4Address::FromOctets(c.data[0], c.data[1], c.data[2], c.data[3]);
}

Result<std::uint32_t> OneU32(std::uint8_t code, const Collected& c) {
  if (c.data.size() != 4) {
    return OptError(code, c, "length " + std::to_string(c.data.size()) + ", must be 4");
  }
  return wire::LoadU32(c.data, 0);
}

Result<std::vector<Ipv4Address>> AddressList(std::uint8_t code, const Collected& c) {
  if (c.data.empty() || c.data.size() % 4 != 0) {
    return OptError(
        code, c, "length " + std::to_string(c.data.size()) + ", must be a non-zero multiple of 4");
  }
  std::vector<Ipv4Address> out;
  for (std::size_t i = 0; i < c.data.size(); i += 4) {
    out.push_back(Ipv4Address::FromOctets(c.data[i], c.data[i + 1], c.data[i + 2], c.data[i + 3]));
  }
  return out;
}

Result<Bytes> NonEmpty(std::uint8_t code, const Collected& c, std::size_t min) {
  if (c.data.size() < min) {
    return OptError(code, c,
                    "length " + std::to_string(c.data.size()) + ", must be at least " +
                        std::to_string(min));
  }
  return c.data;
}

std::string AsString(const Bytes& b) { return std::string(b.begin(), b.end()); }

// Writes option `code` with `data`, split into instances of at most 255
// bytes (RFC 3396 3); an empty value is one zero-length instance.
void PutOption(wire::Writer& w, std::uint8_t code, ByteSpan data) {
  std::size_t pos = 0;
  do {
    const std::size_t n = std::min<std::size_t>(255, data.size() - pos);
    w.U8(code).U8(static_cast<std::uint8_t>(n)).Append(data.subspan(pos, n));
    pos += n;
  } while (pos < data.size());
}

void PutAddress(wire::Writer& w, std::uint8_t code, Ipv4Address a) {
  const auto b = a.ToBytes();
  PutOption(w, code, b);
}

void PutU32(wire::Writer& w, std::uint8_t code, std::uint32_t v) {
  std::uint8_t b[4];
  wire::StoreU32(b, 0, v);
  PutOption(w, code, b);
}

void PutAddresses(wire::Writer& w, std::uint8_t code, const std::vector<Ipv4Address>& list) {
  if (list.empty()) return;
  Bytes data;
  for (Ipv4Address a : list) {
    const auto b = a.ToBytes();
    data.insert(data.end(), b.begin(), b.end());
  }
  PutOption(w, code, data);
}

}  // namespace

std::string MessageTypeName(MessageType t) {
  switch (t) {
    case MessageType::kDiscover: return "DHCPDISCOVER";
    case MessageType::kOffer: return "DHCPOFFER";
    case MessageType::kRequest: return "DHCPREQUEST";
    case MessageType::kDecline: return "DHCPDECLINE";
    case MessageType::kAck: return "DHCPACK";
    case MessageType::kNak: return "DHCPNAK";
    case MessageType::kRelease: return "DHCPRELEASE";
    case MessageType::kInform: return "DHCPINFORM";
  }
  return "DHCP type " + std::to_string(static_cast<int>(t));
}

bool option::IsTyped(std::uint8_t code) {
  switch (code) {
    case kPad: case kSubnetMask: case kRouter: case kDnsServer: case kDomainName:
    case kRequestedIp: case kLeaseTime: case kOverload: case kMessageType: case kServerId:
    case kParameterRequestList: case kMessage: case kMaxMessageSize: case kRenewalTime:
    case kRebindingTime: case kClientId: case kEnd:
      return true;
    default:
      return false;
  }
}

ByteSpan Message::hardware_address() const {
  return ByteSpan(chaddr.data(), std::min<std::size_t>(hlen, chaddr.size()));
}

Result<Message> ParseMessage(ByteSpan bytes) {
  wire::Reader r(bytes);
  if (bytes.size() < kMinParseSize) {
    return Error(Errc::kTruncated, "DHCP message: " + std::to_string(bytes.size()) +
                                       " bytes, the fixed part and magic cookie need " +
                                       std::to_string(kMinParseSize));
  }
  Message m;
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t op, r.U8("op"));
  if (op != 1 && op != 2) {
    return Error(Errc::kMalformed, "op " + std::to_string(op) + " is neither BOOTREQUEST (1) "
                                   "nor BOOTREPLY (2)");
  }
  m.op = static_cast<Op>(op);
  MIPSEC_ASSIGN_OR_RETURN(m.htype, r.U8("htype"));
  MIPSEC_ASSIGN_OR_RETURN(m.hlen, r.U8("hlen"));
  if (m.hlen > m.chaddr.size()) {
    return Error(Errc::kMalformed,
                 "hlen " + std::to_string(m.hlen) + " exceeds the 16-byte chaddr");
  }
  MIPSEC_ASSIGN_OR_RETURN(m.hops, r.U8("hops"));
  MIPSEC_ASSIGN_OR_RETURN(m.xid, r.U32("xid"));
  MIPSEC_ASSIGN_OR_RETURN(m.secs, r.U16("secs"));
  MIPSEC_ASSIGN_OR_RETURN(m.flags, r.U16("flags"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint32_t ci, r.U32("ciaddr"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint32_t yi, r.U32("yiaddr"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint32_t si, r.U32("siaddr"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint32_t gi, r.U32("giaddr"));
  m.ciaddr = Ipv4Address::FromHostOrder(ci);
  m.yiaddr = Ipv4Address::FromHostOrder(yi);
  m.siaddr = Ipv4Address::FromHostOrder(si);
  m.giaddr = Ipv4Address::FromHostOrder(gi);
  MIPSEC_TRY(r.Copy(m.chaddr, "chaddr"));
  MIPSEC_TRY(r.Copy(m.sname, "sname"));
  MIPSEC_TRY(r.Copy(m.file, "file"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint32_t cookie, r.U32("magic cookie"));
  if (cookie != kMagicCookie) {
    std::ostringstream os;
    os << "magic cookie 0x" << std::hex << cookie << " is not 99.130.83.99 (0x63825363)";
    return Error(Errc::kMalformed, os.str());
  }

  // Collect the options field (RFC 2131 4.1, RFC 2132 2).
  std::map<std::uint8_t, Collected> collected;
  std::vector<std::uint8_t> order;
  bool ended = false;
  while (!r.empty()) {
    const std::size_t at = r.offset();
    MIPSEC_ASSIGN_OR_RETURN(std::uint8_t code, r.U8("option code"));
    if (code == option::kPad) continue;
    if (code == option::kEnd) {
      ended = true;
      break;  // what follows END is padding
    }
    const std::string name = OptName(code);
    MIPSEC_ASSIGN_OR_RETURN(std::uint8_t len, r.U8(name + " length"));
    MIPSEC_ASSIGN_OR_RETURN(ByteSpan data, r.Span(len, name + " data"));
    auto [it, fresh] = collected.try_emplace(code);
    if (fresh) {
      it->second.offset = at;
      order.push_back(code);
    }
    it->second.data.insert(it->second.data.end(), data.begin(), data.end());
    ++it->second.count;
  }
  if (!ended) {
    return Error(Errc::kMalformed, "options: no END option (255) before the end of the message");
  }
  if (auto it = collected.find(option::kOverload); it != collected.end()) {
    return Error(Errc::kUnsupported,
                 "option 52 (option overload into sname/file) at offset " +
                     std::to_string(it->second.offset) + " is not supported");
  }

  auto mt = collected.find(option::kMessageType);
  if (mt == collected.end()) {
    return Error(Errc::kMalformed, "option 53 (DHCP message type) missing: not a DHCP message");
  }
  if (mt->second.count != 1) {
    return OptError(option::kMessageType, mt->second,
                    "DHCP message type appears " + std::to_string(mt->second.count) + " times");
  }
  if (mt->second.data.size() != 1) {
    return OptError(option::kMessageType, mt->second,
                    "length " + std::to_string(mt->second.data.size()) + ", must be 1");
  }
  if (mt->second.data[0] == 0) {
    return OptError(option::kMessageType, mt->second, "message type 0 is not defined");
  }
  m.type = static_cast<MessageType>(mt->second.data[0]);

  Options& o = m.options;
  for (std::uint8_t code : order) {
    const Collected& c = collected[code];
    switch (code) {
      case option::kMessageType:
        break;
      case option::kSubnetMask: {
        MIPSEC_ASSIGN_OR_RETURN(o.subnet_mask, OneAddress(code, c));
        break;
      }
      case option::kRouter: {
        MIPSEC_ASSIGN_OR_RETURN(o.routers, AddressList(code, c));
        break;
      }
      case option::kDnsServer: {
        MIPSEC_ASSIGN_OR_RETURN(o.dns_servers, AddressList(code, c));
        break;
      }
      case option::kDomainName: {
        MIPSEC_ASSIGN_OR_RETURN(Bytes b, NonEmpty(code, c, 1));
        o.domain_name = AsString(b);
        break;
      }
      case option::kRequestedIp: {
        MIPSEC_ASSIGN_OR_RETURN(o.requested_ip, OneAddress(code, c));
        break;
      }
      case option::kLeaseTime: {
        MIPSEC_ASSIGN_OR_RETURN(o.lease_time, OneU32(code, c));
        break;
      }
      case option::kServerId: {
        MIPSEC_ASSIGN_OR_RETURN(o.server_id, OneAddress(code, c));
        break;
      }
      case option::kParameterRequestList: {
        MIPSEC_ASSIGN_OR_RETURN(o.parameter_request_list, NonEmpty(code, c, 1));
        break;
      }
      case option::kMessage: {
        MIPSEC_ASSIGN_OR_RETURN(Bytes b, NonEmpty(code, c, 1));
        o.message = AsString(b);
        break;
      }
      case option::kMaxMessageSize: {
        if (c.data.size() != 2) {
          return OptError(code, c, "length " + std::to_string(c.data.size()) + ", must be 2");
        }
        const std::uint16_t v = wire::LoadU16(c.data, 0);
        if (v < 576) {
          return OptError(code, c, "maximum message size " + std::to_string(v) + " below 576");
        }
        o.max_message_size = v;
        break;
      }
      case option::kRenewalTime: {
        MIPSEC_ASSIGN_OR_RETURN(o.renewal_time, OneU32(code, c));
        break;
      }
      case option::kRebindingTime: {
        MIPSEC_ASSIGN_OR_RETURN(o.rebinding_time, OneU32(code, c));
        break;
      }
      case option::kClientId: {
        MIPSEC_ASSIGN_OR_RETURN(o.client_id, NonEmpty(code, c, 2));
        break;
      }
      default:
        o.unknown.push_back(RawOption{code, c.data});
        break;
    }
  }
  return m;
}

Bytes SerializeMessage(const Message& m) {
  wire::Writer w(kMinMessageSize + 64);
  w.U8(static_cast<std::uint8_t>(m.op)).U8(m.htype).U8(m.hlen).U8(m.hops);
  w.U32(m.xid).U16(m.secs).U16(m.flags);
  w.U32(m.ciaddr.ToHostOrder()).U32(m.yiaddr.ToHostOrder());
  w.U32(m.siaddr.ToHostOrder()).U32(m.giaddr.ToHostOrder());
  w.Append(m.chaddr).Append(m.sname).Append(m.file);
  w.U32(kMagicCookie);

  const Options& o = m.options;
  const std::uint8_t type = static_cast<std::uint8_t>(m.type);
  PutOption(w, option::kMessageType, ByteSpan(&type, 1));
  if (o.server_id) PutAddress(w, option::kServerId, *o.server_id);
  if (o.requested_ip) PutAddress(w, option::kRequestedIp, *o.requested_ip);
  if (o.lease_time) PutU32(w, option::kLeaseTime, *o.lease_time);
  if (o.renewal_time) PutU32(w, option::kRenewalTime, *o.renewal_time);
  if (o.rebinding_time) PutU32(w, option::kRebindingTime, *o.rebinding_time);
  if (o.subnet_mask) PutAddress(w, option::kSubnetMask, *o.subnet_mask);
  PutAddresses(w, option::kRouter, o.routers);
  PutAddresses(w, option::kDnsServer, o.dns_servers);
  if (!o.domain_name.empty()) PutOption(w, option::kDomainName, AsBytes(o.domain_name));
  // RFC 2132 9.14: at least 2 bytes; a shorter value is not sendable.
  if (o.client_id.size() >= 2) PutOption(w, option::kClientId, o.client_id);
  MIPSEC_BUG_IF(o.client_id.size() == 1, "client identifier of one byte");
  if (!o.parameter_request_list.empty()) {
    PutOption(w, option::kParameterRequestList, o.parameter_request_list);
  }
  if (o.max_message_size) {
    std::uint8_t b[2];
    wire::StoreU16(b, 0, *o.max_message_size);
    PutOption(w, option::kMaxMessageSize, b);
  }
  if (!o.message.empty()) PutOption(w, option::kMessage, AsBytes(o.message));
  for (const RawOption& raw : o.unknown) {
    if (MIPSEC_BUG_IF(option::IsTyped(raw.code), "typed option code in Options::unknown")) {
      continue;
    }
    PutOption(w, raw.code, raw.data);
  }
  w.U8(option::kEnd);
  if (w.size() < kMinMessageSize) w.Zeros(kMinMessageSize - w.size());
  return std::move(w).Take();
}

std::optional<int> MaskToPrefixLength(Ipv4Address mask) {
  const std::uint32_t v = mask.ToHostOrder();
  int len = 0;
  while (len < 32 && (v & (0x80000000u >> len)) != 0) ++len;
  if (Ipv4Prefix::MaskBits(len) != v) return std::nullopt;
  return len;
}

std::string Describe(const Message& m) {
  std::ostringstream os;
  os << MessageTypeName(m.type) << " xid 0x" << std::hex << m.xid << std::dec;
  if (!m.ciaddr.IsAny()) os << " ciaddr " << m.ciaddr;
  if (!m.yiaddr.IsAny()) os << " yiaddr " << m.yiaddr;
  if (!m.giaddr.IsAny()) os << " giaddr " << m.giaddr;
  if (m.options.requested_ip) os << " requested " << *m.options.requested_ip;
  if (m.options.server_id) os << " server " << *m.options.server_id;
  if (m.options.lease_time) {
    if (*m.options.lease_time == kInfiniteLease) {
      os << " lease infinite";
    } else {
      os << " lease " << *m.options.lease_time << "s";
    }
  }
  if (m.broadcast()) os << " broadcast";
  return os.str();
}

}  // namespace mipsec::dhcp
