#include "testing/strongswan/test_pki.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab/netns/exec.h"
#include "testing/strongswan/require_strongswan.h"
#include "lab/strongswan/swan_files.h"
#include "testing/lab_names.h"

namespace mipsec::testing {
namespace {

using ::testing::HasSubstr;

bool Exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

// `openssl verify` (and `openssl x509 -text`) as an independent check of
// what pki made.
std::string OpensslText(const std::string& cert) {
  auto r = ExecInNetns(-1, {"openssl", "x509", "-in", cert, "-noout", "-text"});
  return r.ok() ? r->out : "";
}

TEST(TestPki, IssuesEcdsaAndRsaCertificatesThatVerify) {
  MIPSEC_REQUIRE_PKI();
  std::string dir;
  {
    auto pki = TestPki::Create(SwanKeyType::kEcdsa256);
    ASSERT_TRUE(pki.ok()) << pki.error().ToString();
    dir = (*pki)->dir();
    EXPECT_TRUE(Exists((*pki)->ca_cert()));
    EXPECT_THAT(OpensslText((*pki)->ca_cert()), HasSubstr("CA:TRUE"));

    auto ec = (*pki)->Issue("gw", "gw.example.org", SwanKeyType::kEcdsa256);
    ASSERT_TRUE(ec.ok()) << ec.error().ToString();
    auto rsa = (*pki)->Issue("client", "client@example.org", SwanKeyType::kRsa2048);
    ASSERT_TRUE(rsa.ok()) << rsa.error().ToString();
    for (const TestCert* c : {&*ec, &*rsa}) {
      auto v = ExecInNetns(-1, {"openssl", "verify", "-CAfile", (*pki)->ca_cert(), c->cert});
      ASSERT_TRUE(v.ok());
      EXPECT_TRUE(v->Success()) << v->out << v->err;
    }
    std::string ec_text = OpensslText(ec->cert);
    EXPECT_THAT(ec_text, HasSubstr("id-ecPublicKey"));
    EXPECT_THAT(ec_text, HasSubstr("DNS:gw.example.org"));
    EXPECT_THAT(ec_text, HasSubstr("CN = gw.example.org"));
    std::string rsa_text = OpensslText(rsa->cert);
    EXPECT_THAT(rsa_text, HasSubstr("rsaEncryption"));
    EXPECT_THAT(rsa_text, HasSubstr("email:client@example.org"));
    EXPECT_THAT(rsa_text, HasSubstr("TLS Web Client Authentication"));
    EXPECT_EQ(rsa->id, "client@example.org");
    // Private key files are not world readable.
    struct stat st {};
    ASSERT_EQ(::stat(ec->key.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 077, 0u);

    EXPECT_FALSE((*pki)->Issue("bad name", "x.example", SwanKeyType::kEcdsa256).ok());
    EXPECT_FALSE((*pki)->Issue("ok", "a b", SwanKeyType::kEcdsa256).ok());
  }
  EXPECT_FALSE(Exists(dir)) << "TestPki must remove " << dir;
}

TEST(SwanFiles, SweepRemovesDirectoriesOfDeadProcesses) {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  int wst = 0;
  ASSERT_EQ(::waitpid(child, &wst, 0), child);
  // A directory named as if the (now dead) child had made it.
  std::string mine = SwanDirPrefix();
  std::string root = mine.substr(0, mine.rfind('/'));
  std::string stale = root + "/mipsec-swan-" + std::to_string(child) + "-gw-TESTXX";
  ASSERT_EQ(::mkdir(stale.c_str(), 0700), 0);
  ASSERT_TRUE(WriteTextFile(stale + "/charon.log", "x").ok());
  auto live = MakeSwanTempDir("live");
  ASSERT_TRUE(live.ok());
  // (Another test process may sweep it first; either way it must go.)
  SweepStaleSwanDirs();
  EXPECT_FALSE(Exists(stale));
  EXPECT_TRUE(Exists(*live));
  RemoveTree(*live);
}

}  // namespace
}  // namespace mipsec::testing
