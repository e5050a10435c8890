#include "testing/strongswan/require_strongswan.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include "lab/netns/exec.h"
#include "lab/strongswan/strongswan_peer.h"
#include "testing/lab_names.h"

namespace mipsec::testing {
namespace {

// StrongswanPeer (src/lab) dumps its log at destruction only when the run
// failed, which only gtest knows: installed when this file is linked in
// (every test that runs strongSwan uses MIPSEC_REQUIRE_STRONGSWAN).
bool GtestTestFailed() {
  return ::testing::UnitTest::GetInstance()->current_test_info() != nullptr &&
         ::testing::Test::HasFailure();
}
[[maybe_unused]] const bool kFailureProbeInstalled =
    (::mipsec::lab::SetStrongswanFailureProbe(&GtestTestFailed), true);

constexpr const char kPluginDir[] = "/usr/lib/ipsec/plugins/";

void Need(std::string& out, bool ok, const std::string& what, const char* package) {
  if (ok) return;
  if (!out.empty()) out += "; ";
  out += what + " missing (Debian package " + package + ")";
}

bool Plugin(const char* name) {
  std::string path = std::string(kPluginDir) + "libstrongswan-" + name + ".so";
  return ::access(path.c_str(), R_OK) == 0;
}

}  // namespace

std::string MissingStrongswanParts() {
  std::string out;
  Need(out, FindExecutable("charon-systemd").ok(), "charon-systemd", "charon-systemd");
  Need(out, FindExecutable("swanctl").ok(), "swanctl", "strongswan-swanctl");
  Need(out, Plugin("vici"), "vici plugin", "strongswan-swanctl");
  Need(out, Plugin("openssl"), "openssl plugin", "libstrongswan-standard-plugins");
  Need(out, Plugin("kernel-libipsec"), "kernel-libipsec plugin", "libcharon-extra-plugins");
  Need(out, ::access("/dev/net/tun", R_OK | W_OK) == 0, "/dev/net/tun", "kernel tun module");
  if (!out.empty()) {
    out = "strongSwan interop needs: " + out +
          ". Install: DEBIAN_FRONTEND=noninteractive apt-get install -y charon-systemd "
          "strongswan-swanctl strongswan-pki libstrongswan-standard-plugins "
          "libcharon-extra-plugins";
  }
  return out;
}

std::string MissingPki() {
  if (FindExecutable("pki").ok()) return "";
  return "`pki` missing: install the Debian package strongswan-pki";
}

}  // namespace mipsec::testing
