// Files and tool runs shared by the strongSwan test harness.
//
// Every directory the harness makes is <tmp>/mipsec-swan-<pid>-<kind>-XXXXXX
// (<tmp> is $TMPDIR when short enough for a unix socket path, else /tmp),
// mode 0700. The owner removes it; directories whose <pid> no longer runs
// were left by a killed test and are removed by SweepStaleSwanDirs(), which
// StrongswanPeer::Start() and TestPki::Create() call.
#ifndef MIPSEC_LAB_STRONGSWAN_SWAN_FILES_H_
#define MIPSEC_LAB_STRONGSWAN_SWAN_FILES_H_

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/time.h"
#include "lab/netns/exec.h"

namespace mipsec::lab {

// Creates a fresh private directory (see above). `kind`: [a-z0-9-].
Result<std::string> MakeSwanTempDir(std::string_view kind);

// Removes directories of dead owners; returns how many.
int SweepStaleSwanDirs();

// The directory prefix of this process: "<tmp>/mipsec-swan-<pid>-".
std::string SwanDirPrefix();

// Removes a tree; errors are ignored (best effort teardown).
void RemoveTree(const std::string& path);

Status WriteTextFile(const std::string& path, std::string_view content, unsigned mode = 0600);
Result<std::string> ReadTextFile(const std::string& path);

// The last `lines` lines of a file ("" when it cannot be read).
std::string TailOfFile(const std::string& path, size_t lines);

// Runs `tool` (a strongSwan program: swanctl, pki) in the caller's network
// namespace with STRONGSWAN_CONF=`conf`, via env(1), and waits up to
// `timeout`. An Error only when it could not run; check Success().
Result<ExecResult> RunSwanTool(const std::string& tool, const std::string& conf,
                               const std::vector<std::string>& args, Duration timeout);

}  // namespace mipsec::lab

#endif  // MIPSEC_LAB_STRONGSWAN_SWAN_FILES_H_
