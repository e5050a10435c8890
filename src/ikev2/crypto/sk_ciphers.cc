#include "ikev2/crypto/sk_ciphers.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "crypto/aead_gcm.h"
#include "crypto/cbc.h"
#include "crypto/hmac.h"

namespace mipsec::ikev2 {

namespace {

std::string Sz(std::size_t n) { return std::to_string(n); }

// Checks the SkCipher layout (codec/sk_cipher.h) and returns the length of
// the encrypted part.
Result<std::size_t> EncryptedLength(std::size_t total, std::size_t body, std::size_t iv,
                                    std::size_t icv, std::size_t block, Errc short_code) {
  if (body > total || total - body < iv + icv + 1) {
    return Error(short_code, "SK payload: " + Sz(total) + " bytes cannot hold IV " + Sz(iv) +
                                 ", ICV " + Sz(icv) + " and a Pad Length octet after offset " +
                                 Sz(body));
  }
  const std::size_t n = total - body - iv - icv;
  if (n % block != 0) {
    return Error(short_code == Errc::kTruncated ? Errc::kMalformed : short_code,
                 "SK payload: encrypted length " + Sz(n) + " is not a multiple of " + Sz(block));
  }
  return n;
}

class GcmSkCipher final : public SkCipher {
 public:
  GcmSkCipher(crypto::AesGcm gcm, ByteSpan salt, std::uint64_t first_iv)
      : gcm_(std::move(gcm)), next_iv_(first_iv) {
    std::copy(salt.begin(), salt.end(), nonce_.begin());
  }

  std::size_t IvSize() const override { return kGcmIvSize; }
  std::size_t IcvSize() const override { return gcm_.tag_size(); }
  std::size_t PadBlock() const override { return 1; }

  Status Seal(MutableByteSpan message, std::size_t body) override {
    MIPSEC_ASSIGN_OR_RETURN(std::size_t n, EncryptedLength(message.size(), body, kGcmIvSize,
                                                           IcvSize(), 1, Errc::kInvalidArgument));
    // RFC 5282 3.1: an IV is never used twice under one key.
    std::uint64_t iv = next_iv_++;
    for (std::size_t i = 0; i < kGcmIvSize; ++i) {
      message[body + kGcmIvSize - 1 - i] = static_cast<std::uint8_t>(iv >> (8 * i));
    }
    SetNonceIv(message.subspan(body, kGcmIvSize));
    // RFC 5282 5.1: AAD is everything before the IV.
    return gcm_.SealInPlace(nonce_, message.first(body), message.subspan(body + kGcmIvSize, n),
                            message.last(IcvSize()));
  }

  Result<std::size_t> Open(MutableByteSpan message, std::size_t body) override {
    MIPSEC_ASSIGN_OR_RETURN(std::size_t n, EncryptedLength(message.size(), body, kGcmIvSize,
                                                           IcvSize(), 1, Errc::kTruncated));
    SetNonceIv(message.subspan(body, kGcmIvSize));
    // AesGcm zeroes its buffer on a bad tag; the contract here is to leave
    // the message unchanged, so decrypt a copy.
    MutableByteSpan ct = message.subspan(body + kGcmIvSize, n);
    scratch_.assign(ct.begin(), ct.end());
    Status s = gcm_.OpenInPlace(nonce_, message.first(body), scratch_, message.last(IcvSize()));
    if (!s.ok()) {
      if (s.error().code() == Errc::kAuthFailed) {
        return Error(Errc::kAuthFailed, "SK payload: AES-GCM tag does not verify");
      }
      return std::move(s).error();
    }
    std::copy(scratch_.begin(), scratch_.end(), ct.begin());
    std::fill(scratch_.begin(), scratch_.end(), 0);
    return n;
  }

 private:
  void SetNonceIv(ByteSpan iv) { std::copy(iv.begin(), iv.end(), nonce_.begin() + kGcmSaltSize); }

  crypto::AesGcm gcm_;
  std::array<std::uint8_t, crypto::AesGcm::kNonceSize> nonce_{};
  std::uint64_t next_iv_;
  Bytes scratch_;
};

class CbcHmacSkCipher final : public SkCipher {
 public:
  CbcHmacSkCipher(crypto::AesCbc cbc, crypto::HmacContext mac, std::size_t icv, RandomSource& rng)
      : cbc_(std::move(cbc)), mac_(std::move(mac)), icv_(icv), rng_(rng) {}

  std::size_t IvSize() const override { return kAesBlockSize; }
  std::size_t IcvSize() const override { return icv_; }
  std::size_t PadBlock() const override { return kAesBlockSize; }

  Status Seal(MutableByteSpan message, std::size_t body) override {
    MIPSEC_ASSIGN_OR_RETURN(std::size_t n, EncryptedLength(message.size(), body, kAesBlockSize,
                                                           icv_, kAesBlockSize,
                                                           Errc::kInvalidArgument));
    MutableByteSpan iv = message.subspan(body, kAesBlockSize);
    // RFC 7296 3.14: the IV MUST be unpredictable (random per message).
    rng_.Fill(iv);
    MIPSEC_TRY(cbc_.EncryptInPlace(iv, message.subspan(body + kAesBlockSize, n)));
    // RFC 7296 3.14: the ICV covers the header through the ciphertext.
    MIPSEC_TRY(mac_.Update(message.first(message.size() - icv_)));
    return mac_.FinishInto(message.last(icv_));
  }

  Result<std::size_t> Open(MutableByteSpan message, std::size_t body) override {
    MIPSEC_ASSIGN_OR_RETURN(std::size_t n, EncryptedLength(message.size(), body, kAesBlockSize,
                                                           icv_, kAesBlockSize, Errc::kTruncated));
    MIPSEC_TRY(mac_.Update(message.first(message.size() - icv_)));
    Status v = mac_.Verify(message.last(icv_));
    if (!v.ok()) {
      if (v.error().code() == Errc::kAuthFailed) {
        return Error(Errc::kAuthFailed, "SK payload: ICV does not verify");
      }
      return std::move(v).error();
    }
    MIPSEC_TRY(cbc_.DecryptInPlace(message.subspan(body, kAesBlockSize),
                                   message.subspan(body + kAesBlockSize, n)));
    return n;
  }

 private:
  crypto::AesCbc cbc_;
  crypto::HmacContext mac_;
  std::size_t icv_;
  RandomSource& rng_;
};

}  // namespace

Result<std::unique_ptr<SkCipher>> MakeSkCipher(const Suite& ike, const SecretBytes& sk_e,
                                               const SecretBytes& sk_a, RandomSource& rng) {
  if (sk_e.size() != ike.EncrKeySize()) {
    return Error(Errc::kInvalidArgument, "SK_e is " + Sz(sk_e.size()) + " bytes, " +
                                             ike.ToString() + " needs " + Sz(ike.EncrKeySize()));
  }
  if (ike.is_aead()) {
    SecretBytes key(sk_e.Reveal().first(ike.AesKeySize()));
    MIPSEC_ASSIGN_OR_RETURN(crypto::AesGcm gcm, crypto::AesGcm::Create(key, ike.IcvSize()));
    return std::unique_ptr<SkCipher>(
        new GcmSkCipher(std::move(gcm), sk_e.Reveal().last(kGcmSaltSize), rng.U64()));
  }
  if (sk_a.size() != ike.IntegKeySize()) {
    return Error(Errc::kInvalidArgument, "SK_a is " + Sz(sk_a.size()) + " bytes, " +
                                             ike.ToString() + " needs " + Sz(ike.IntegKeySize()));
  }
  MIPSEC_ASSIGN_OR_RETURN(crypto::AesCbc cbc, crypto::AesCbc::Create(sk_e));
  MIPSEC_ASSIGN_OR_RETURN(crypto::HmacContext mac,
                          crypto::HmacContext::Create(ike.IntegHash(), sk_a));
  return std::unique_ptr<SkCipher>(
      new CbcHmacSkCipher(std::move(cbc), std::move(mac), ike.IcvSize(), rng));
}

Result<SkCipherPair> MakeSkCipherPair(const Suite& ike, const IkeSaKeys& keys,
                                      bool original_initiator, RandomSource& rng) {
  SkCipherPair p;
  const SecretBytes& out_e = original_initiator ? keys.sk_ei : keys.sk_er;
  const SecretBytes& out_a = original_initiator ? keys.sk_ai : keys.sk_ar;
  const SecretBytes& in_e = original_initiator ? keys.sk_er : keys.sk_ei;
  const SecretBytes& in_a = original_initiator ? keys.sk_ar : keys.sk_ai;
  MIPSEC_ASSIGN_OR_RETURN(p.outbound, MakeSkCipher(ike, out_e, out_a, rng));
  MIPSEC_ASSIGN_OR_RETURN(p.inbound, MakeSkCipher(ike, in_e, in_a, rng));
  return p;
}

}  // namespace mipsec::ikev2
