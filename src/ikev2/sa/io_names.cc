#include "ikev2/sa/io_names.h"

namespace mipsec::ikev2 {

std::string_view IkeDownReasonName(IkeDownReason r) {
  switch (r) {
    case IkeDownReason::kDeleted: return "deleted";
    case IkeDownReason::kDeletedByPeer: return "deleted by peer";
    case IkeDownReason::kTimeout: return "peer dead (retransmissions gave up)";
    case IkeDownReason::kSetupTimeout: return "setup timeout";
    case IkeDownReason::kAuthFailed: return "authentication failed";
    case IkeDownReason::kNoProposal: return "no proposal chosen";
    case IkeDownReason::kFailed: return "failed";
    case IkeDownReason::kReplaced: return "replaced (INITIAL_CONTACT)";
    case IkeDownReason::kRekeyed: return "rekeyed";
  }
  return "?";
}

std::string_view ChildDownReasonName(ChildDownReason r) {
  switch (r) {
    case ChildDownReason::kDeleted: return "deleted";
    case ChildDownReason::kDeletedByPeer: return "deleted by peer";
    case ChildDownReason::kRekeyed: return "rekeyed";
    case ChildDownReason::kIkeSaDown: return "IKE SA down";
    case ChildDownReason::kExpired: return "expired";
  }
  return "?";
}

}  // namespace mipsec::ikev2
