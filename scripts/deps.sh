#!/usr/bin/env bash
# Installs what building and testing mipsec needs on Debian 12, and nothing
# else. As root it runs apt-get; otherwise it prints the apt-get line and
# stops, so nobody is surprised by a sudo prompt.
set -euo pipefail

# Build: compiler, CMake + Ninja, and the libraries (OpenSSL 3, GoogleTest,
# Google Benchmark, CLI11, toml++, nlohmann-json, libmnl, libpcap); clang
# with its sanitizer/libFuzzer runtime for the bounded libFuzzer runs.
# Test: tshark (wire-format oracle), iproute2 / nftables / ping (namespace
# tests), strongSwan and dnsmasq (interop and the Figure 1 walk).
# strongSwan 5.9.8 as an interop peer (testing/strongswan): charon-systemd
# (one charon per namespace, no pid file), swanctl (vici), pki (test
# certificates), the openssl plugin (standard-plugins) and kernel-libipsec
# (extra-plugins: userspace ESP over TUN, as this kernel has no ESP); iperf3
# and conntrack for throughput and NAT checks.
PKGS=(
  g++ cmake ninja-build pkg-config make
  clang libclang-rt-14-dev
  libssl-dev libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
  libtomlplusplus-dev nlohmann-json3-dev libmnl-dev libpcap-dev
  tshark iproute2 nftables iputils-ping
  charon-systemd strongswan-swanctl strongswan-pki
  libstrongswan-standard-plugins libcharon-extra-plugins
  iperf3 conntrack openssl dnsmasq-base
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

line="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "mipsec needs these Debian packages. As root, run:" >&2
  echo "  apt-get update && $line" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
$line -q >/dev/null
