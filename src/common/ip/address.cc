#include "common/ip/address.h"

#include <ostream>

namespace mipsec {
namespace {

// Quotes (a bounded prefix of) the input for an error detail.
std::string Quoted(std::string_view text) {
  constexpr std::size_t kMax = 48;
  std::string q = "\"";
  q += text.substr(0, kMax);
  if (text.size() > kMax) q += "...";
  q += '"';
  return q;
}

Error BadText(std::string_view kind, std::string_view text, std::string_view why) {
  std::string d(kind);
  d += ' ';
  d += Quoted(text);
  d += ": ";
  d += why;
  return Error(Errc::kMalformed, std::move(d));
}

// A decimal number of 1..max_digits digits without a leading zero (the
// number 0 itself is "0"). Returns -1 when `s` is not such a number.
std::int64_t StrictDecimal(std::string_view s, std::size_t max_digits) {
  if (s.empty() || s.size() > max_digits) return -1;
  if (s.size() > 1 && s[0] == '0') return -1;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

Result<Ipv4Address> Ipv4Address::Parse(std::string_view text) {
  if (text.empty()) return BadText("ipv4 address", text, "empty");
  std::uint32_t v = 0;
  std::string_view rest = text;
  for (int i = 0; i < 4; ++i) {
    std::size_t dot = rest.find('.');
    std::string_view part = rest.substr(0, dot);
    if (i < 3 && dot == std::string_view::npos) {
      return BadText("ipv4 address", text, "needs four dot-separated octets");
    }
    if (i == 3 && dot != std::string_view::npos) {
      return BadText("ipv4 address", text, "more than four octets");
    }
    if (part.empty()) {
      return BadText("ipv4 address", text, "octet " + std::to_string(i + 1) + " is empty");
    }
    if (part.size() > 1 && part[0] == '0') {
      return BadText("ipv4 address", text,
                     "octet " + std::to_string(i + 1) + " has a leading zero (octal is ambiguous)");
    }
    std::int64_t o = StrictDecimal(part, 3);
    if (o < 0) {
      return BadText("ipv4 address", text,
                     "octet " + std::to_string(i + 1) + " is not a decimal number");
    }
    if (o > 255) {
      return BadText("ipv4 address", text,
                     "octet " + std::to_string(i + 1) + " is greater than 255");
    }
    v = v << 8 | static_cast<std::uint32_t>(o);
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
  }
  return Ipv4Address(v);
}

std::string Ipv4Address::ToString() const {
  std::string s;
  s.reserve(15);
  for (int shift = 24; shift >= 0; shift -= 8) {
    s += std::to_string((v_ >> shift) & 0xff);
    if (shift != 0) s += '.';
  }
  return s;
}

std::ostream& operator<<(std::ostream& os, Ipv4Address a) { return os << a.ToString(); }

Result<Ipv4Prefix> Ipv4Prefix::Create(Ipv4Address network, int length) {
  if (length < 0 || length > 32) {
    return Error(Errc::kInvalidArgument,
                 "ipv4 prefix length " + std::to_string(length) + " is outside 0..32");
  }
  if ((network.ToHostOrder() & ~MaskBits(length)) != 0) {
    return Error(Errc::kInvalidArgument, "ipv4 prefix " + network.ToString() + "/" +
                                             std::to_string(length) + " has host bits set");
  }
  return Ipv4Prefix(network, static_cast<std::uint8_t>(length));
}

Result<Ipv4Prefix> Ipv4Prefix::FromAddressAndLength(Ipv4Address address, int length) {
  if (length < 0 || length > 32) {
    return Error(Errc::kInvalidArgument,
                 "ipv4 prefix length " + std::to_string(length) + " is outside 0..32");
  }
  return Ipv4Prefix(Ipv4Address::FromHostOrder(address.ToHostOrder() & MaskBits(length)),
                    static_cast<std::uint8_t>(length));
}

Result<Ipv4Prefix> Ipv4Prefix::Parse(std::string_view text) {
  std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return BadText("ipv4 prefix", text, "needs \"/length\"");
  }
  Result<Ipv4Address> a = Ipv4Address::Parse(text.substr(0, slash));
  if (!a.ok()) return a.error().WithContext("ipv4 prefix " + Quoted(text));
  std::int64_t len = StrictDecimal(text.substr(slash + 1), 2);
  if (len < 0) return BadText("ipv4 prefix", text, "length is not a decimal number");
  if (len > 32) return BadText("ipv4 prefix", text, "length is greater than 32");
  if ((a->ToHostOrder() & ~MaskBits(static_cast<int>(len))) != 0) {
    return BadText("ipv4 prefix", text, "host bits are set");
  }
  return Ipv4Prefix(*a, static_cast<std::uint8_t>(len));
}

std::string Ipv4Prefix::ToString() const {
  return address_.ToString() + "/" + std::to_string(length_);
}

std::ostream& operator<<(std::ostream& os, const Ipv4Prefix& p) { return os << p.ToString(); }

Result<Ipv4Endpoint> Ipv4Endpoint::Parse(std::string_view text) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return BadText("ipv4 endpoint", text, "needs \":port\"");
  }
  Result<Ipv4Address> a = Ipv4Address::Parse(text.substr(0, colon));
  if (!a.ok()) return a.error().WithContext("ipv4 endpoint " + Quoted(text));
  std::int64_t port = StrictDecimal(text.substr(colon + 1), 5);
  if (port < 0) return BadText("ipv4 endpoint", text, "port is not a decimal number");
  if (port > 65535) return BadText("ipv4 endpoint", text, "port is greater than 65535");
  return Ipv4Endpoint{*a, static_cast<std::uint16_t>(port)};
}

std::string Ipv4Endpoint::ToString() const {
  return address.ToString() + ":" + std::to_string(port);
}

std::ostream& operator<<(std::ostream& os, const Ipv4Endpoint& e) { return os << e.ToString(); }

}  // namespace mipsec
