// Loads a scenario from TOML (format: docs/scenarios.md).
//
// Every error names the file, the line and the key, and says what is wrong:
//   "figure1.toml:42: node[3].interface[0].address: '10.1.0.300/24' is not an
//    IPv4 address with a prefix length"
// Unknown keys are errors too (a typo must not be silently ignored).
// Cross-references (a route's gateway on no link, an event naming a node that
// does not exist) are checked here, so a scenario that loads also builds.
#ifndef MIPSEC_SIM_SCENARIO_TOML_LOADER_H_
#define MIPSEC_SIM_SCENARIO_TOML_LOADER_H_

#include <string>
#include <string_view>

#include "common/result.h"
#include "sim/scenario/scenario.h"

namespace mipsec::sim::scenario {

// Parses `text`; `file` is used in error messages only.
Result<Scenario> ParseScenarioToml(std::string_view text, std::string_view file);

// "10ms", "1.5s", "250us", "2m" -> Duration; kMalformed otherwise.
Result<Duration> ParseDurationText(std::string_view text);
// "100Mbit", "1Gbit", "512kbit", "9600bit" -> bits per second.
Result<std::uint64_t> ParseBandwidthText(std::string_view text);

}  // namespace mipsec::sim::scenario

#endif  // MIPSEC_SIM_SCENARIO_TOML_LOADER_H_
