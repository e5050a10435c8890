// What the runtimes (the Linux IkeRuntime, the simulator's IkeApp) need to
// install a CHILD SA in the userspace ESP data plane: its selectors as
// routed prefixes, and the esp::SaConfig of each direction. Pure functions,
// unit-tested.
#ifndef MIPSEC_IKEV2_CHILD_ESP_INSTALL_H_
#define MIPSEC_IKEV2_CHILD_ESP_INSTALL_H_

#include <vector>

#include "common/ip/address.h"
#include "common/result.h"
#include "esp/sa.h"
#include "ikev2/codec/ts_payload.h"
#include "ikev2/sa/io.h"

namespace mipsec::ikev2 {

// The smallest set of prefixes that covers [first, last] exactly (an
// empty vector when first > last).
std::vector<Ipv4Prefix> RangeToPrefixes(Ipv4Address first, Ipv4Address last);
// The IPv4 selectors as destination prefixes for the data path's routing
// (protocol and ports are not routed on: a selector narrowed to a protocol
// or ports still routes its whole address range). Non-IPv4 selectors are
// skipped.
std::vector<Ipv4Prefix> SelectorsToPrefixes(const std::vector<TrafficSelector>& ts);
// The esp::SaConfig of one direction of a CHILD SA: cipher and integrity
// from the suite, the keys of that direction, outer addresses (local =
// ours), ESN and UDP encapsulation. kUnsupported for a suite the data path
// lacks.
Result<esp::SaConfig> MakeEspSaConfig(const ChildSaInfo& child, esp::Direction direction);

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CHILD_ESP_INSTALL_H_
