// IkeSasJson: the IKE SAs of an IkeRuntime with their CHILD SAs, for the
// control socket's `sas` command of `mipsec gw` and `mipsec mn` (rendered by
// `mipsec ctl` in the style of `swanctl --list-sas`): SPIs, state, endpoints,
// NAT, MOBIKE, the TIA, and per CHILD SA its SPIs, suite, selectors and the
// data path's byte and packet counts. No key material.
#ifndef MIPSEC_PLATFORM_LINUX_IKEV2_IKE_SAS_JSON_H_
#define MIPSEC_PLATFORM_LINUX_IKEV2_IKE_SAS_JSON_H_

#include "common/time.h"
#include "platform/linux/control_dispatch.h"
#include "platform/linux/ikev2/ike_runtime.h"

namespace mipsec::ikev2d {

// {"ike_sas": N, "sas": [...]}
platform::ControlJson IkeSasJson(IkeRuntime& runtime, Timestamp now);

}  // namespace mipsec::ikev2d

#endif  // MIPSEC_PLATFORM_LINUX_IKEV2_IKE_SAS_JSON_H_
