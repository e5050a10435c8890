// The one way mipsec includes toml++: header-only, exceptions off (parse
// failures come back as values, like everything else). Every translation
// unit that uses toml++ includes this header instead of <toml++/toml.h>, so
// all of them see the same configuration.
#ifndef MIPSEC_CONFIG_TOML_H_
#define MIPSEC_CONFIG_TOML_H_

#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

#endif  // MIPSEC_CONFIG_TOML_H_
