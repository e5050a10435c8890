#include "platform/linux/ikev2/ike_sas_json.h"

#include <utility>

#include "config/gw_config.h"
#include "ikev2/sa/ike_sa.h"

namespace mipsec::ikev2d {

namespace {

std::string Hex(std::uint64_t v, int digits) {
  static const char* kDigits = "0123456789abcdef";
  std::string s(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = kDigits[v & 15];
  return s;
}

platform::ControlJson Selectors(const std::vector<ikev2::TrafficSelector>& ts) {
  platform::ControlJson out = platform::ControlJson::array();
  for (const Ipv4Prefix& p : SelectorsToPrefixes(ts)) out.push_back(p.ToString());
  return out;
}

const char* ChildStateName(ikev2::ChildSaState s) {
  switch (s) {
    case ikev2::ChildSaState::kInstalled:
      return "INSTALLED";
    case ikev2::ChildSaState::kDeleting:
      return "DELETING";
    case ikev2::ChildSaState::kRekeying:
      return "REKEYING";
    case ikev2::ChildSaState::kRekeyed:
      return "REKEYED";
  }
  return "?";
}

}  // namespace

platform::ControlJson IkeSasJson(IkeRuntime& runtime, Timestamp now) {
  using platform::ControlJson;
  ControlJson sas = ControlJson::array();
  for (std::uint64_t id : runtime.ike_sa_ids()) {
    ikev2::IkeSa* sa = runtime.manager().Find(id);
    if (sa == nullptr) continue;
    ControlJson children = ControlJson::array();
    for (const ikev2::ChildSa& c : sa->children()) {
      IkeRuntime::ChildTraffic t = runtime.ChildSaTraffic(c.info.spi_in);
      ControlJson child{
          {"spi_in", Hex(c.info.spi_in, 8)},
          {"spi_out", Hex(c.info.spi_out, 8)},
          {"state", ChildStateName(c.state)},
          {"suite", c.info.suite.ToString()},
          {"encap", c.info.udp_encap ? "udp" : "esp"},
          {"local_ts", Selectors(c.info.local_ts)},
          {"remote_ts", Selectors(c.info.remote_ts)},
          {"bytes_in", t.in ? ControlJson(t.in->bytes) : ControlJson(nullptr)},
          {"packets_in", t.in ? ControlJson(t.in->packets) : ControlJson(nullptr)},
          {"bytes_out", t.out ? ControlJson(t.out->bytes) : ControlJson(nullptr)},
          {"packets_out", t.out ? ControlJson(t.out->packets) : ControlJson(nullptr)},
          {"age_s", (now - c.established).seconds()},
      };
      children.push_back(std::move(child));
    }
    ControlJson ike{
        {"id", id},
        {"state", ikev2::IkeSaStateName(sa->state())},
        {"spi_i", Hex(sa->spi_i(), 16)},
        {"spi_r", Hex(sa->spi_r(), 16)},
        {"initiator", sa->original_initiator()},
        {"local", sa->local().ToString()},
        {"remote", sa->remote().ToString()},
        {"remote_id", sa->remote_id() ? ControlJson(config::IdentityToString(*sa->remote_id()))
                                      : ControlJson(nullptr)},
        {"suite", sa->suite() ? ControlJson(sa->suite()->ToString()) : ControlJson(nullptr)},
        {"nat_local", sa->local_behind_nat()},
        {"nat_remote", sa->remote_behind_nat()},
        {"mobike", sa->mobike()},
        // The TIA: the one we assigned (gateway) or were assigned (client).
        {"tia", sa->peer_virtual_ip() ? ControlJson(sa->peer_virtual_ip()->ToString())
                : sa->virtual_ip()    ? ControlJson(sa->virtual_ip()->ToString())
                                      : ControlJson(nullptr)},
        {"child_sas", children},
    };
    sas.push_back(std::move(ike));
  }
  return ControlJson{{"ike_sas", sas.size()}, {"sas", sas}};
}

}  // namespace mipsec::ikev2d
