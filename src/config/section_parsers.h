// Pieces of the daemon and VPN-client config parsers that other config
// formats embed (mn.toml reuses the MN-HA SA keys of ha.toml's
// [[mobile_node]] and the [client] keys of vpn-client.toml), so that one key
// means one thing with one error text everywhere.
//
// Both parse the keys they know from table `t` (at key path `path`) and do
// NOT reject unknown keys: the caller checks the table's keys with its own
// list (TomlReader::CheckKeys). Errors are "<file>:<line>: <path>.<key>:
// <reason>" and never quote key material; relative file paths are relative
// to the directory of `file`.
#ifndef MIPSEC_CONFIG_SECTION_PARSERS_H_
#define MIPSEC_CONFIG_SECTION_PARSERS_H_

#include <string>
#include <string_view>

#include "common/result.h"
#include "config/daemon_config.h"
#include "config/gw_config.h"
#include "config/toml.h"

namespace mipsec::config {

// spi, algorithm, key | key_file (as in ha.toml's [[mobile_node]]).
Result<SaConfig> ParseSaSection(const toml::table& t, const std::string& path,
                                std::string_view file, const FileReader& read_file);

// The keys of vpn-client.toml's [client] other than local_address, log_level
// and request_virtual_ip: gateway (required), gateway_port, the IKE keys
// (local_id, remote_id, auth, psk | psk_file, certificate, private_key, ca,
// rsa_pss, proposals, lifetimes, dpd_interval, nat_keepalive,
// force_encapsulation, fragmentation, mobike, mobike_return_routability),
// routes (required), tun, tun_mtu. request_virtual_ip is left true.
Result<VpnClientConfig> ParseVpnClientSection(const toml::table& t, const std::string& path,
                                              std::string_view file, const FileReader& read_file);

}  // namespace mipsec::config

#endif  // MIPSEC_CONFIG_SECTION_PARSERS_H_
