// Fuzz target: Mobile IPv4 agent discovery (src/mip4/codec) — Agent
// Advertisement (ICMP 9 + extensions 16, 19, 0) and Agent Solicitation
// (ICMP 10).
//
// Each input is tried as is and with its ICMP checksum corrected (so that
// mutations reach the body). Properties: no out-of-bounds read; extensions
// tile the message after the router entries; a canonical advertisement
// re-encodes byte for byte, any parsed one re-encodes to the same fields;
// Validate() runs; only RFC 5944 1.8 discards are kUnsupported.
#include <cstddef>
#include <cstdint>

#include "common/checksum.h"
#include "fuzz_target.h"
#include "fuzz_util.h"
#include "mip4/codec/agent_advertisement.h"
#include "mip4/codec/agent_solicitation.h"

using namespace mipsec;        // NOLINT: a fuzz target, not library code
using namespace mipsec::mip4;  // NOLINT

namespace {

void Check(ByteSpan in) {
  Result<ParsedAgentAdvertisement> adv = ParseAgentAdvertisement(in);
  if (adv.ok()) {
    const ParsedAgentAdvertisement& p = *adv;
    const std::size_t entries = 8 + 4u * p.addr_entry_size * p.advertisement.routers.size();
    std::size_t at = entries;
    for (const Extension& e : p.extensions) {
      FUZZ_CHECK(e.offset == at && e.length >= 1);
      at = e.end();
    }
    FUZZ_CHECK(at == in.size());
    (void)Validate(p);
    (void)ValidateFields(p.advertisement);
    Result<Bytes> again = BuildAgentAdvertisement(p.advertisement);
    FUZZ_CHECK(again.ok());  // parsed counts always fit their fields
    if (p.IsCanonical()) FUZZ_CHECK(fuzz::SameBytes(*again, in));
    Result<ParsedAgentAdvertisement> back = ParseAgentAdvertisement(*again);
    FUZZ_CHECK(back.ok());
    FUZZ_CHECK(back->advertisement == p.advertisement);
    FUZZ_CHECK(back->IsCanonical());
  } else if (adv.error().code() == Errc::kUnsupported) {
    FUZZ_CHECK(IsUnrecognizedExtension(adv.error()));
  }

  Result<AgentSolicitation> sol = ParseAgentSolicitation(in);
  if (sol.ok()) {
    FUZZ_CHECK(in.size() >= 8);
    if (sol->reserved == 0 && in.size() == 8) {
      FUZZ_CHECK(fuzz::SameBytes(BuildAgentSolicitation(), in));
    }
  }
  FUZZ_CHECK(!(adv.ok() && sol.ok()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteSpan in(data, size);
  Check(in);
  if (size >= 4) {
    Bytes fixed(in.begin(), in.end());
    fixed[2] = fixed[3] = 0;
    const std::uint16_t c = InternetChecksum(fixed);
    fixed[2] = static_cast<std::uint8_t>(c >> 8);
    fixed[3] = static_cast<std::uint8_t>(c);
    Check(fixed);
  }
  return 0;
}
