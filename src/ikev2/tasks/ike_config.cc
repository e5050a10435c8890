#include "ikev2/tasks/ike_config.h"

#include "common/log.h"
#include "ikev2/sa/ike_sa.h"
#include "ikev2/tasks/ike_delete.h"

namespace mipsec::ikev2 {

TaskStatus IkeConfig::Build(IkeSa& sa, Timestamp /*now*/, Message& m) {
  if (initiator()) {
    CpPayload cp;
    cp.cfg_type = CfgType::kRequest;
    cp.attributes = {CfgAttribute::Empty(CfgAttr::kInternalIp4Address),
                     CfgAttribute::Empty(CfgAttr::kInternalIp4Netmask),
                     CfgAttribute::Empty(CfgAttr::kInternalIp4Dns)};
    AddPayload(m, Payload::Cp(std::move(cp)));
    return TaskStatus::kNeedMore;
  }
  if (!requested_) return TaskStatus::kDone;
  if (sa.virtual_ip_failed()) {
    AddPayload(m, Payload::Notify(NotifyPayload::Make(NotifyType::kInternalAddressFailure)));
    return TaskStatus::kDone;
  }
  const PeerConfig& c = sa.config();
  CpPayload cp;
  cp.cfg_type = CfgType::kReply;
  cp.attributes.push_back(CfgAttribute::Ipv4(CfgAttr::kInternalIp4Address, *sa.peer_virtual_ip()));
  if (c.virtual_ip_netmask) {
    cp.attributes.push_back(CfgAttribute::Ipv4(CfgAttr::kInternalIp4Netmask, *c.virtual_ip_netmask));
  }
  for (const Ipv4Address& dns : c.virtual_ip_dns) {
    cp.attributes.push_back(CfgAttribute::Ipv4(CfgAttr::kInternalIp4Dns, dns));
  }
  AddPayload(m, Payload::Cp(std::move(cp)));
  return TaskStatus::kDone;
}

TaskStatus IkeConfig::Process(IkeSa& sa, Timestamp /*now*/, const Message& m) {
  const Payload* p = m.Find(PayloadType::kCp);
  const CpPayload* cp = p != nullptr ? p->As<CpPayload>() : nullptr;
  if (initiator()) {
    std::optional<Ipv4Address> address;
    VirtualIpAssigned v;
    if (cp != nullptr && cp->cfg_type == CfgType::kReply) {
      for (const CfgAttribute& a : cp->attributes) {
        std::optional<Ipv4Address> ip = a.Ipv4Value();
        if (!ip) continue;
        switch (static_cast<CfgAttr>(a.type)) {
          case CfgAttr::kInternalIp4Address:
            if (!address) address = *ip;
            break;
          case CfgAttr::kInternalIp4Netmask: v.netmask = *ip; break;
          case CfgAttr::kInternalIp4Dns: v.dns.push_back(*ip); break;
          default: break;
        }
      }
    }
    if (!address || address->IsAny()) {
      const bool refused = m.FindNotify(NotifyType::kInternalAddressFailure) != nullptr;
      MIPSEC_LOG(sa.log(), kNotice) << "no internal address assigned"
                                    << (refused ? " (INTERNAL_ADDRESS_FAILURE)" : "");
      sa.Emit(ChildSaFailed{refused ? std::optional(NotifyType::kInternalAddressFailure)
                                    : std::nullopt,
                            "no internal address assigned"});
      sa.task_manager().Queue(std::make_unique<IkeDelete>(true));
      return TaskStatus::kDone;
    }
    v.address = *address;
    sa.set_virtual_ip(*address);
    MIPSEC_LOG(sa.log(), kInfo) << "internal address " << address->ToString() << " assigned";
    sa.Emit(std::move(v));
    return TaskStatus::kDone;
  }
  if (cp == nullptr || cp->cfg_type != CfgType::kRequest ||
      cp->Find(CfgAttr::kInternalIp4Address) == nullptr) {
    return TaskStatus::kNeedMore;
  }
  requested_ = true;
  const PeerConfig& c = sa.config();
  std::optional<Ipv4Address> hint = cp->Find(CfgAttr::kInternalIp4Address)->Ipv4Value();
  if (hint && hint->IsAny()) hint.reset();
  std::optional<Ipv4Address> got;
  if (c.address_provider != nullptr && sa.remote_id()) {
    got = c.address_provider->Acquire(*sa.remote_id(), hint);
  }
  if (!got) {
    MIPSEC_LOG(sa.log(), kNotice) << "no internal address for the peer";
    sa.virtual_ip_failed() = true;
  } else {
    sa.set_peer_virtual_ip(*got);
    MIPSEC_LOG(sa.log(), kInfo) << "assigned internal address " << got->ToString();
  }
  return TaskStatus::kNeedMore;
}

}  // namespace mipsec::ikev2
