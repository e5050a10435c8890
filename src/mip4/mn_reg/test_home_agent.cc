#include "mip4/mn_reg/test_home_agent.h"

#include <utility>

#include "mip4/codec/auth_extension.h"
#include "mip4/codec/builder.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/nai_extension.h"
#include "mip4/codec/registration_reply.h"
#include "mip4/codec/udp_tunnel_request.h"

namespace mipsec::mip4::testing {

SecurityAssociation MakeSa(ReplayMethod method, SecretBytes key, std::uint32_t spi) {
  SecurityAssociationParams p;
  p.spi = spi;
  p.key = std::move(key);
  p.replay = method;
  return std::move(SecurityAssociation::Create(std::move(p))).value();
}

TestHomeAgent::TestHomeAgent(ReplayMethod method, TestHaOptions options)
    : sa_(MakeSa(method)), options_(std::move(options)) {}

NtpTime TestHomeAgent::Clock(Timestamp now) const {
  return WallClockMapping{Timestamp::Zero(), kUnixBase}.At(now).Plus(options_.clock_offset);
}

std::optional<Bytes> TestHomeAgent::Handle(Timestamp now, ByteSpan request) {
  ++requests_;
  Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(request);
  if (!p.ok()) return std::nullopt;
  last_ = p->request;
  last_udp_ = false;
  last_nai_.clear();
  for (const Extension& e : p->extensions) {
    if (e.type == kExtUdpTunnelRequest && e.recognized) {
      last_udp_ = true;
      last_force_ = DecodeUdpTunnelRequest(e)->force;
    }
    if (e.type == kExtNai) last_nai_ = *DecodeNai(e);
  }
  // RFC 5944 3.8.2.1 (a): authenticate, else silent discard.
  Result<AuthCoverage> cov = AuthenticationCoverageOfType(p->extensions, kExtMnHaAuth);
  if (!cov.ok() || cov->spi != sa_.spi() || !sa_.Verify(cov->covered, cov->authenticator).ok()) {
    return std::nullopt;
  }
  const RegistrationRequest& q = p->request;
  ReplayCheck check = replay_.Check(sa_, q.identification, Clock(now), rng_);
  replay_.Commit(check);

  RegistrationReply r;
  r.home_address = q.home_address.IsAny() ? options_.assign_home : q.home_address;
  r.home_agent = options_.address;
  r.identification = check.reply_identification;
  std::optional<std::uint8_t> code = options_.deny_code;
  if (!check.fresh()) code = kCodeIdentificationMismatch;
  r.code = code.value_or(0);
  r.lifetime = code ? 0 : std::min(q.lifetime, options_.max_lifetime);

  MessageBuilder b = MessageBuilder::Reply(r);
  if (last_udp_ && options_.udp_assent && !code) {
    UdpTunnelReply u;
    u.reply_code = options_.udp_reply_code;
    u.forced = last_force_;
    u.keepalive_interval = options_.keepalive;
    b.AppendUdpTunnelReply(u);
  }
  if (options_.tnc && !options_.tnc_after_auth) b.AppendTnc();
  if (!options_.omit_auth) {
    SecurityAssociation signer = options_.reply_key
                                     ? MakeSa(sa_.replay_method(), *options_.reply_key)
                                     : MakeSa(sa_.replay_method());
    if (!b.AppendAuth(kExtMnHaAuth, sa_.spi(), 16,
                      [&](ByteSpan c) { return signer.Compute(c); })
             .ok()) {
      return std::nullopt;
    }
  }
  if (options_.tnc && options_.tnc_after_auth) b.AppendTnc();
  Bytes out = std::move(b).Take();
  if (options_.corrupt_auth && !options_.omit_auth) {
    // The authenticator is the last 16 bytes unless TNC follows it.
    const std::size_t at = out.size() - (options_.tnc && options_.tnc_after_auth ? 4 : 0) - 1;
    out[at] ^= 0x01;
  }
  return out;
}

std::optional<Bytes> TestHomeAgent::HandleTransmit(Timestamp now, const UdpTransmit& t) {
  return Handle(now, t.payload);
}

UdpReceived ReplyFor(const UdpTransmit& t, const Bytes& payload) {
  UdpReceived rx;
  rx.local = t.local;
  rx.remote = t.remote;
  rx.ifindex = t.ifindex.value_or(0);
  rx.payload = payload;
  return rx;
}

}  // namespace mipsec::mip4::testing
