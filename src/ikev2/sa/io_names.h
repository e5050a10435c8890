// Names of io.h's reasons, for logs and events ("deleted", "peer dead
// (retransmissions gave up)", ...): one vocabulary for both runtimes.
#ifndef MIPSEC_IKEV2_SA_IO_NAMES_H_
#define MIPSEC_IKEV2_SA_IO_NAMES_H_

#include <string_view>

#include "ikev2/sa/io.h"

namespace mipsec::ikev2 {

std::string_view IkeDownReasonName(IkeDownReason r);
std::string_view ChildDownReasonName(ChildDownReason r);

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_SA_IO_NAMES_H_
