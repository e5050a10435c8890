// Parsing `swanctl --list-sas --pretty` into IKE/CHILD SA records.
//
// The pretty form of a vici message is line based, which keeps values with
// blanks (DN identities) intact:
//
//   list-sa event {
//     home {                       <- one section per IKE_SA, named by its config
//       uniqueid = 1
//       local-vips = [
//         10.11.0.1
//       ]
//       child-sas {
//         home-1 {                 <- "<child name>-<unique id>"
//           spi-in = 6bbf33ed
//           ...
//   list-sas reply {
//   }
//
// ParseViciPretty() gives the generic tree; ParseListSas() maps it to
// IkeSaInfo/ChildSaInfo and keeps every key in `raw` for fields not mapped.
// Pure functions: no root, no processes.
#ifndef MIPSEC_LAB_STRONGSWAN_SWANCTL_SAS_H_
#define MIPSEC_LAB_STRONGSWAN_SWANCTL_SAS_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace mipsec::lab {

// One section of a vici message: key/values, lists and named subsections,
// in the order received.
// (A vector of the struct itself: std::pair<std::string, ViciSection> of the
// incomplete type is refused by libstdc++ under clang.)
struct ViciSection {
  std::string name;
  std::map<std::string, std::string> values;
  std::map<std::string, std::vector<std::string>> lists;
  std::vector<ViciSection> sections;

  // "" when absent.
  std::string Get(std::string_view key) const;
  const std::vector<std::string>* List(std::string_view key) const;
  const ViciSection* Section(std::string_view wanted) const;
};

// The whole output: the top-level messages ("list-sa event", "list-sas
// reply", ...) in order. kMalformed with the line number on unbalanced
// braces/brackets.
// Each message is a ViciSection named after it.
Result<std::vector<ViciSection>> ParseViciPretty(std::string_view text);

struct ChildSaInfo {
  std::string name;      // child config name
  uint32_t unique_id = 0;
  uint32_t reqid = 0;
  std::string state;     // INSTALLED, REKEYING, REKEYED, DELETING, DELETED, ...
  std::string mode;      // TUNNEL, ...
  std::string protocol;  // ESP
  bool encap = false;    // ESP-in-UDP
  uint32_t spi_in = 0;
  uint32_t spi_out = 0;
  std::string encr_alg;  // AES_GCM_16, AES_CBC
  int encr_keysize = 0;
  std::string integ_alg;  // HMAC_SHA2_256_128, "" for AEAD
  std::string dh_group;   // only when PFS was used
  uint64_t bytes_in = 0, packets_in = 0, bytes_out = 0, packets_out = 0;
  int64_t rekey_in_s = -1;   // "rekey-time" (seconds until rekey), -1 if none
  int64_t life_in_s = -1;    // "life-time"
  int64_t installed_s = -1;  // "install-time" (seconds since installed)
  std::vector<std::string> local_ts;
  std::vector<std::string> remote_ts;
  std::map<std::string, std::string> raw;
};

struct IkeSaInfo {
  std::string name;  // connection name
  uint32_t unique_id = 0;
  std::string state;  // CONNECTING, ESTABLISHED, REKEYING, REKEYED, DELETING, ...
  std::string local_host;
  uint16_t local_port = 0;
  std::string local_id;
  std::string remote_host;
  uint16_t remote_port = 0;
  std::string remote_id;
  bool initiator = false;
  uint64_t initiator_spi = 0;
  uint64_t responder_spi = 0;
  bool nat_local = false;   // we are behind a NAT (our address is translated)
  bool nat_remote = false;  // the peer is (or claims to be: faked for encap)
  bool nat_fake = false;    // we fake NAT detection (encap = yes)
  bool nat_any = false;
  std::string encr_alg;
  int encr_keysize = 0;
  std::string integ_alg;
  std::string prf_alg;
  std::string dh_group;  // CURVE_25519, ECP_256, MODP_2048
  int64_t established_s = -1;
  int64_t rekey_in_s = -1;
  std::vector<std::string> local_vips;   // our virtual IPs (client)
  std::vector<std::string> remote_vips;  // the peer's (gateway)
  std::vector<ChildSaInfo> children;
  std::map<std::string, std::string> raw;

  // The first child of that config name in state INSTALLED, or nullptr.
  const ChildSaInfo* InstalledChild(std::string_view child_name) const;
};

// Every IKE_SA in `swanctl --list-sas --pretty` output. Numbers that do not
// parse are kMalformed (naming the SA and key).
Result<std::vector<IkeSaInfo>> ParseListSas(std::string_view pretty_output);

}  // namespace mipsec::lab

#endif  // MIPSEC_LAB_STRONGSWAN_SWANCTL_SAS_H_
