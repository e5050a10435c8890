// What a configuration reload (SIGHUP) of `mipsec ha` / `mipsec fa` changes:
// the difference between the running config and a freshly parsed one, and
// the config the daemon applies.
//
// Pure functions on parsed configs (daemon_config.h); the daemons parse the
// file with the usual all-or-nothing parser first, so a bad file never gets
// here. Keys fall in two kinds:
//   live     applied at once: mobile nodes and their SAs (added, removed,
//            re-keyed), peers' SAs, trusted_subnets, max_lifetime, reverse
//            and UDP tunnelling, advertisement timing, limits, log_level;
//   restart  addresses, interfaces, ports, the control socket (and turning
//            home-link advertisements on or off, which opens or closes a
//            socket): a change is reported by name and NOT applied;
//            MergeRestartKeys puts the running values back.
// A mobile node is identified by its home address, or by its NAI when it
// has none (as SaDatabase::FindSameMobileNode does); "re-keyed" means its
// SPI, algorithm, key, replay method or tolerance changed. A peer is
// identified by its address and SPI; its key changing is a re-key.
//
// The summary never contains key material, only counts and key names:
//   "2 mobile nodes added, 1 re-keyed; changed: trusted_subnets, log_level"
#ifndef MIPSEC_CONFIG_CONFIG_RELOAD_H_
#define MIPSEC_CONFIG_CONFIG_RELOAD_H_

#include <string>
#include <vector>

#include "config/daemon_config.h"

namespace mipsec::config {

struct ReloadDiff {
  int mobile_nodes_added = 0;
  int mobile_nodes_removed = 0;
  int mobile_nodes_rekeyed = 0;
  int peers_added = 0;
  int peers_removed = 0;
  int peers_rekeyed = 0;
  // Live keys whose value changed ("trusted_subnets", "log_level", ...).
  std::vector<std::string> changed;
  // Keys that changed but need a restart ("address", "interface[0].name").
  std::vector<std::string> restart_only;

  bool empty() const {
    return mobile_nodes_added == 0 && mobile_nodes_removed == 0 && mobile_nodes_rekeyed == 0 &&
           peers_added == 0 && peers_removed == 0 && peers_rekeyed == 0 && changed.empty() &&
           restart_only.empty();
  }
  // "2 mobile nodes added, 1 re-keyed, 1 FA peer removed; changed: log_level"
  // (`peer_kind` names the peers: "FA peer", "HA peer"); "no changes".
  std::string Summary(std::string_view peer_kind) const;
  // "address, port" (restart_only joined).
  std::string RestartKeys() const;
};

// The diffs' building block: appends `name` to `out` when a != b (the mobile
// node's DiffMnConfig in mn_config.h uses it too).
template <typename T>
void NoteChangedKey(std::vector<std::string>& out, const char* name, const T& a, const T& b) {
  if (!(a == b)) out.emplace_back(name);
}

ReloadDiff DiffHaConfig(const HaConfig& running, const HaConfig& loaded);
ReloadDiff DiffFaConfig(const FaConfig& running, const FaConfig& loaded);

// `loaded` with every restart-only key set back to `running`'s value: what
// the daemon applies.
HaConfig MergeRestartKeys(const HaConfig& running, HaConfig loaded);
FaConfig MergeRestartKeys(const FaConfig& running, FaConfig loaded);

}  // namespace mipsec::config

#endif  // MIPSEC_CONFIG_CONFIG_RELOAD_H_
