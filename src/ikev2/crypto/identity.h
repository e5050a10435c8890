// Does a certificate vouch for an IKEv2 identity? (RFC 7296 3.5, 4: the ID
// must be bound to the certificate, by subject DN or subjectAltName.)
#ifndef MIPSEC_IKEV2_CRYPTO_IDENTITY_H_
#define MIPSEC_IKEV2_CRYPTO_IDENTITY_H_

#include "common/bytes.h"
#include "common/result.h"
#include "crypto/x509.h"
#include "ikev2/codec/ids.h"

namespace mipsec::ikev2 {

// Ok if `cert` carries the identity of an ID payload (type and
// Identification Data):
//   ID_FQDN         a subjectAltName dNSName, compared case-insensitively;
//   ID_RFC822_ADDR  a subjectAltName rfc822Name (case-insensitive);
//   ID_IPV4_ADDR / ID_IPV6_ADDR  a subjectAltName iPAddress, byte-equal;
//   ID_DER_ASN1_DN  the subject Name, DER byte-equal.
// kAuthFailed if not (the detail names the ID and the certificate subject),
// kUnsupported for other ID types (ID_KEY_ID, ID_DER_ASN1_GN), kMalformed
// for an IP identity of the wrong length.
Status CertificateMatchesId(const crypto::Certificate& cert, IdType type, ByteSpan id_data);

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CRYPTO_IDENTITY_H_
