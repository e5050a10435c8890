#include "crypto/dh.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/dh.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include <algorithm>
#include <functional>
#include <string>
#include <utility>

#include "crypto/modp_groups.h"
#include "crypto/openssl_util.h"

namespace mipsec::crypto {

using internal::BignumPtr;
using internal::BnCtxPtr;
using internal::OpenSslError;
using internal::PkeyCtxPtr;
using internal::PkeyPtr;

namespace {

std::string Name(DhGroup g) { return std::string(DhGroupName(g)); }

struct EcGroupDeleter {
  void operator()(EC_GROUP* p) const { EC_GROUP_free(p); }
};
struct EcPointDeleter {
  void operator()(EC_POINT* p) const { EC_POINT_free(p); }
};
struct ParamBldDeleter {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamsDeleter {  // secure (private) values inside are cleared on free
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
using EcGroupPtr = std::unique_ptr<EC_GROUP, EcGroupDeleter>;
using EcPointPtr = std::unique_ptr<EC_POINT, EcPointDeleter>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, ParamsDeleter>;

// RFC 5903 section 3 (and RFC 5114 section 2.3 for 521): the NIST curves.
struct Curve {
  int nid;
  const char* name;  // OpenSSL group name
};
Curve CurveOf(DhGroup g) {
  switch (g) {
    case DhGroup::kEcp256: return {NID_X9_62_prime256v1, "P-256"};
    case DhGroup::kEcp384: return {NID_secp384r1, "P-384"};
    default: return {NID_secp521r1, "P-521"};
  }
}

Result<BignumPtr> ToBignum(ByteSpan big_endian, bool secret) {
  BignumPtr bn(secret ? BN_secure_new() : BN_new());
  if (!bn || BN_bin2bn(internal::NonNull(big_endian.data()), static_cast<int>(big_endian.size()),
                       bn.get()) == nullptr) {
    return OpenSslError(Errc::kInternal, "BN_bin2bn");
  }
  if (secret) BN_set_flags(bn.get(), BN_FLG_CONSTTIME);
  return bn;
}

// Builds an EVP_PKEY of `type` ("DH", "EC") from the parameters in `bld`.
Result<PkeyPtr> PkeyFromParams(const char* type, int selection, OSSL_PARAM_BLD* bld,
                               std::string_view what) {
  ParamsPtr params(OSSL_PARAM_BLD_to_param(bld));
  if (!params) return OpenSslError(Errc::kInternal, "OSSL_PARAM_BLD_to_param");
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, selection, params.get()) != 1) {
    return OpenSslError(Errc::kInternal,
                        std::string("EVP_PKEY_fromdata (") + std::string(what) + ")");
  }
  return PkeyPtr(pkey);
}

// ---------------------------------------------------------------- MODP

struct ModpParams {
  BignumPtr p;
  BignumPtr g;
  BignumPtr p_minus_1;
};

Result<ModpParams> LoadModp(DhGroup group) {
  MIPSEC_ASSIGN_OR_RETURN(BignumPtr p, ToBignum(ModpPrime(group), false));
  BignumPtr g(BN_new());
  BignumPtr pm1(BN_dup(p.get()));
  if (!g || !pm1 || BN_set_word(g.get(), kModpGenerator) != 1 || BN_sub_word(pm1.get(), 1) != 1) {
    return OpenSslError(Errc::kInternal, "MODP parameters");
  }
  return ModpParams{std::move(p), std::move(g), std::move(pm1)};
}

// 1 < v < p - 1: RFC 6989 section 2.1 for public values; the same bound
// keeps private exponents away from the degenerate 0, 1 and p - 1.
bool InModpRange(const BIGNUM* v, const ModpParams& m) {
  return BN_cmp(v, BN_value_one()) > 0 && BN_cmp(v, m.p_minus_1.get()) < 0;
}

Status PushModpDomain(OSSL_PARAM_BLD* bld, const ModpParams& m) {
  if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, m.p.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, m.g.get()) != 1) {
    return OpenSslError(Errc::kInternal, "OSSL_PARAM_BLD_push_BN (MODP domain)");
  }
  return Ok{};
}

Result<std::pair<PkeyPtr, Bytes>> ModpFromPrivate(DhGroup group, ByteSpan priv) {
  const std::size_t plen = DhPublicValueSize(group);
  if (priv.empty() || priv.size() > plen) {
    return Error(Errc::kInvalidArgument, Name(group) + ": private exponent of " +
                                             std::to_string(priv.size()) + " bytes, need 1.." +
                                             std::to_string(plen));
  }
  MIPSEC_ASSIGN_OR_RETURN(ModpParams m, LoadModp(group));
  MIPSEC_ASSIGN_OR_RETURN(BignumPtr x, ToBignum(priv, true));
  if (!InModpRange(x.get(), m)) {
    return Error(Errc::kInvalidArgument, Name(group) + ": private exponent not in (1, p-1)");
  }
  BnCtxPtr bnctx(BN_CTX_secure_new());
  BignumPtr y(BN_new());
  if (!bnctx || !y ||
      BN_mod_exp_mont_consttime(y.get(), m.g.get(), x.get(), m.p.get(), bnctx.get(), nullptr) !=
          1) {
    return OpenSslError(Errc::kInternal, "BN_mod_exp_mont_consttime (g^x mod p)");
  }
  Bytes pub(plen);
  if (BN_bn2binpad(y.get(), pub.data(), static_cast<int>(plen)) != static_cast<int>(plen)) {
    return OpenSslError(Errc::kInternal, "BN_bn2binpad (MODP public value)");
  }
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld) return OpenSslError(Errc::kInternal, "OSSL_PARAM_BLD_new");
  MIPSEC_TRY(PushModpDomain(bld.get(), m));
  if (OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, x.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, y.get()) != 1) {
    return OpenSslError(Errc::kInternal, "OSSL_PARAM_BLD_push_BN (MODP key)");
  }
  MIPSEC_ASSIGN_OR_RETURN(PkeyPtr pkey,
                          PkeyFromParams("DH", EVP_PKEY_KEYPAIR, bld.get(), Name(group)));
  return std::make_pair(std::move(pkey), std::move(pub));
}

Result<PkeyPtr> ModpPeer(DhGroup group, ByteSpan peer) {
  MIPSEC_ASSIGN_OR_RETURN(ModpParams m, LoadModp(group));
  MIPSEC_ASSIGN_OR_RETURN(BignumPtr y, ToBignum(peer, false));
  // RFC 6989 section 2.1: 1 < r < p - 1. This rejects 0, 1, p - 1 and any
  // value >= p (the length is already exactly len(p)).
  if (!InModpRange(y.get(), m)) {
    return Error(Errc::kMalformed,
                 Name(group) + ": peer public value not in (1, p-1) (RFC 6989 section 2.1)");
  }
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld) return OpenSslError(Errc::kInternal, "OSSL_PARAM_BLD_new");
  MIPSEC_TRY(PushModpDomain(bld.get(), m));
  if (OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, y.get()) != 1) {
    return OpenSslError(Errc::kInternal, "OSSL_PARAM_BLD_push_BN (MODP peer)");
  }
  return PkeyFromParams("DH", EVP_PKEY_PUBLIC_KEY, bld.get(), Name(group) + " peer");
}

// ---------------------------------------------------------------- ECP

Result<EcGroupPtr> LoadCurve(DhGroup group) {
  EcGroupPtr g(EC_GROUP_new_by_curve_name(CurveOf(group).nid));
  if (!g) return OpenSslError(Errc::kInternal, "EC_GROUP_new_by_curve_name");
  return g;
}

Result<std::pair<PkeyPtr, Bytes>> EcpFromPrivate(DhGroup group, ByteSpan priv) {
  const std::size_t flen = DhSharedSecretSize(group);
  if (priv.size() != flen) {
    return Error(Errc::kInvalidArgument, Name(group) + ": private key of " +
                                             std::to_string(priv.size()) + " bytes, need " +
                                             std::to_string(flen));
  }
  MIPSEC_ASSIGN_OR_RETURN(EcGroupPtr curve, LoadCurve(group));
  MIPSEC_ASSIGN_OR_RETURN(BignumPtr d, ToBignum(priv, true));
  if (BN_is_zero(d.get()) || BN_cmp(d.get(), EC_GROUP_get0_order(curve.get())) >= 0) {
    return Error(Errc::kInvalidArgument, Name(group) + ": private key not in [1, n-1]");
  }
  BnCtxPtr bnctx(BN_CTX_secure_new());
  EcPointPtr q(EC_POINT_new(curve.get()));
  if (!bnctx || !q ||
      EC_POINT_mul(curve.get(), q.get(), d.get(), nullptr, nullptr, bnctx.get()) != 1) {
    return OpenSslError(Errc::kInternal, "EC_POINT_mul (d * G)");
  }
  // SEC 1 uncompressed: 0x04 || x || y, coordinates padded to the field size.
  Bytes sec1(1 + 2 * flen);
  if (EC_POINT_point2oct(curve.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, sec1.data(),
                         sec1.size(), bnctx.get()) != sec1.size()) {
    return OpenSslError(Errc::kInternal, "EC_POINT_point2oct");
  }
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, CurveOf(group).name,
                                      0) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, sec1.data(),
                                       sec1.size()) != 1) {
    return OpenSslError(Errc::kInternal, "OSSL_PARAM_BLD (EC key)");
  }
  MIPSEC_ASSIGN_OR_RETURN(PkeyPtr pkey,
                          PkeyFromParams("EC", EVP_PKEY_KEYPAIR, bld.get(), Name(group)));
  // RFC 5903 section 7: the KE data is x || y, without the 0x04 prefix.
  return std::make_pair(std::move(pkey), Bytes(sec1.begin() + 1, sec1.end()));
}

Result<PkeyPtr> EcpPeer(DhGroup group, ByteSpan peer) {
  MIPSEC_ASSIGN_OR_RETURN(EcGroupPtr curve, LoadCurve(group));
  Bytes sec1(1 + peer.size());
  sec1[0] = POINT_CONVERSION_UNCOMPRESSED;
  std::copy(peer.begin(), peer.end(), sec1.begin() + 1);
  // RFC 6989 section 2.3: x and y must satisfy the curve equation.
  // EC_POINT_oct2point refuses coordinates >= p and points off the curve; the
  // explicit check keeps that guarantee independent of the decoder. The point
  // at infinity has no x || y encoding (RFC 5903 section 7).
  BnCtxPtr bnctx(BN_CTX_new());
  EcPointPtr q(EC_POINT_new(curve.get()));
  if (!bnctx || !q) return OpenSslError(Errc::kInternal, "EC_POINT_new");
  if (EC_POINT_oct2point(curve.get(), q.get(), sec1.data(), sec1.size(), bnctx.get()) != 1 ||
      EC_POINT_is_on_curve(curve.get(), q.get(), bnctx.get()) != 1) {
    internal::ClearOpenSslErrors();
    return Error(Errc::kMalformed, Name(group) +
                                       ": peer public value is not a point on the curve "
                                       "(RFC 6989 section 2.3)");
  }
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, CurveOf(group).name,
                                      0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, sec1.data(),
                                       sec1.size()) != 1) {
    return OpenSslError(Errc::kInternal, "OSSL_PARAM_BLD (EC peer)");
  }
  return PkeyFromParams("EC", EVP_PKEY_PUBLIC_KEY, bld.get(), Name(group) + " peer");
}

// ---------------------------------------------------------------- X25519

Result<std::pair<PkeyPtr, Bytes>> X25519FromPrivate(ByteSpan priv) {
  if (priv.size() != 32) {
    return Error(Errc::kInvalidArgument,
                 "curve25519: private key of " + std::to_string(priv.size()) + " bytes, need 32");
  }
  PkeyPtr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, priv.data(), priv.size()));
  if (!pkey) return OpenSslError(Errc::kInternal, "EVP_PKEY_new_raw_private_key (X25519)");
  Bytes pub(32);
  std::size_t len = pub.size();
  if (EVP_PKEY_get_raw_public_key(pkey.get(), pub.data(), &len) != 1 || len != pub.size()) {
    return OpenSslError(Errc::kInternal, "EVP_PKEY_get_raw_public_key (X25519)");
  }
  return std::make_pair(std::move(pkey), std::move(pub));
}

Result<PkeyPtr> X25519Peer(ByteSpan peer) {
  PkeyPtr pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer.data(), peer.size()));
  if (!pkey) return OpenSslError(Errc::kInternal, "EVP_PKEY_new_raw_public_key (X25519)");
  return pkey;
}

// ---------------------------------------------------------------- private keys

using FillFn = std::function<Status(MutableByteSpan)>;

// OpenSSL's private DRBG: the source for keys of real exchanges.
Status FillFromOpenSsl(MutableByteSpan out) {
  if (RAND_priv_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    return OpenSslError(Errc::kInternal, "RAND_priv_bytes");
  }
  return Ok{};
}

// Draws a private key in the FromPrivate() format of `group`.
Result<SecretBytes> DrawPrivateKey(DhGroup group, const FillFn& fill) {
  SecretBytes key(DhPrivateKeySize(group));
  MutableByteSpan k = key.RevealMutable();
  switch (DhGroupKind(group)) {
    case DhKind::kX25519:
      // Any 32 bytes: X25519 clamps the scalar (RFC 7748 section 5).
      MIPSEC_TRY(fill(k));
      return key;
    case DhKind::kModp:
      // A short exponent (RFC 3526 section 8 sizes); x > 1 and, being far
      // shorter than p, x < p - 1.
      for (int attempt = 0; attempt < 64; ++attempt) {
        MIPSEC_TRY(fill(k));
        if (std::any_of(k.begin(), k.end() - 1, [](std::uint8_t b) { return b != 0; }) ||
            k.back() > 1) {
          return key;
        }
      }
      break;
    case DhKind::kEcp: {
      // Rejection sampling for 1 <= d < n: mask to the bit length of n, so a
      // draw is accepted with probability > 1/2 (in practice ~1).
      MIPSEC_ASSIGN_OR_RETURN(EcGroupPtr curve, LoadCurve(group));
      const BIGNUM* n = EC_GROUP_get0_order(curve.get());
      const int excess_bits = static_cast<int>(k.size() * 8) - BN_num_bits(n);
      for (int attempt = 0; attempt < 64; ++attempt) {
        MIPSEC_TRY(fill(k));
        k[0] &= static_cast<std::uint8_t>(0xff >> excess_bits);
        MIPSEC_ASSIGN_OR_RETURN(BignumPtr d, ToBignum(k, true));
        if (!BN_is_zero(d.get()) && BN_cmp(d.get(), n) < 0) return key;
      }
      break;
    }
  }
  return Error(Errc::kInternal, Name(group) + ": random source gave no usable private key");
}

}  // namespace

Result<std::unique_ptr<KeyExchange>> KeyExchange::Generate(DhGroup group) {
  MIPSEC_ASSIGN_OR_RETURN(SecretBytes priv, DrawPrivateKey(group, FillFromOpenSsl));
  return FromPrivate(group, priv);
}

Result<std::unique_ptr<KeyExchange>> KeyExchange::FromRandom(DhGroup group, RandomSource& rng) {
  const FillFn fill = [&rng](MutableByteSpan out) -> Status {
    rng.Fill(out);
    return Ok{};
  };
  MIPSEC_ASSIGN_OR_RETURN(SecretBytes priv, DrawPrivateKey(group, fill));
  return FromPrivate(group, priv);
}

Result<std::unique_ptr<KeyExchange>> KeyExchange::FromPrivate(DhGroup group,
                                                              const SecretBytes& private_key) {
  Result<std::pair<PkeyPtr, Bytes>> made = Error(Errc::kInternal, "unreachable");
  switch (DhGroupKind(group)) {
    case DhKind::kModp: made = ModpFromPrivate(group, private_key.Reveal()); break;
    case DhKind::kEcp: made = EcpFromPrivate(group, private_key.Reveal()); break;
    case DhKind::kX25519: made = X25519FromPrivate(private_key.Reveal()); break;
  }
  if (!made.ok()) return std::move(made).error();
  auto [pkey, pub] = std::move(made).value();
  return std::unique_ptr<KeyExchange>(new KeyExchange(group, pkey.release(), std::move(pub)));
}

KeyExchange::~KeyExchange() { EVP_PKEY_free(pkey_); }

Result<SecretBytes> KeyExchange::ComputeShared(ByteSpan peer_public) const {
  const std::size_t want = DhPublicValueSize(group_);
  if (peer_public.size() != want) {
    return Error(Errc::kMalformed, Name(group_) + ": peer public value is " +
                                       std::to_string(peer_public.size()) + " bytes, expected " +
                                       std::to_string(want));
  }
  Result<PkeyPtr> peer = Error(Errc::kInternal, "unreachable");
  switch (DhGroupKind(group_)) {
    case DhKind::kModp: peer = ModpPeer(group_, peer_public); break;
    case DhKind::kEcp: peer = EcpPeer(group_, peer_public); break;
    case DhKind::kX25519: peer = X25519Peer(peer_public); break;
  }
  if (!peer.ok()) return std::move(peer).error();

  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey_, nullptr));
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1) {
    return OpenSslError(Errc::kInternal, "EVP_PKEY_derive_init");
  }
  if (DhGroupKind(group_) == DhKind::kModp) {
    // RFC 7296 section 2.14: g^ir is padded with zeros to the length of p.
    if (EVP_PKEY_CTX_set_dh_pad(ctx.get(), 1) != 1) {
      return OpenSslError(Errc::kInternal, "EVP_PKEY_CTX_set_dh_pad");
    }
  }
  // Our own checks above are the RFC 6989 ones; OpenSSL's peer validation
  // would add the costly r^q test for MODP, which section 2.2 does not require
  // when private values are not reused.
  if (EVP_PKEY_derive_set_peer_ex(ctx.get(), peer->get(), /*validate_peer=*/0) != 1) {
    return OpenSslError(Errc::kMalformed, Name(group_) + ": peer public value refused");
  }
  const std::size_t secret_size = DhSharedSecretSize(group_);
  SecretBytes secret(secret_size);
  std::size_t len = secret_size;
  if (EVP_PKEY_derive(ctx.get(), secret.RevealMutable().data(), &len) != 1) {
    if (DhGroupKind(group_) == DhKind::kX25519) {
      // OpenSSL's X25519 fails exactly when the result is all zeros.
      return OpenSslError(Errc::kMalformed,
                          "curve25519: peer public value gives an all-zero shared secret "
                          "(RFC 7748 section 6.1)");
    }
    return OpenSslError(Errc::kInternal, Name(group_) + ": EVP_PKEY_derive");
  }
  if (len != secret_size) {
    return Error(Errc::kInternal, Name(group_) + ": shared secret is " + std::to_string(len) +
                                      " bytes, expected " + std::to_string(secret_size));
  }
  if (DhGroupKind(group_) == DhKind::kX25519) {
    // RFC 7748 section 6.1, checked here too in case a provider does not.
    const ByteSpan s = secret.Reveal();
    std::uint8_t any = 0;
    for (std::uint8_t b : s) any |= b;
    if (any == 0) {
      return Error(Errc::kMalformed,
                   "curve25519: peer public value gives an all-zero shared secret "
                   "(RFC 7748 section 6.1)");
    }
  }
  return secret;
}

}  // namespace mipsec::crypto
