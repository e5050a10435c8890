#include "crypto/openssl_util.h"

#include <openssl/err.h>

#include <string>

namespace mipsec::crypto::internal {

Error OpenSslError(Errc code, std::string_view op) {
  std::string detail(op);
  detail += ": ";
  bool first = true;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!first) detail += "; ";
    detail += buf;
    first = false;
  }
  if (first) detail += "failed (OpenSSL queued no error)";
  return Error(code, std::move(detail));
}

void ClearOpenSslErrors() { ERR_clear_error(); }

const char* MdName(HashAlg alg) {
  switch (alg) {
    case HashAlg::kMd5: return "MD5";
    case HashAlg::kSha1: return "SHA1";
    case HashAlg::kSha256: return "SHA2-256";
    case HashAlg::kSha384: return "SHA2-384";
    case HashAlg::kSha512: return "SHA2-512";
  }
  return "";
}

namespace {

constexpr HashAlg kAllHashes[] = {HashAlg::kMd5, HashAlg::kSha1, HashAlg::kSha256, HashAlg::kSha384,
                                  HashAlg::kSha512};

struct FetchedAlgorithms {
  EVP_MD* md[std::size(kAllHashes)] = {};
  EVP_MAC* hmac = nullptr;
  EVP_CIPHER* gcm[3] = {};  // 128, 192, 256
  EVP_CIPHER* cbc[3] = {};

  FetchedAlgorithms() {
    for (std::size_t i = 0; i < std::size(kAllHashes); ++i) {
      md[i] = EVP_MD_fetch(nullptr, MdName(kAllHashes[i]), nullptr);
    }
    hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    static constexpr const char* kGcm[] = {"AES-128-GCM", "AES-192-GCM", "AES-256-GCM"};
    static constexpr const char* kCbc[] = {"AES-128-CBC", "AES-192-CBC", "AES-256-CBC"};
    for (int i = 0; i < 3; ++i) {
      gcm[i] = EVP_CIPHER_fetch(nullptr, kGcm[i], nullptr);
      cbc[i] = EVP_CIPHER_fetch(nullptr, kCbc[i], nullptr);
    }
    // A missing algorithm is reported by the caller that needs it.
    ERR_clear_error();
  }
};

// Never destroyed: the objects stay valid until process exit, and tearing
// them down from a static destructor could race OpenSSL's own atexit cleanup.
const FetchedAlgorithms& Fetched() {
  static const FetchedAlgorithms* const fetched = new FetchedAlgorithms();
  return *fetched;
}

}  // namespace

const EVP_MD* FetchedMd(HashAlg alg) {
  for (std::size_t i = 0; i < std::size(kAllHashes); ++i) {
    if (kAllHashes[i] == alg) return Fetched().md[i];
  }
  return nullptr;
}

EVP_MAC* FetchedHmac() { return Fetched().hmac; }

const EVP_CIPHER* FetchedAes(std::string_view mode, std::size_t key_size) {
  int idx;
  switch (key_size) {
    case 16: idx = 0; break;
    case 24: idx = 1; break;
    case 32: idx = 2; break;
    default: return nullptr;
  }
  if (mode == "GCM") return Fetched().gcm[idx];
  if (mode == "CBC") return Fetched().cbc[idx];
  return nullptr;
}

}  // namespace mipsec::crypto::internal
