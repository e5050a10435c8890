// IkeConfig: the configuration payload concern of IKE_AUTH (RFC 7296 2.19,
// 3.15): the internal IPv4 address (the TIA of RFC 5266), netmask and DNS.
//
// Initiator (config().request_virtual_ip): CP(CFG_REQUEST) with empty
// INTERNAL_IP4_ADDRESS, INTERNAL_IP4_NETMASK and INTERNAL_IP4_DNS. A
// CFG_REPLY with an address gives VirtualIpAssigned; a response without one
// (or with INTERNAL_ADDRESS_FAILURE) gives ChildSaFailed and the IKE SA is
// deleted once IKE_AUTH is done (the TIA is what we connected for).
// Responder: a CFG_REQUEST for INTERNAL_IP4_ADDRESS asks
// config().address_provider for an address for the authenticated identity
// (the requested address is a hint); it is released when the IKE SA goes
// down. No provider or no address: INTERNAL_ADDRESS_FAILURE, and no CHILD
// SA in this IKE_AUTH (3.10.1).
#ifndef MIPSEC_IKEV2_TASKS_IKE_CONFIG_H_
#define MIPSEC_IKEV2_TASKS_IKE_CONFIG_H_

#include "ikev2/sa/task.h"

namespace mipsec::ikev2 {

class IkeConfig final : public Task {
 public:
  explicit IkeConfig(bool initiator) : Task(initiator) {}
  TaskType type() const override { return TaskType::kIkeConfig; }
  ExchangeType exchange() const override { return ExchangeType::kIkeAuth; }
  TaskStatus Build(IkeSa& sa, Timestamp now, Message& m) override;
  TaskStatus Process(IkeSa& sa, Timestamp now, const Message& m) override;

 private:
  bool requested_ = false;  // responder: the request asked for an address
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_TASKS_IKE_CONFIG_H_
