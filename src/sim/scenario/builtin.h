// Scenarios compiled into mipsec (the TOML files beside this header,
// embedded at build time).
#ifndef MIPSEC_SIM_SCENARIO_BUILTIN_H_
#define MIPSEC_SIM_SCENARIO_BUILTIN_H_

#include <optional>
#include <string_view>
#include <vector>

namespace mipsec::sim::scenario {

// The TOML text of a built-in scenario ("figure1": RFC 5266 Figure 1;
// "operator": RFC 5266 Appendix A), or nullopt.
std::optional<std::string_view> BuiltinScenario(std::string_view name);
std::vector<std::string_view> BuiltinScenarioNames();

}  // namespace mipsec::sim::scenario

#endif  // MIPSEC_SIM_SCENARIO_BUILTIN_H_
