// TestPki: a throw-away certificate authority for interop tests, made at
// test time with strongSwan's `pki` tool (Debian package strongswan-pki).
//
//   auto pki = TestPki::Create(SwanKeyType::kEcdsa256);
//   ASSERT_TRUE(pki.ok()) << pki.error().ToString();
//   auto gw = (*pki)->Issue("gw", "gw.example.org", SwanKeyType::kEcdsa256);
//   conn.local.cert = gw->cert;  conn.local.key = gw->key;
//   conn.remote.cacert = (*pki)->ca_cert();
//
// Files live in a private directory (mode 0700) named
// <tmp>/mipsec-swan-<pid>-pki-XXXXXX, removed by the destructor; if the test
// process is killed first, the next StrongswanPeer::Start() or
// SweepStaleSwanDirs() of any test removes it (its pid is dead).
// Certificates are valid from now for `lifetime_days` (default 2), carry the
// identity as CN and as subjectAltName (so strongSwan matches `id` against
// it), and leaf certificates have serverAuth and clientAuth.
#ifndef MIPSEC_TESTING_STRONGSWAN_TEST_PKI_H_
#define MIPSEC_TESTING_STRONGSWAN_TEST_PKI_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace mipsec::testing {

enum class SwanKeyType { kEcdsa256, kEcdsa384, kRsa2048, kRsa3072 };

struct TestCert {
  std::string cert;  // absolute path, PEM X.509 certificate
  std::string key;   // absolute path, PEM private key
  std::string id;    // the identity in CN and subjectAltName
  std::string dn;    // full subject DN
};

class TestPki {
 public:
  // Creates the directory, the CA key and a self-signed CA certificate.
  // kNotFound (naming strongswan-pki) when `pki` is not installed.
  static Result<std::unique_ptr<TestPki>> Create(SwanKeyType ca_type = SwanKeyType::kEcdsa256,
                                                 int lifetime_days = 2);
  ~TestPki();
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  const std::string& dir() const { return dir_; }
  const std::string& ca_cert() const { return ca_cert_; }
  const std::string& ca_key() const { return ca_key_; }

  // A key of `type` and a certificate for identity `id` (an FQDN,
  // user@fqdn or IPv4 address) signed by the CA. `name` ([A-Za-z0-9_-])
  // names the files: <name>.key.pem, <name>.cert.pem.
  Result<TestCert> Issue(std::string_view name, std::string_view id, SwanKeyType type);

 private:
  TestPki() = default;
  Result<std::string> RunPki(const std::vector<std::string>& args);
  std::string dir_;
  std::string pki_;
  std::string conf_;  // STRONGSWAN_CONF for pki: a quiet plugin list
  std::string ca_cert_;
  std::string ca_key_;
  int lifetime_days_ = 2;
};

// `pki --gen` arguments for a key type: {"--type", "ecdsa", "--size", "256"}.
std::vector<std::string> PkiKeyArgs(SwanKeyType type);
std::string_view SwanKeyTypeName(SwanKeyType type);  // "ecdsa", "rsa"

}  // namespace mipsec::testing

#endif  // MIPSEC_TESTING_STRONGSWAN_TEST_PKI_H_
