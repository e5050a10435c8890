#include "testing/strongswan/require_strongswan.h"

#include <unistd.h>

#include "testing/netns/exec.h"

namespace mipsec::testing {
namespace {

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
