#include "ikev2/crypto/keys.h"

#include <array>
#include <utility>

#include "crypto/hmac.h"
#include "ikev2/crypto/prf.h"

namespace mipsec::ikev2 {

namespace {

// Takes the next `n` bytes of `km` starting at `*pos`.
SecretBytes Take(const SecretBytes& km, std::size_t* pos, std::size_t n) {
  SecretBytes out(km.Reveal().subspan(*pos, n));
  *pos += n;
  return out;
}

std::array<std::uint8_t, 8> Spi(std::uint64_t v) {
  std::array<std::uint8_t, 8> b;
  for (int i = 7; i >= 0; --i) {
    b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
  return b;
}

}  // namespace

Result<SecretBytes> ComputeSkeyseed(PrfId prf, ByteSpan ni, ByteSpan nr, const SecretBytes& gir) {
  if (ni.empty() || nr.empty() || gir.empty()) {
    return Error(Errc::kInvalidArgument, "SKEYSEED: empty nonce or shared secret");
  }
  MIPSEC_ASSIGN_OR_RETURN(crypto::HashAlg h, PrfHashOf(prf));
  // RFC 7296 2.14: the key is Ni | Nr (public), the data g^ir (secret).
  Bytes key(ni.begin(), ni.end());
  key.insert(key.end(), nr.begin(), nr.end());
  MIPSEC_ASSIGN_OR_RETURN(crypto::HmacContext ctx,
                          crypto::HmacContext::CreateWithPublicKey(h, key));
  MIPSEC_TRY(ctx.UpdateSecret(gir));
  return ctx.FinishSecret();
}

Result<SecretBytes> ComputeRekeySkeyseed(PrfId old_prf, const SecretBytes& old_sk_d,
                                         const SecretBytes& gir, ByteSpan ni, ByteSpan nr) {
  if (ni.empty() || nr.empty() || gir.empty() || old_sk_d.empty()) {
    return Error(Errc::kInvalidArgument, "rekey SKEYSEED: empty input");
  }
  MIPSEC_ASSIGN_OR_RETURN(crypto::HashAlg h, PrfHashOf(old_prf));
  MIPSEC_ASSIGN_OR_RETURN(crypto::HmacContext ctx, crypto::HmacContext::Create(h, old_sk_d));
  // RFC 7296 2.18: prf(SK_d (old), g^ir (new) | Ni | Nr).
  MIPSEC_TRY(ctx.UpdateSecret(gir));
  MIPSEC_TRY(ctx.Update(ni));
  MIPSEC_TRY(ctx.Update(nr));
  return ctx.FinishSecret();
}

Result<IkeSaKeys> DeriveIkeSaKeys(const Suite& ike, const SecretBytes& skeyseed, ByteSpan ni,
                                  ByteSpan nr, std::uint64_t spi_i, std::uint64_t spi_r) {
  if (!ike.is_ike()) return Error(Errc::kInvalidArgument, "IKE SA keys need an IKE suite");
  const std::size_t prf_len = ike.PrfKeySize();
  const std::size_t a_len = ike.IntegKeySize();
  const std::size_t e_len = ike.EncrKeySize();
  const std::size_t total = 3 * prf_len + 2 * a_len + 2 * e_len;
  const auto spii = Spi(spi_i);
  const auto spir = Spi(spi_r);
  MIPSEC_ASSIGN_OR_RETURN(
      SecretBytes km,
      PrfPlus(ike.prf(), skeyseed, {ni, nr, ByteSpan(spii), ByteSpan(spir)}, total));
  // RFC 7296 2.14: taken in the order SK_d, SK_ai, SK_ar, SK_ei, SK_er,
  // SK_pi, SK_pr.
  std::size_t pos = 0;
  IkeSaKeys k;
  k.sk_d = Take(km, &pos, prf_len);
  k.sk_ai = Take(km, &pos, a_len);
  k.sk_ar = Take(km, &pos, a_len);
  k.sk_ei = Take(km, &pos, e_len);
  k.sk_er = Take(km, &pos, e_len);
  k.sk_pi = Take(km, &pos, prf_len);
  k.sk_pr = Take(km, &pos, prf_len);
  return k;
}

Result<ChildSaKeys> DeriveChildSaKeys(PrfId prf, const SecretBytes& sk_d, const Suite& esp,
                                      ByteSpan ni, ByteSpan nr, const SecretBytes* gir) {
  if (esp.is_ike()) return Error(Errc::kInvalidArgument, "CHILD SA keys need an ESP suite");
  if (ni.empty() || nr.empty()) return Error(Errc::kInvalidArgument, "KEYMAT: empty nonce");
  const std::size_t e_len = esp.EncrKeySize();
  const std::size_t a_len = esp.IntegKeySize();
  const std::size_t total = 2 * (e_len + a_len);
  Result<SecretBytes> km = gir != nullptr ? PrfPlus(prf, sk_d, {*gir, ni, nr}, total)
                                          : PrfPlus(prf, sk_d, {ni, nr}, total);
  if (!km.ok()) return std::move(km).error();
  std::size_t pos = 0;
  ChildSaKeys k;
  k.initiator_to_responder.encr = Take(*km, &pos, e_len);
  k.initiator_to_responder.integ = Take(*km, &pos, a_len);
  k.responder_to_initiator.encr = Take(*km, &pos, e_len);
  k.responder_to_initiator.integ = Take(*km, &pos, a_len);
  return k;
}

}  // namespace mipsec::ikev2
