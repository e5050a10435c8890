#include "testing/strongswan/test_pki.h"

#include <algorithm>

#include "lab/strongswan/swan_files.h"
#include "testing/lab_names.h"

namespace mipsec::testing {
namespace {

constexpr const char kPkiConf[] =
    "# STRONGSWAN_CONF for pki(1): only the plugins it needs, so it does not\n"
    "# warn about every plugin compiled into libstrongswan.\n"
    "pki {\n"
    "  load = random nonce openssl pem pkcs1 pkcs8 x509 pubkey\n"
    "}\n";

constexpr const char kDnBase[] = "C=CH, O=mipsec interop test, CN=";

bool IsFileName(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
  });
}

bool IsIdentity(std::string_view s) {
  return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '@' || c == '_';
  });
}

}  // namespace

std::vector<std::string> PkiKeyArgs(SwanKeyType type) {
  switch (type) {
    case SwanKeyType::kEcdsa256:
      return {"--type", "ecdsa", "--size", "256"};
    case SwanKeyType::kEcdsa384:
      return {"--type", "ecdsa", "--size", "384"};
    case SwanKeyType::kRsa2048:
      return {"--type", "rsa", "--size", "2048"};
    case SwanKeyType::kRsa3072:
      return {"--type", "rsa", "--size", "3072"};
  }
  return {};
}

std::string_view SwanKeyTypeName(SwanKeyType type) {
  return (type == SwanKeyType::kEcdsa256 || type == SwanKeyType::kEcdsa384) ? "ecdsa" : "rsa";
}

Result<std::unique_ptr<TestPki>> TestPki::Create(SwanKeyType ca_type, int lifetime_days) {
  if (lifetime_days < 1) return Error(Errc::kInvalidArgument, "lifetime_days must be >= 1");
  auto pki_path = FindExecutable("pki");
  if (!pki_path.ok()) {
    return Error(Errc::kNotFound,
                 "`pki` not found: install the Debian package strongswan-pki");
  }
  SweepStaleSwanDirs();
  std::unique_ptr<TestPki> pki(new TestPki());
  pki->pki_ = *pki_path;
  pki->lifetime_days_ = lifetime_days;
  MIPSEC_ASSIGN_OR_RETURN(pki->dir_, MakeSwanTempDir("pki"));
  pki->conf_ = pki->dir_ + "/pki.conf";
  MIPSEC_TRY(WriteTextFile(pki->conf_, kPkiConf));
  pki->ca_key_ = pki->dir_ + "/ca.key.pem";
  pki->ca_cert_ = pki->dir_ + "/ca.cert.pem";

  std::vector<std::string> gen = {"--gen"};
  for (auto& a : PkiKeyArgs(ca_type)) gen.push_back(a);
  gen.insert(gen.end(), {"--outform", "pem"});
  MIPSEC_ASSIGN_OR_RETURN(std::string key, pki->RunPki(gen));
  MIPSEC_TRY(WriteTextFile(pki->ca_key_, key));
  MIPSEC_ASSIGN_OR_RETURN(
      std::string cert,
      pki->RunPki({"--self", "--ca", "--lifetime", std::to_string(lifetime_days), "--in",
                   pki->ca_key_, "--type", "priv", "--dn",
                   std::string(kDnBase) + "mipsec test CA", "--outform", "pem"}));
  MIPSEC_TRY(WriteTextFile(pki->ca_cert_, cert, 0644));
  return pki;
}

TestPki::~TestPki() { RemoveTree(dir_); }

Result<std::string> TestPki::RunPki(const std::vector<std::string>& args) {
  MIPSEC_ASSIGN_OR_RETURN(ExecResult r, RunSwanTool(pki_, conf_, args, Duration::Seconds(30)));
  if (!r.Success() || r.out.empty()) {
    return Error(Errc::kSystem, "pki " + JoinArgv(args) + ": " + r.Describe() + ": " + r.err);
  }
  return std::move(r.out);
}

Result<TestCert> TestPki::Issue(std::string_view name, std::string_view id, SwanKeyType type) {
  if (!IsFileName(name)) {
    return Error(Errc::kInvalidArgument, "certificate name '" + std::string(name) + "'");
  }
  if (!IsIdentity(id)) {
    return Error(Errc::kInvalidArgument,
                 "identity '" + std::string(id) + "' (want an FQDN, user@fqdn or address)");
  }
  TestCert c;
  c.id = std::string(id);
  c.dn = std::string(kDnBase) + c.id;
  c.key = dir_ + "/" + std::string(name) + ".key.pem";
  c.cert = dir_ + "/" + std::string(name) + ".cert.pem";
  std::vector<std::string> gen = {"--gen"};
  for (auto& a : PkiKeyArgs(type)) gen.push_back(a);
  gen.insert(gen.end(), {"--outform", "pem"});
  MIPSEC_ASSIGN_OR_RETURN(std::string key, RunPki(gen));
  MIPSEC_TRY(WriteTextFile(c.key, key));
  MIPSEC_ASSIGN_OR_RETURN(
      std::string cert,
      RunPki({"--issue", "--cacert", ca_cert_, "--cakey", ca_key_, "--type", "priv", "--in", c.key,
              "--dn", c.dn, "--san", c.id, "--flag", "serverAuth", "--flag", "clientAuth",
              "--lifetime", std::to_string(lifetime_days_), "--outform", "pem"}));
  MIPSEC_TRY(WriteTextFile(c.cert, cert, 0644));
  return c;
}

}  // namespace mipsec::testing
