// FakeFiles: a FileReader (daemon_config.h) over an in-memory map that
// records what was asked for — key_file and psk_file lookups in the config
// parsers' tests, without touching the file system.
#ifndef MIPSEC_CONFIG_FAKE_FILES_TEST_UTIL_H_
#define MIPSEC_CONFIG_FAKE_FILES_TEST_UTIL_H_

#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/daemon_config.h"

namespace mipsec::config {

struct FakeFiles {
  std::map<std::string, std::string> files;
  std::vector<std::string> asked;
  FileReader Reader() {
    return [this](const std::string& path) -> Result<std::string> {
      asked.push_back(path);
      auto it = files.find(path);
      if (it == files.end()) return Error(Errc::kSystem, "cannot read '" + path + "': No such file");
      return it->second;
    };
  }
};

}  // namespace mipsec::config

#endif  // MIPSEC_CONFIG_FAKE_FILES_TEST_UTIL_H_
