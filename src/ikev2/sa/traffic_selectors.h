// Traffic selector arithmetic for CHILD SA negotiation (RFC 7296 2.9):
// intersection, narrowing by the responder, and the initiator's check that
// the responder only narrowed. IPv4 range selectors only (TS_IPV4_ADDR_RANGE);
// other types never intersect.
#ifndef MIPSEC_IKEV2_SA_TRAFFIC_SELECTORS_H_
#define MIPSEC_IKEV2_SA_TRAFFIC_SELECTORS_H_

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/ip/address.h"
#include "ikev2/codec/ts_payload.h"

namespace mipsec::ikev2 {

// 0.0.0.0-255.255.255.255, any protocol and port.
TrafficSelector AnyIpv4Selector();

// The selector common to `a` and `b`: address range and port range
// intersected; IP protocol 0 matches any, otherwise both must agree.
// nullopt when empty or not IPv4.
std::optional<TrafficSelector> Intersect(const TrafficSelector& a, const TrafficSelector& b);

// Responder narrowing (2.9): every non-empty intersection of a proposed
// selector with an allowed one, in the proposal's order, without
// duplicates. Empty: TS_UNACCEPTABLE.
std::vector<TrafficSelector> Narrow(std::span<const TrafficSelector> proposed,
                                    std::span<const TrafficSelector> allowed);

// `inner` lies within `outer`.
bool IsSubset(const TrafficSelector& inner, const TrafficSelector& outer);
// Every selector of `returned` lies within one of `proposed` (the responder
// may only narrow), and `returned` is not empty.
bool OnlyNarrowed(std::span<const TrafficSelector> returned,
                  std::span<const TrafficSelector> proposed);

// "10.0.0.0-10.0.0.255[17/0-65535]" for logs.
std::string TsToString(const TrafficSelector& ts);
std::string TsListToString(std::span<const TrafficSelector> list);

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_SA_TRAFFIC_SELECTORS_H_
