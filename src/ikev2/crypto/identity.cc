#include "ikev2/crypto/identity.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace mipsec::ikev2 {

namespace {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Printable form of an identity for errors (IDs are public).
std::string Printable(ByteSpan b) {
  std::string s;
  for (std::uint8_t c : b) s += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  return s;
}

Error Mismatch(const crypto::Certificate& cert, std::string_view what, std::string_view id) {
  return Error(Errc::kAuthFailed, "certificate " + cert.SubjectText() + " does not contain " +
                                      std::string(what) + " " + std::string(id));
}

}  // namespace

Status CertificateMatchesId(const crypto::Certificate& cert, IdType type, ByteSpan id_data) {
  switch (type) {
    case IdType::kFqdn: {
      std::string_view id(reinterpret_cast<const char*>(id_data.data()), id_data.size());
      for (const std::string& d : cert.DnsNames()) {
        if (EqualsNoCase(d, id)) return Ok{};
      }
      return Mismatch(cert, "dNSName", Printable(id_data));
    }
    case IdType::kRfc822Addr: {
      std::string_view id(reinterpret_cast<const char*>(id_data.data()), id_data.size());
      for (const std::string& e : cert.EmailAddresses()) {
        if (EqualsNoCase(e, id)) return Ok{};
      }
      return Mismatch(cert, "rfc822Name", Printable(id_data));
    }
    case IdType::kIpv4Addr:
    case IdType::kIpv6Addr: {
      const std::size_t want = type == IdType::kIpv4Addr ? 4 : 16;
      if (id_data.size() != want) {
        return Error(Errc::kMalformed, "IP identity of " + std::to_string(id_data.size()) +
                                           " octets, expected " + std::to_string(want));
      }
      for (const Bytes& ip : cert.IpAddresses()) {
        if (std::equal(ip.begin(), ip.end(), id_data.begin(), id_data.end())) return Ok{};
      }
      return Mismatch(cert, "iPAddress", ToHex(id_data));
    }
    case IdType::kDerAsn1Dn: {
      const Bytes subject = cert.SubjectDer();
      if (std::equal(subject.begin(), subject.end(), id_data.begin(), id_data.end())) return Ok{};
      return Error(Errc::kAuthFailed,
                   "certificate subject " + cert.SubjectText() +
                       " differs from the ID_DER_ASN1_DN");
    }
    default:
      return Error(Errc::kUnsupported, "ID type " + std::to_string(static_cast<int>(type)) +
                                           " cannot be matched against a certificate");
  }
}

}  // namespace mipsec::ikev2
