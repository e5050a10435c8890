#include "ikev2/sa/config.h"

namespace mipsec::ikev2 {
namespace {

void Push(std::vector<Suite>& v, Result<Suite> s) {
  if (s.ok()) v.push_back(*s);
}

}  // namespace

std::vector<Suite> DefaultIkeProposals() {
  std::vector<Suite> v;
  Push(v, Suite::ForIke(EncrId::kAesGcm16, 128, PrfId::kHmacSha2_256, std::nullopt,
                        DhId::kCurve25519));
  Push(v, Suite::ForIke(EncrId::kAesGcm16, 256, PrfId::kHmacSha2_384, std::nullopt,
                        DhId::kEcp384));
  Push(v, Suite::ForIke(EncrId::kAesCbc, 128, PrfId::kHmacSha2_256, IntegId::kHmacSha2_256_128,
                        DhId::kEcp256));
  Push(v, Suite::ForIke(EncrId::kAesCbc, 256, PrfId::kHmacSha2_256, IntegId::kHmacSha2_256_128,
                        DhId::kModp2048));
  return v;
}

std::vector<Suite> DefaultEspProposals() {
  std::vector<Suite> v;
  Push(v, Suite::ForEsp(EncrId::kAesGcm16, 128, std::nullopt, std::nullopt, EsnId::kNoEsn));
  Push(v, Suite::ForEsp(EncrId::kAesGcm16, 256, std::nullopt, std::nullopt, EsnId::kNoEsn));
  Push(v, Suite::ForEsp(EncrId::kAesCbc, 128, IntegId::kHmacSha2_256_128, std::nullopt,
                        EsnId::kNoEsn));
  Push(v, Suite::ForEsp(EncrId::kAesCbc, 256, IntegId::kHmacSha2_256_128, std::nullopt,
                        EsnId::kNoEsn));
  return v;
}

}  // namespace mipsec::ikev2
