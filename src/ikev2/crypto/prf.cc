#include "ikev2/crypto/prf.h"

#include <algorithm>
#include <string>

#include "crypto/hmac.h"
#include "ikev2/crypto/suite.h"

namespace mipsec::ikev2 {

std::size_t PrfOutputSize(PrfId prf) {
  Result<crypto::HashAlg> h = PrfHashOf(prf);
  return h.ok() ? crypto::HashSize(*h) : 0;
}

Result<SecretBytes> Prf(PrfId prf, const SecretBytes& key, ByteSpan data) {
  MIPSEC_ASSIGN_OR_RETURN(crypto::HashAlg h, PrfHashOf(prf));
  MIPSEC_ASSIGN_OR_RETURN(crypto::HmacContext ctx, crypto::HmacContext::Create(h, key));
  MIPSEC_TRY(ctx.Update(data));
  return ctx.FinishSecret();
}

Result<Bytes> PrfPublic(PrfId prf, const SecretBytes& key, ByteSpan data) {
  MIPSEC_ASSIGN_OR_RETURN(crypto::HashAlg h, PrfHashOf(prf));
  return crypto::Hmac(h, key, data);
}

Result<SecretBytes> PrfPlus(PrfId prf, const SecretBytes& key,
                            std::initializer_list<SeedPiece> seed, std::size_t length) {
  MIPSEC_ASSIGN_OR_RETURN(crypto::HashAlg h, PrfHashOf(prf));
  const std::size_t block = crypto::HashSize(h);
  // RFC 7296 2.13: the counter octet limits prf+ to 255 iterations.
  if (length > 255 * block) {
    return Error(Errc::kInvalidArgument, "prf+: " + std::to_string(length) +
                                             " bytes asked, at most " +
                                             std::to_string(255 * block));
  }
  MIPSEC_ASSIGN_OR_RETURN(crypto::HmacContext ctx, crypto::HmacContext::Create(h, key));
  SecretBytes out(length);
  MutableByteSpan dst = out.RevealMutable();
  SecretBytes t(block);
  std::size_t done = 0;
  for (std::uint8_t n = 1; done < length; ++n) {
    if (n > 1) MIPSEC_TRY(ctx.UpdateSecret(t));
    for (const SeedPiece& p : seed) MIPSEC_TRY(ctx.Update(p.bytes));
    const std::uint8_t counter[1] = {n};
    MIPSEC_TRY(ctx.Update(counter));
    MIPSEC_TRY(ctx.FinishInto(t.RevealMutable()));
    const std::size_t take = std::min(block, length - done);
    std::copy_n(t.Reveal().begin(), take, dst.begin() + static_cast<std::ptrdiff_t>(done));
    done += take;
  }
  return out;
}

}  // namespace mipsec::ikev2
