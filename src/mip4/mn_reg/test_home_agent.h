// Test-only: a tiny home agent that answers Registration Requests with the
// codec and security modules directly (RFC 5944 3.8 in its simplest form),
// so the mobile-node engine's tests do not depend on the real HA core. It
// authenticates the request, applies replay protection (133 with the right
// Identification), and builds a reply with optional UDP Tunnel Reply and TNC
// extensions covered by MN-HA. Knobs let a test force codes and misbehave.
#ifndef MIPSEC_MIP4_MN_REG_TEST_HOME_AGENT_H_
#define MIPSEC_MIP4_MN_REG_TEST_HOME_AGENT_H_

#include <cstdint>
#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/random.h"
#include "common/secret.h"
#include "common/time.h"
#include "mip4/codec/registration_request.h"
#include "mip4/io.h"
#include "mip4/security/ntp_time.h"
#include "mip4/security/replay.h"
#include "mip4/security/security_association.h"

namespace mipsec::mip4::testing {

inline Ipv4Address Addr(const char* s) { return *Ipv4Address::Parse(s); }

inline constexpr std::uint32_t kSpi = 0x1000;
inline SecretBytes Key() { return SecretBytes(Bytes(16, 0x5a)); }
// A time of day in 2023 as the driver's epoch.
inline constexpr std::int64_t kUnixBase = 1'700'000'000LL * 1'000'000'000LL;

SecurityAssociation MakeSa(ReplayMethod method, SecretBytes key = Key(),
                           std::uint32_t spi = kSpi);

struct TestHaOptions {
  Ipv4Address address = Addr("10.1.0.1");
  std::uint16_t max_lifetime = 600;
  bool tnc = false;
  // Answer a UDP Tunnel Request with an assenting Tunnel Reply.
  bool udp_assent = false;
  std::uint8_t udp_reply_code = 0;
  std::uint16_t keepalive = 0;
  // Deny (after authentication and replay checks) with this code.
  std::optional<std::uint8_t> deny_code;
  // NAI-only MNs: the home address to assign.
  Ipv4Address assign_home = Addr("10.1.0.77");
  // Misbehaviour for negative tests.
  bool tnc_after_auth = false;    // append TNC after MN-HA (not covered)
  bool corrupt_auth = false;      // flip an authenticator bit
  std::optional<SecretBytes> reply_key;  // sign with another key
  bool omit_auth = false;
  // Clock offset of the HA relative to the MN's mapping (timestamps).
  Duration clock_offset = Duration::Zero();
};

class TestHomeAgent {
 public:
  TestHomeAgent(ReplayMethod method, TestHaOptions options);

  // The reply's UDP payload, or nullopt for a silent discard.
  std::optional<Bytes> Handle(Timestamp now, ByteSpan request);
  // Sends the MN's UdpTransmit to the HA and wraps the reply as the MN
  // receives it (same path, addresses swapped).
  std::optional<Bytes> HandleTransmit(Timestamp now, const UdpTransmit& t);

  NtpTime Clock(Timestamp now) const;

  TestHaOptions& options() { return options_; }
  int requests() const { return requests_; }
  const std::optional<RegistrationRequest>& last_request() const { return last_; }
  bool last_had_udp_request() const { return last_udp_; }
  bool last_udp_force() const { return last_force_; }
  std::string last_nai() const { return last_nai_; }

 private:
  SecurityAssociation sa_;
  TestHaOptions options_;
  HaReplayState replay_;
  DeterministicRandom rng_{99};
  int requests_ = 0;
  std::optional<RegistrationRequest> last_;
  bool last_udp_ = false;
  bool last_force_ = false;
  std::string last_nai_;
};

// The UdpReceived an MN sees for a reply to its request `t`.
UdpReceived ReplyFor(const UdpTransmit& t, const Bytes& payload);

}  // namespace mipsec::mip4::testing

#endif  // MIPSEC_MIP4_MN_REG_TEST_HOME_AGENT_H_
