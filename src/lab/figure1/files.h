// The files of the Figure 1 lab (figure1.topo, firewall.nft,
// mvpn-policy.nft, ha.toml, fa.toml, gw.toml, mn.toml — beside this header),
// compiled into the program at build time (embed.cmake), so that
// `mipsec demo --netns` runs exactly them wherever it is installed.
#ifndef MIPSEC_LAB_FIGURE1_FILES_H_
#define MIPSEC_LAB_FIGURE1_FILES_H_

#include <optional>
#include <string_view>
#include <vector>

namespace mipsec::lab {

// The text of the file `name` ("figure1.topo", "ha.toml", ...), or nullopt.
std::optional<std::string_view> Figure1File(std::string_view name);
std::vector<std::string_view> Figure1FileNames();

}  // namespace mipsec::lab

#endif  // MIPSEC_LAB_FIGURE1_FILES_H_
