// Registration processing: one test per reply code path and per silent
// discard (RFC 5944 3.8, RFC 3024, RFC 3519, RFC 2794, RFC 3115, RFC 5265).
#include "mip4/ha/home_agent.h"

#include <gtest/gtest.h>

#include "mip4/codec/reply_code.h"
#include "mip4/ha/ha_test_util.h"

namespace mipsec::mip4::ha_test {
namespace {

constexpr int C(ReplyCode c) { return static_cast<int>(c); }

TEST_F(HaTest, ValidateOptionsNamesTheField) {
  HomeAgentOptions o = BaseOptions();
  o.address = A("10.9.0.1");
  Status s = HomeAgent::ValidateOptions(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().detail().find("home_network"), std::string::npos);
  o = BaseOptions();
  o.reverse_tunnel_mandatory = true;
  o.reverse_tunnel_allowed = false;
  EXPECT_FALSE(HomeAgent::ValidateOptions(o).ok());
  o = BaseOptions();
  o.max_simultaneous_bindings = 0;
  EXPECT_FALSE(HomeAgent::ValidateOptions(o).ok());
  EXPECT_TRUE(HomeAgent::ValidateOptions(BaseOptions()).ok());
}

// Code 0: accepted, lifetime cut to the maximum, reply to the source, the
// binding and a BindingAdded event.
TEST_F(HaTest, AcceptsAndGrantsAtMostTheMaximumLifetime) {
  Req r = MakeReq(T(10), kMn, kCoa, 5000);
  r.q.reverse_tunnel = true;
  EXPECT_EQ(Send(T(10), r).action, HaResult::Action::kDone);
  std::optional<Reply> rep = OneReply();
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->code(), C(ReplyCode::kAccepted));
  EXPECT_TRUE(rep->mnha_valid);
  EXPECT_EQ(rep->mnha_spi, kSpi);
  EXPECT_EQ(rep->fixed.lifetime, 600);  // max_lifetime
  EXPECT_EQ(rep->fixed.home_address, kMn);
  EXPECT_EQ(rep->fixed.home_agent, kHa);
  EXPECT_EQ(rep->fixed.identification, r.q.identification);
  EXPECT_FALSE(rep->has_tnc);
  EXPECT_FALSE(rep->has_faha);
  EXPECT_FALSE(rep->tunnel);
  // RFC 5944 3.8.3.1: to the source, from the destination, ports swapped.
  EXPECT_EQ(rep->t.remote, (Ipv4Endpoint{kCoa, kMnPort}));
  EXPECT_EQ(rep->t.local, (Ipv4Endpoint{kHa, kMipPort}));
  EXPECT_FALSE(rep->t.ifindex);

  std::vector<HaEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, HaEvent::Kind::kBindingAdded);
  EXPECT_EQ(ev[0].home_address, kMn);
  ASSERT_EQ(ev[0].tunnels.size(), 1u);
  EXPECT_EQ(ev[0].tunnels[0].care_of_address, kCoa);
  EXPECT_EQ(ev[0].tunnels[0].endpoint, (Ipv4Endpoint{kCoa, 0}));
  EXPECT_EQ(ev[0].tunnels[0].encapsulation, TunnelEncapsulation::kIpInIp);
  EXPECT_TRUE(ev[0].tunnels[0].reverse_tunnel);
  EXPECT_EQ(ev[0].tunnels[0].expires, T(610));
  EXPECT_EQ(ha_->binding_count(), 1u);
  EXPECT_EQ(ha_->NextTimeout(), T(610));
  EXPECT_EQ(ha_->counters().replies_by_code[0], 1u);
}

TEST_F(HaTest, RequestedLifetimeBelowMaximumIsKept) {
  EXPECT_EQ(Code(T(1), MakeReq(T(1), kMn, kCoa, 30)), C(ReplyCode::kAccepted));
  EXPECT_EQ(ha_->Bindings(kMn).at(0).granted_lifetime, 30);
  EXPECT_EQ(ha_->NextTimeout(), T(31));
}

TEST_F(HaTest, InfiniteLifetimeOnlyWhenAllowed) {
  HomeAgentOptions o = BaseOptions();
  o.max_lifetime = kInfiniteLifetime;
  Make(o);
  Send(T(1), MakeReq(T(1), kMn, kCoa, kInfiniteLifetime));
  std::optional<Reply> rep = OneReply();
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->fixed.lifetime, kInfiniteLifetime);
  EXPECT_TRUE(ha_->NextTimeout().IsInfinite());
  ha_->OnTimeout(T(1'000'000));
  EXPECT_EQ(ha_->binding_count(), 1u);
}

// Code 1: 'S' asked of an HA without simultaneous bindings; the new binding
// replaces the old one.
TEST_F(HaTest, SimultaneousBindingsUnsupportedGivesCode1AndReplaces) {
  EXPECT_EQ(Code(T(1), MakeReq(T(1))), C(ReplyCode::kAccepted));
  Events();
  Req r = MakeReq(T(2), kMn, kCoa2);
  r.q.simultaneous_bindings = true;
  EXPECT_EQ(Code(T(2), r), C(ReplyCode::kAcceptedNoSimultaneousBindings));
  std::vector<HaTunnel> b = ha_->Bindings(kMn);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].care_of_address, kCoa2);
  std::vector<HaEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, HaEvent::Kind::kBindingUpdated);
}

TEST_F(HaTest, RefreshExtendsLifetimeWithoutEvent) {
  EXPECT_EQ(Code(T(1), MakeReq(T(1))), C(ReplyCode::kAccepted));
  Events();
  EXPECT_EQ(Code(T(200), MakeReq(T(200))), C(ReplyCode::kAccepted));
  EXPECT_TRUE(Events().empty());
  EXPECT_EQ(ha_->NextTimeout(), T(500));
  ha_->OnTimeout(T(301));
  EXPECT_EQ(ha_->binding_count(), 1u);
}

// 'S' with support: several care-of addresses, 135 beyond the limit,
// deregistering one keeps the others.
TEST_F(HaTest, SimultaneousBindingsAndCode135) {
  HomeAgentOptions o = BaseOptions();
  o.max_simultaneous_bindings = 2;
  Make(o);
  Req r1 = MakeReq(T(1), kMn, kCoa);
  r1.q.simultaneous_bindings = true;
  EXPECT_EQ(Code(T(1), r1), C(ReplyCode::kAccepted));
  Req r2 = MakeReq(T(2), kMn, kCoa2);
  r2.q.simultaneous_bindings = true;
  EXPECT_EQ(Code(T(2), r2), C(ReplyCode::kAccepted));
  EXPECT_EQ(ha_->Bindings(kMn).size(), 2u);
  Req r3 = MakeReq(T(3), kMn, kCoa3);
  r3.q.simultaneous_bindings = true;
  EXPECT_EQ(Code(T(3), r3), C(ReplyCode::kHaTooManyBindings));
  EXPECT_EQ(ha_->Bindings(kMn).size(), 2u);
  std::vector<HaEvent> ev = Events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].kind, HaEvent::Kind::kBindingUpdated);
  EXPECT_EQ(ev[1].tunnels.size(), 2u);

  // Lifetime 0 for one care-of address removes only that one.
  Req d = MakeReq(T(4), kMn, kCoa, 0);
  EXPECT_EQ(Code(T(4), d), C(ReplyCode::kAccepted));
  std::vector<HaTunnel> left = ha_->Bindings(kMn);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].care_of_address, kCoa2);
  ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, HaEvent::Kind::kBindingUpdated);
  EXPECT_EQ(ev[0].cause, HaEvent::Cause::kDeregistration);

  // Without 'S' a registration replaces all bindings.
  EXPECT_EQ(Code(T(5), MakeReq(T(5), kMn, kCoa3)), C(ReplyCode::kAccepted));
  ASSERT_EQ(ha_->Bindings(kMn).size(), 1u);
  EXPECT_EQ(ha_->Bindings(kMn)[0].care_of_address, kCoa3);
}

// Deregistration of all bindings: Lifetime 0 with the home address as
// care-of address, from home: reply on the home link, BindingRemoved.
TEST_F(HaTest, DeregistrationFromHomeRemovesAllBindings) {
  HomeAgentOptions o = BaseOptions();
  o.max_simultaneous_bindings = 3;
  Make(o);
  for (Ipv4Address coa : {kCoa, kCoa2}) {
    Req r = MakeReq(T(1), kMn, coa);
    r.q.simultaneous_bindings = true;
    EXPECT_EQ(Code(T(1), r), C(ReplyCode::kAccepted));
  }
  Events();
  Req d = MakeReq(T(2), kMn, kMn, 0);
  Send(T(2), d, Ipv4Endpoint{kMn, kMnPort});
  std::optional<Reply> rep = OneReply();
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->code(), 0);
  EXPECT_EQ(rep->fixed.lifetime, 0);
  EXPECT_EQ(rep->t.remote, (Ipv4Endpoint{kMn, kMnPort}));
  EXPECT_EQ(rep->t.ifindex, std::optional<int>(kIfindex));  // 3.8.3.1: on the home link
  EXPECT_EQ(ha_->binding_count(), 0u);
  std::vector<HaEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, HaEvent::Kind::kBindingRemoved);
  EXPECT_EQ(ev[0].cause, HaEvent::Cause::kDeregistration);
  EXPECT_TRUE(ev[0].tunnels.empty());
  // RFC 5944 4.6: the runtime announces the MN's own link-layer address.
  EXPECT_TRUE(ev[0].returned_home);
  EXPECT_TRUE(ha_->NextTimeout().IsInfinite());
}

// RFC 5944 4.6 / 3.8.3.1: only a deregistration sent from the home address
// itself means the MN is back on its home link. All care-of addresses
// deregistered from a care-of address (the MN still away), one care-of
// address deregistered, or an expiry: no gratuitous ARP for the MN.
TEST_F(HaTest, ReturnedHomeOnlyForDeregistrationFromTheHomeAddress) {
  EXPECT_EQ(Code(T(1), MakeReq(T(1), kMn, kCoa)), C(ReplyCode::kAccepted));
  Events();
  Send(T(2), MakeReq(T(2), kMn, kMn, 0), Ipv4Endpoint{kCoa, kMnPort});
  std::optional<Reply> rep = OneReply();
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->code(), 0);
  std::vector<HaEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, HaEvent::Kind::kBindingRemoved);
  EXPECT_FALSE(ev[0].returned_home);

  EXPECT_EQ(Code(T(3), MakeReq(T(3), kMn, kCoa)), C(ReplyCode::kAccepted));
  Events();
  EXPECT_EQ(Code(T(4), MakeReq(T(4), kMn, kCoa, 0)), C(ReplyCode::kAccepted));
  ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, HaEvent::Kind::kBindingRemoved);
  EXPECT_FALSE(ev[0].returned_home);

  EXPECT_EQ(Code(T(5), MakeReq(T(5), kMn, kCoa, 60)), C(ReplyCode::kAccepted));
  Events();
  ha_->OnTimeout(T(65));
  ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].cause, HaEvent::Cause::kExpiry);
  EXPECT_FALSE(ev[0].returned_home);
}

TEST_F(HaTest, CareOfEqualToHomeAddressDeregistersEvenWithLifetime) {
  EXPECT_EQ(Code(T(1), MakeReq(T(1))), C(ReplyCode::kAccepted));
  Events();
  Send(T(2), MakeReq(T(2), kMn, kMn, 300), Ipv4Endpoint{kMn, kMnPort});
  std::optional<Reply> rep = OneReply();
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->code(), 0);
  EXPECT_EQ(rep->fixed.lifetime, 0);
  EXPECT_EQ(ha_->binding_count(), 0u);
  EXPECT_EQ(Events().size(), 1u);
}

TEST_F(HaTest, DeregisteringWhenNotBoundIsAcceptedWithoutEvent) {
  EXPECT_EQ(Code(T(1), MakeReq(T(1), kMn, kCoa, 0)), 0);
  EXPECT_TRUE(Events().empty());
}

// Expiry: silent (no reply, 3.8), BindingRemoved at exactly the deadline.
TEST_F(HaTest, BindingExpiresAtItsLifetime) {
  EXPECT_EQ(Code(T(100), MakeReq(T(100), kMn, kCoa, 60)), 0);
  EXPECT_EQ(Code(T(110), MakeReq(T(110), kMn2, kCoa2, 120)), 0);
  Events();
  EXPECT_EQ(ha_->NextTimeout(), T(160));
  ha_->OnTimeout(T(160) - Duration::Nanos(1));
  EXPECT_EQ(ha_->binding_count(), 2u);
  ha_->OnTimeout(T(160));
  EXPECT_EQ(ha_->binding_count(), 1u);
  EXPECT_TRUE(Drain().empty());
  std::vector<HaEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, HaEvent::Kind::kBindingRemoved);
  EXPECT_EQ(ev[0].cause, HaEvent::Cause::kExpiry);
  EXPECT_EQ(ev[0].home_address, kMn);
  EXPECT_EQ(ha_->NextTimeout(), T(230));
  ha_->OnTimeout(T(5000));
  EXPECT_EQ(ha_->binding_count(), 0u);
  EXPECT_EQ(ha_->counters().bindings_expired, 2u);
  EXPECT_TRUE(ha_->NextTimeout().IsInfinite());
}

// 129: a home address this HA does not serve for the MN.
TEST_F(HaTest, Code129ForHomeAddressNotServed) {
  // An NAI-known MN asking for another address than its own.
  Req r = MakeReq(T(1), kMn2);
  r.nai = "nai@example.org";
  r.q.home_address = A("10.1.0.99");
  EXPECT_EQ(Code(T(1), r), C(ReplyCode::kHaAdministrativelyProhibited));
  // An MN whose configured home address is outside the home network.
  AddMn(A("10.7.0.1"), "", {{kSpi, MnKey()}});
  EXPECT_EQ(Code(T(2), MakeReq(T(2), A("10.7.0.1"))),
            C(ReplyCode::kHaAdministrativelyProhibited));
  // An MN known only by NAI, with no address to assign (no pool).
  AddMn(std::nullopt, "pool@example.org", {{kSpi, MnKey()}});
  Req z = MakeReq(T(3), Ipv4Address::Any());
  z.nai = "pool@example.org";
  EXPECT_EQ(Code(T(3), z), C(ReplyCode::kHaAdministrativelyProhibited));
  EXPECT_EQ(ha_->binding_count(), 0u);
}

// RFC 2794: Home Address 0 with an NAI gets the configured address, and the
// reply echoes the NAI.
TEST_F(HaTest, NaiWithZeroHomeAddressIsAssignedItsAddress) {
  Req r = MakeReq(T(1), Ipv4Address::Any());
  r.nai = "nai@example.org";
  Send(T(1), r);
  std::optional<Reply> rep = OneReply();
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->code(), 0);
  EXPECT_EQ(rep->fixed.home_address, kNaiMn);
  EXPECT_EQ(rep->nai, std::optional<std::string>("nai@example.org"));
  EXPECT_EQ(ha_->Bindings(kNaiMn).size(), 1u);
}

// RFC 5944 3.8.1 / RFC 2794: NAI-only mobile nodes get addresses from the
// pool, the same one each time; configured addresses are never handed out;
// an exhausted pool gives 130.
TEST_F(HaTest, NaiOnlyMobileNodesGetPoolAddresses) {
  HomeAgentOptions o = BaseOptions();
  o.home_address_pool = *Ipv4Prefix::Parse("10.1.0.48/29");  // .49-.54 usable
  Make(o);
  for (const char* nai : {"a@x", "b@x", "c@x", "d@x"}) AddMn(std::nullopt, nai, {{kSpi, MnKey()}});
  auto reg = [&](Timestamp now, const char* nai, Ipv4Address asked) {
    Req r = MakeReq(now, asked);
    r.nai = nai;
    (void)Send(now, r);
    return OneReply();
  };
  std::optional<Reply> a = reg(T(1), "a@x", Ipv4Address::Any());
  ASSERT_TRUE(a);
  EXPECT_EQ(a->code(), 0);
  EXPECT_EQ(a->fixed.home_address, A("10.1.0.49"));
  EXPECT_EQ(a->nai, std::optional<std::string>("a@x"));
  EXPECT_EQ(ha_->Bindings(A("10.1.0.49")).size(), 1u);
  // .50 and .51 are configured MNs (kMn, kMn2): skipped.
  std::optional<Reply> b = reg(T(2), "b@x", Ipv4Address::Any());
  ASSERT_TRUE(b);
  EXPECT_EQ(b->fixed.home_address, A("10.1.0.52"));
  // Sticky: a re-registers with 0 or with its address, gets the same.
  EXPECT_EQ(reg(T(3), "a@x", Ipv4Address::Any())->fixed.home_address, A("10.1.0.49"));
  EXPECT_EQ(reg(T(4), "a@x", A("10.1.0.49"))->code(), 0);
  // Asking for someone else's address is refused.
  EXPECT_EQ(reg(T(5), "a@x", A("10.1.0.52"))->code(), C(ReplyCode::kHaAdministrativelyProhibited));
  EXPECT_EQ(reg(T(6), "c@x", Ipv4Address::Any())->fixed.home_address, A("10.1.0.53"));
  EXPECT_EQ(reg(T(7), "d@x", Ipv4Address::Any())->fixed.home_address, A("10.1.0.54"));
  AddMn(std::nullopt, "e@x", {{kSpi, MnKey()}});
  EXPECT_EQ(reg(T(8), "e@x", Ipv4Address::Any())->code(), C(ReplyCode::kHaInsufficientResources));
  EXPECT_EQ(ha_->AssignedHomeAddress("c@x"), std::optional<Ipv4Address>(A("10.1.0.53")));
  EXPECT_FALSE(ha_->AssignedHomeAddress("e@x"));
}

// 130: the binding cache is full.
TEST_F(HaTest, Code130WhenOutOfBindings) {
  HomeAgentOptions o = BaseOptions();
  o.max_bindings = 1;
  Make(o);
  EXPECT_EQ(Code(T(1), MakeReq(T(1), kMn)), 0);
  EXPECT_EQ(Code(T(2), MakeReq(T(2), kMn2)), C(ReplyCode::kHaInsufficientResources));
  // Re-registering the existing MN elsewhere still works.
  EXPECT_EQ(Code(T(3), MakeReq(T(3), kMn, kCoa2)), 0);
}

// 131: forged MN-HA authenticator. No binding and no replay state change.
TEST_F(HaTest, R19_ForgedAuthenticatorGets131AndChangesNothing) {
  EXPECT_EQ(Code(T(1), MakeReq(T(1))), 0);
  Events();
  MobileNodeSecurity* mn = db_.FindMobileNode(kMn);
  ASSERT_NE(mn, nullptr);
  const std::optional<NtpTime> floor = mn->replay.last_accepted();
  Req f = MakeReq(T(2), kMn, kCoa2);
  f.forge = true;
  EXPECT_EQ(Code(T(2), f), C(ReplyCode::kHaMnFailedAuthentication));
  EXPECT_EQ(mn->replay.last_accepted(), floor);
  ASSERT_EQ(ha_->Bindings(kMn).size(), 1u);
  EXPECT_EQ(ha_->Bindings(kMn)[0].care_of_address, kCoa);
  EXPECT_TRUE(Events().empty());
  EXPECT_EQ(ha_->counters().mn_auth_failures, 1u);
  EXPECT_TRUE(sink_.Contains("security exception"));
  // The same Identification, correctly authenticated, is still fresh.
  Req ok = f;
  ok.forge = false;
  EXPECT_EQ(Code(T(2), ok), 0);
  EXPECT_EQ(ha_->Bindings(kMn)[0].care_of_address, kCoa2);
}

TEST_F(HaTest, WrongKeyOrUnknownSpiGets131UnderAnSaTheMnHas) {
  Req r = MakeReq(T(1));
  r.key = MnKey2();
  (void)Send(T(1), r);
  std::optional<Reply> rep = OneReply(MnKey());
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->code(), C(ReplyCode::kHaMnFailedAuthentication));
  EXPECT_TRUE(rep->mnha_valid);
  // Unknown SPI: answered under the MN's first SA.
  Req u = MakeReq(T(2));
  u.spi = 4242;
  (void)Send(T(2), u);
  rep = OneReply(MnKey());
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->code(), C(ReplyCode::kHaMnFailedAuthentication));
  EXPECT_EQ(rep->mnha_spi, kSpi);
  EXPECT_TRUE(rep->mnha_valid);
  EXPECT_EQ(ha_->binding_count(), 0u);
}

TEST_F(HaTest, ForgedAuthenticatorSilentWhenConfigured) {
  HomeAgentOptions o = BaseOptions();
  o.reply_on_mn_auth_failure = false;
  Make(o);
  Req f = MakeReq(T(1));
  f.forge = true;
  ExpectSilent(Send(T(1), f), HaDrop::kMnAuthFailed);
  EXPECT_EQ(ha_->binding_count(), 0u);
}

// 3.8.2.1 (a) with an FA we share an SA with: a valid FA-HA makes 131 a
// MUST; without a valid FA-HA the request is discarded.
TEST_F(HaTest, ForgedAuthenticatorThroughFaWithSa) {
  AddFa();
  Req f = MakeReq(T(1), kMn, kFa);
  f.q.decapsulation_by_mn = false;
  f.forge = true;
  f.faha = 1;
  (void)Send(T(1), f, Ipv4Endpoint{kFa, kMipPort});
  std::optional<Reply> rep = OneReply();
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->code(), C(ReplyCode::kHaMnFailedAuthentication));
  EXPECT_TRUE(rep->has_faha);
  EXPECT_TRUE(rep->faha_valid);
  f.fa_key = MnKey2();  // FA-HA wrong too
  f.q.identification += 7;
  ExpectSilent(Send(T(2), f, Ipv4Endpoint{kFa, kMipPort}), HaDrop::kMnAuthFailed);
}

// 132: FA-HA missing, repeated or invalid from an FA with an SA; or an FA
// without an SA when FA-HA authentication is required.
TEST_F(HaTest, Code132ForFaHaFailures) {
  AddFa();
  auto via_fa = [&](Timestamp now, int faha, Bytes fa_key) {
    Req r = MakeReq(now, kMn, kFa);
    r.q.decapsulation_by_mn = false;
    r.faha = faha;
    r.fa_key = std::move(fa_key);
    return r;
  };
  EXPECT_EQ(Code(T(1), via_fa(T(1), 0, FaKey()), Ipv4Endpoint{kFa, kMipPort}),
            C(ReplyCode::kHaFaFailedAuthentication));
  EXPECT_EQ(Code(T(2), via_fa(T(2), 1, MnKey2()), Ipv4Endpoint{kFa, kMipPort}),
            C(ReplyCode::kHaFaFailedAuthentication));
  EXPECT_EQ(Code(T(3), via_fa(T(3), 2, FaKey()), Ipv4Endpoint{kFa, kMipPort}),
            C(ReplyCode::kHaFaFailedAuthentication));
  EXPECT_EQ(ha_->counters().fa_auth_failures, 3u);
  EXPECT_EQ(ha_->binding_count(), 0u);
  // And a good one is accepted, the reply carrying a valid FA-HA.
  (void)Send(T(4), via_fa(T(4), 1, FaKey()), Ipv4Endpoint{kFa, kMipPort});
  std::optional<Reply> rep = OneReply();
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->code(), 0);
  EXPECT_TRUE(rep->faha_valid);
  EXPECT_EQ(rep->t.remote, (Ipv4Endpoint{kFa, kMipPort}));  // via the FA

  HomeAgentOptions o = BaseOptions();
  o.fa_ha_auth_required = true;
  Make(o);
  Req r = MakeReq(T(5), kMn, kCoa2);
  r.q.decapsulation_by_mn = false;
  EXPECT_EQ(Code(T(5), r, Ipv4Endpoint{kCoa2, kMipPort}),
            C(ReplyCode::kHaFaFailedAuthentication));
  // A co-located registration needs no FA.
  EXPECT_EQ(Code(T(6), MakeReq(T(6), kMn, kCoa2)), 0);
}

// A deregistration through an FA with an SA needs no FA-HA (3.5.4), and
// its reply still carries FA-HA under the FA's reply SA (3.7.3.1).
TEST_F(HaTest, DeregistrationThroughFaNeedsNoFaHa) {
  AddFa();
  Req r = MakeReq(T(1), kMn, kFa, 0);
  r.q.decapsulation_by_mn = false;
  (void)Send(T(1), r, Ipv4Endpoint{kFa, kMipPort});
  std::optional<Reply> rep = OneReply();
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->code(), 0);
  EXPECT_TRUE(rep->faha_valid);
}

// (d): an FA-HA extension from a source we share no SA with.
TEST_F(HaTest, FaHaWithoutSaIsDiscarded) {
  Req r = MakeReq(T(1), kMn, kFa);
  r.q.decapsulation_by_mn = false;
  r.faha = 1;
  ExpectSilent(Send(T(1), r, Ipv4Endpoint{kFa, kMipPort}), HaDrop::kFaHaWithoutSa);
  EXPECT_EQ(ha_->binding_count(), 0u);
  EXPECT_FALSE(db_.FindMobileNode(kMn)->replay.last_accepted());
}

// 133: a replayed request (same Identification) and a clock too far off.
// The reply carries the HA's time in the high 32 bits and the request's low
// 32 bits; the binding does not move.
TEST_F(HaTest, R19_ReplayGets133WithResyncIdentification) {
  Req r = MakeReq(T(1));
  EXPECT_EQ(Code(T(1), r), 0);
  Events();
  (void)Send(T(3), r);  // the exact same request again
  std::optional<Reply> rep = OneReply();
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->code(), C(ReplyCode::kHaIdentificationMismatch));
  EXPECT_TRUE(rep->mnha_valid);
  EXPECT_EQ(IdentificationLow(rep->fixed.identification), IdentificationLow(r.q.identification));
  const NtpTime ha_now = NtpTime::FromUnixNanos(kUnixNanos + T(3).nanos());
  EXPECT_EQ(IdentificationHigh(rep->fixed.identification), ha_now.seconds());
  EXPECT_EQ(ha_->counters().replay_rejections, 1u);
  EXPECT_TRUE(Events().empty());

  Req skewed = MakeReq(T(4), kMn, kCoa2);
  skewed.q.identification = TimestampId(T(4), Duration::Seconds(60));
  EXPECT_EQ(Code(T(4), skewed), C(ReplyCode::kHaIdentificationMismatch));
  ASSERT_EQ(ha_->Bindings(kMn).size(), 1u);
  EXPECT_EQ(ha_->Bindings(kMn)[0].care_of_address, kCoa);
}

TEST_F(HaTest, NonceModeResynchronises) {
  AddMn(A("10.1.0.70"), "", {{kSpi, MnKey()}}, ReplayMethod::kNonce);
  Req r = MakeReq(T(1), A("10.1.0.70"));
  r.q.identification = MakeIdentification(0, 0x1234);
  (void)Send(T(1), r);
  std::optional<Reply> rep = OneReply();
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->code(), C(ReplyCode::kHaIdentificationMismatch));
  const std::uint32_t nonce = IdentificationHigh(rep->fixed.identification);
  EXPECT_NE(nonce, 0u);
  Req r2 = MakeReq(T(2), A("10.1.0.70"));
  r2.q.identification = MakeIdentification(nonce, 0x5678);
  (void)Send(T(2), r2);
  rep = OneReply();
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->code(), 0);
  EXPECT_EQ(IdentificationLow(rep->fixed.identification), 0x5678u);
  EXPECT_NE(IdentificationHigh(rep->fixed.identification), nonce);
}

// 134: extension rules (rules.h) and RFC 3519 4.6.1.
TEST_F(HaTest, Code134ForPoorlyFormedRequests) {
  Req no_d = MakeReq(T(1));
  no_d.q.decapsulation_by_mn = false;
  no_d.mn_tunnel = UdpTunnelRequest{};
  EXPECT_EQ(Code(T(1), no_d), C(ReplyCode::kHaPoorlyFormedRequest));

  Req eds = MakeReq(T(2));
  eds.delivery_style = true;  // without 'T' (RFC 3024 3.3)
  EXPECT_EQ(Code(T(2), eds), C(ReplyCode::kHaPoorlyFormedRequest));

  Req fa_d = MakeReq(T(3), kMn, kFa);  // FA's tunnel request with 'D' set
  fa_d.fa_tunnel = UdpTunnelRequest{};
  EXPECT_EQ(Code(T(3), fa_d, Ipv4Endpoint{kNat, 1234}), C(ReplyCode::kHaPoorlyFormedRequest));

  Req coa = MakeReq(T(4), kMn, A("224.0.0.5"));
  EXPECT_EQ(Code(T(4), coa, Ipv4Endpoint{kCoa, kMnPort}), C(ReplyCode::kHaPoorlyFormedRequest));
  EXPECT_EQ(ha_->binding_count(), 0u);
}

// 136: the Home Agent field is not ours, or the request came to a
// broadcast address; the reply gives our unicast address, sent from it.
TEST_F(HaTest, Code136ForWrongHomeAgentAddress) {
  Req r = MakeReq(T(1));
  r.q.home_agent = A("10.1.255.255");
  (void)Send(T(1), r, Ipv4Endpoint{kCoa, kMnPort}, A("10.1.255.255"));
  std::optional<Reply> rep = OneReply();
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->code(), C(ReplyCode::kHaUnknownHomeAgentAddress));
  EXPECT_EQ(rep->fixed.home_agent, kHa);
  EXPECT_EQ(rep->t.local, (Ipv4Endpoint{kHa, kMipPort}));
  Req other = MakeReq(T(2));
  other.q.home_agent = A("10.1.0.2");
  EXPECT_EQ(Code(T(2), other), C(ReplyCode::kHaUnknownHomeAgentAddress));
  EXPECT_EQ(ha_->binding_count(), 0u);
}

// RFC 3024 4.3.1: 137 and 138; 139 for minimal / GRE encapsulation.
TEST_F(HaTest, ReverseTunnelAndEncapsulationCodes) {
  HomeAgentOptions o = BaseOptions();
  o.reverse_tunnel_allowed = false;
  Make(o);
  Req t = MakeReq(T(1));
  t.q.reverse_tunnel = true;
  EXPECT_EQ(Code(T(1), t), C(ReplyCode::kHaReverseTunnelUnavailable));

  o = BaseOptions();
  o.reverse_tunnel_mandatory = true;
  Make(o);
  EXPECT_EQ(Code(T(2), MakeReq(T(2))), C(ReplyCode::kHaReverseTunnelMandatory));
  Req ok = MakeReq(T(3));
  ok.q.reverse_tunnel = true;
  EXPECT_EQ(Code(T(3), ok), 0);

  Req m = MakeReq(T(4), kMn2);
  m.q.reverse_tunnel = true;
  m.q.minimal_encapsulation = true;
  EXPECT_EQ(Code(T(4), m), C(ReplyCode::kHaEncapsulationUnavailable));
  Req g = MakeReq(T(5), kMn2);
  g.q.reverse_tunnel = true;
  g.q.gre = true;
  EXPECT_EQ(Code(T(5), g), C(ReplyCode::kHaEncapsulationUnavailable));
  EXPECT_EQ(ha_->Bindings(kMn2).size(), 0u);
}

// RFC 3115: a CVSE we do not support, 140 from the MN, 141 from the FA.
TEST_F(HaTest, UnsupportedCvseGets140Or141) {
  Cvse c;
  c.vendor_id = 9;
  c.vendor_type = 1;
  Req mn = MakeReq(T(1));
  mn.mn_cvse = c;
  EXPECT_EQ(Code(T(1), mn), C(ReplyCode::kHaCvseFromMnUnsupported));
  Req fa = MakeReq(T(2));
  fa.fa_cvse = c;
  EXPECT_EQ(Code(T(2), fa), C(ReplyCode::kHaCvseFromFaUnsupported));
  EXPECT_EQ(ha_->binding_count(), 0u);
}

// RFC 3519: NAT detected (source != care-of address) -> UDP tunnel with an
// assenting reply carrying the keepalive interval; the tunnel endpoint is the
// NAT'd source.
TEST_F(HaTest, NatDetectedSelectsUdpTunnel) {
  Req r = MakeReq(T(1), kMn, A("192.168.1.20"));
  r.q.reverse_tunnel = true;
  r.mn_tunnel = UdpTunnelRequest{};
  (void)Send(T(1), r, Ipv4Endpoint{kNat, 61000});
  std::optional<Reply> rep = OneReply();
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->code(), 0);
  ASSERT_TRUE(rep->tunnel);
  EXPECT_EQ(rep->tunnel->reply_code, kUdpTunnelWillTunnel);
  EXPECT_FALSE(rep->tunnel->forced);
  EXPECT_EQ(rep->tunnel->keepalive_interval, 110);
  EXPECT_EQ(rep->t.remote, (Ipv4Endpoint{kNat, 61000}));
  std::vector<HaEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  ASSERT_EQ(ev[0].tunnels.size(), 1u);
  EXPECT_EQ(ev[0].tunnels[0].encapsulation, TunnelEncapsulation::kUdp);
  EXPECT_EQ(ev[0].tunnels[0].endpoint, (Ipv4Endpoint{kNat, 61000}));
  EXPECT_EQ(ev[0].tunnels[0].care_of_address, A("192.168.1.20"));
}

TEST_F(HaTest, ForcedUdpTunnelWithoutNatAndDeclineOtherwise) {
  Req f = MakeReq(T(1));
  UdpTunnelRequest force;
  force.force = true;
  f.mn_tunnel = force;
  (void)Send(T(1), f);
  std::optional<Reply> rep = OneReply();
  ASSERT_TRUE(rep && rep->tunnel);
  EXPECT_EQ(rep->tunnel->reply_code, kUdpTunnelWillTunnel);
  EXPECT_TRUE(rep->tunnel->forced);
  EXPECT_EQ(ha_->Bindings(kMn).at(0).encapsulation, TunnelEncapsulation::kUdp);

  // No NAT, no F: accepted with a declining UDP Tunnel Reply (code 64) and
  // plain IP-in-IP.
  Req n = MakeReq(T(2), kMn2, kCoa2);
  n.mn_tunnel = UdpTunnelRequest{};
  (void)Send(T(2), n);
  rep = OneReply();
  ASSERT_TRUE(rep && rep->tunnel);
  EXPECT_EQ(rep->code(), 0);
  EXPECT_EQ(rep->tunnel->reply_code, kUdpTunnelDeclined);
  EXPECT_EQ(ha_->Bindings(kMn2).at(0).encapsulation, TunnelEncapsulation::kIpInIp);
}

TEST_F(HaTest, Code129WhenUdpTunnellingRefused) {
  HomeAgentOptions o = BaseOptions();
  o.udp_tunnelling_enabled = false;
  Make(o);
  Req r = MakeReq(T(1), kMn, A("192.168.1.20"));
  r.mn_tunnel = UdpTunnelRequest{};
  EXPECT_EQ(Code(T(1), r, Ipv4Endpoint{kNat, 61000}), C(ReplyCode::kHaAdministrativelyProhibited));

  o = BaseOptions();
  o.udp_accept_forcing = false;
  Make(o);
  Req f = MakeReq(T(2));
  UdpTunnelRequest force;
  force.force = true;
  f.mn_tunnel = force;
  EXPECT_EQ(Code(T(2), f), C(ReplyCode::kHaAdministrativelyProhibited));
  EXPECT_EQ(ha_->binding_count(), 0u);
}

// 142: a UDP tunnel encapsulation we do not offer (GRE, minimal).
TEST_F(HaTest, Code142ForUnsupportedUdpEncapsulation) {
  Req r = MakeReq(T(1), kMn, A("192.168.1.20"));
  UdpTunnelRequest gre;
  gre.encapsulation = kEncapGre;
  r.mn_tunnel = gre;
  EXPECT_EQ(Code(T(1), r, Ipv4Endpoint{kNat, 61000}),
            C(ReplyCode::kHaUdpEncapsulationUnavailable));
  Req m = MakeReq(T(2), kMn, A("192.168.1.20"));
  m.q.minimal_encapsulation = true;
  m.mn_tunnel = UdpTunnelRequest{};
  EXPECT_EQ(Code(T(2), m, Ipv4Endpoint{kNat, 61000}),
            C(ReplyCode::kHaUdpEncapsulationUnavailable));
  EXPECT_EQ(ha_->binding_count(), 0u);
}

// RFC 3519 4.5: an FA behind a NAT asks after MN-HA; the reply puts the
// UDP Tunnel Reply after MN-HA too.
TEST_F(HaTest, ForeignAgentBehindNatGetsUdpTunnel) {
  Req r = MakeReq(T(1), kMn, kFa);
  r.q.decapsulation_by_mn = false;
  r.fa_tunnel = UdpTunnelRequest{};
  (void)Send(T(1), r, Ipv4Endpoint{kNat, 434});
  std::optional<Reply> rep = OneReply();
  ASSERT_TRUE(rep && rep->tunnel);
  EXPECT_EQ(rep->code(), 0);
  EXPECT_EQ(rep->tunnel->reply_code, kUdpTunnelWillTunnel);
  EXPECT_EQ(ha_->Bindings(kMn).at(0).endpoint, (Ipv4Endpoint{kNat, 434}));
}

// RFC 5265 4.3: untrusted sources dropped silently and logged; every reply
// to a trusted source carries TNC (accepting or not); never TNC otherwise.
TEST_F(HaTest, R23_TrustedNetworksDropUntrustedAndTagTrustedReplies) {
  HomeAgentOptions o = BaseOptions();
  o.rfc5265_trusted_networks = true;
  o.trusted_subnets = {*Ipv4Prefix::Parse("198.51.100.0/24")};
  Make(o);
  Req untrusted = MakeReq(T(1), kMn, kFa);
  ExpectSilent(Send(T(1), untrusted, Ipv4Endpoint{kFa, kMnPort}), HaDrop::kUntrustedSource);
  EXPECT_TRUE(sink_.Contains("untrusted"));
  EXPECT_EQ(ha_->binding_count(), 0u);

  Req ok = MakeReq(T(2));
  (void)Send(T(2), ok);
  std::optional<Reply> rep = OneReply();
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->code(), 0);
  EXPECT_TRUE(rep->has_tnc);
  EXPECT_TRUE(rep->tnc_covered);
  EXPECT_TRUE(rep->mnha_valid);
  (void)Send(T(3), ok);  // replayed: 133, still with TNC
  rep = OneReply();
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->code(), C(ReplyCode::kHaIdentificationMismatch));
  EXPECT_TRUE(rep->has_tnc);
  Req forged = MakeReq(T(4));
  forged.forge = true;
  (void)Send(T(4), forged);
  rep = OneReply();
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->code(), C(ReplyCode::kHaMnFailedAuthentication));
  EXPECT_TRUE(rep->has_tnc);
}

TEST_F(HaTest, R23_TrustedNetworksNoneByDefaultDropsEverything) {
  HomeAgentOptions o = BaseOptions();
  o.rfc5265_trusted_networks = true;
  Make(o);
  ExpectSilent(Send(T(1), MakeReq(T(1))), HaDrop::kUntrustedSource);
}

TEST_F(HaTest, PlainHomeAgentNeverSendsTnc) {
  (void)Send(T(1), MakeReq(T(1)));
  std::optional<Reply> rep = OneReply();
  ASSERT_TRUE(rep);
  EXPECT_FALSE(rep->has_tnc);
}

// Silent discards of RFC 5944 3.8.2.1 (a) and 1.8.
TEST_F(HaTest, NoSecurityAssociationIsDiscarded) {
  ExpectSilent(Send(T(1), MakeReq(T(1), A("10.1.0.200"))), HaDrop::kNoSecurityAssociation);
  Req z = MakeReq(T(2), Ipv4Address::Any());
  z.nai = "nobody@example.org";
  HaResult r = Send(T(2), z);
  EXPECT_EQ(r.drop, std::optional<HaDrop>(HaDrop::kNoSecurityAssociation));
}

TEST_F(HaTest, NoAuthorizationExtensionIsDiscarded) {
  Req r = MakeReq(T(1));
  r.mnha = false;
  ExpectSilent(Send(T(1), r), HaDrop::kNoAuthorizationExtension);
  EXPECT_FALSE(db_.FindMobileNode(kMn)->replay.last_accepted());
}

TEST_F(HaTest, UnrecognizedNonSkippableExtensionIsDiscarded) {
  Req r = MakeReq(T(1));
  r.raw_ext_type = 100;  // 0-127, unknown
  ExpectSilent(Send(T(1), r), HaDrop::kUnrecognizedExtension);
  // An unknown skippable one (128-255) is ignored.
  Req s = MakeReq(T(2));
  s.raw_ext_type = 200;
  EXPECT_EQ(Code(T(2), s), 0);
}

TEST_F(HaTest, MalformedAndUnknownMessagesAreDiscarded) {
  Bytes good = Build(MakeReq(T(1)));
  UdpReceived d;
  d.local = Ipv4Endpoint{kHa, kMipPort};
  d.remote = Ipv4Endpoint{kCoa, kMnPort};
  ByteSpan truncated(good.data(), 20);
  d.payload = truncated;
  ExpectSilent(ha_->OnUdp(T(1), d), HaDrop::kMalformedRequest);
  Bytes reply_type = good;
  reply_type[0] = kMsgRegistrationReply;
  d.payload = reply_type;
  ExpectSilent(ha_->OnUdp(T(1), d), HaDrop::kUnknownMessage);
}

// Mutated requests (bit flips, truncation) never crash, never bind (the
// MN-HA authenticator covers everything up to it), and are either answered
// with an authenticated denial or dropped silently.
TEST_F(HaTest, MutatedRequestsNeverBind) {
  DeterministicRandom rng(99);
  const Bytes good = Build(MakeReq(T(1)));
  for (int i = 0; i < 3000; ++i) {
    Bytes m = good;
    const std::uint32_t flips = 1 + rng.Uniform(3);
    for (std::uint32_t f = 0; f < flips; ++f) {
      m[rng.Uniform(static_cast<std::uint32_t>(m.size()))] ^=
          static_cast<std::uint8_t>(1u << rng.Uniform(8));
    }
    if (rng.Uniform(4) == 0) m.resize(rng.Uniform(static_cast<std::uint32_t>(m.size())));
    if (m == good) continue;
    UdpReceived d;
    d.local = Ipv4Endpoint{kHa, kMipPort};
    d.remote = Ipv4Endpoint{kCoa, kMnPort};
    d.payload = m;
    HaResult r = ha_->OnUdp(T(1), d);
    std::vector<Transmit> out = Drain();
    if (r.action == HaResult::Action::kDropped) {
      EXPECT_TRUE(out.empty());
    } else {
      ASSERT_EQ(out.size(), 1u);
      std::optional<Reply> rep = ParseReply(std::get<UdpTransmit>(out[0]));
      ASSERT_TRUE(rep);
      EXPECT_TRUE(rep->mnha_valid);
      EXPECT_NE(rep->code(), 0);
    }
    ASSERT_EQ(ha_->binding_count(), 0u);
  }
  EXPECT_TRUE(Events().empty());
}

}  // namespace
}  // namespace mipsec::mip4::ha_test
