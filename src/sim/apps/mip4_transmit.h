// SendMip4Transmit: how every simulator Mobile IPv4 app hands one of its
// core's mip4::Transmit (mip4/io.h) to the node, with the semantics the Linux
// daemons give it:
//   UdpTransmit  -> Node::SendUdp from local (address when set, port), bound
//                   to `ifindex` when set, with the core's TTL when set;
//   IpTransmit   -> with link_next_hop: on-link to it out of `ifindex`;
//                   with `ifindex` only: out of that interface as
//                   SO_BINDTODEVICE would (on-link to the destination unless
//                   a route through the interface names a gateway);
//                   otherwise routed by its destination.
#ifndef MIPSEC_SIM_APPS_MIP4_TRANSMIT_H_
#define MIPSEC_SIM_APPS_MIP4_TRANSMIT_H_

#include "common/result.h"
#include "mip4/io.h"
#include "sim/node.h"

namespace mipsec::sim {

// Node's errors as is.
Status SendMip4Transmit(Node& node, mip4::Transmit&& transmit);

}  // namespace mipsec::sim

#endif  // MIPSEC_SIM_APPS_MIP4_TRANSMIT_H_
