#!/usr/bin/env bash
# Sans-I/O lint: protocol libraries must not include the platform layer, nor
# open sockets, read clocks, take randomness from the OS, or start threads.
# Usage: scripts/check_layering.sh [REPO_ROOT]   (exit 1 and a list on violation)
#
# CMake enforces the link-level rule (cmake/MipsecLayers.cmake); this catches
# what links cleanly but still breaks the contract (a header-only include, a
# direct syscall). Tests (*_test.cc) are drivers, not libraries, and are
# exempt; so is the one CSPRNG adapter, src/crypto/random.*.
set -uo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2

# Every library under src/ is a protocol library except the platform layer,
# the namespace lab (src/lab: it builds real namespaces and runs programs,
# docs/ARCHITECTURE.md) and the program itself: a new directory is covered
# without anyone remembering to add it here.
protocol_dirs=()
for d in src/*/; do
  d=${d%/}
  case "$d" in src/platform|src/cli|src/lab) continue ;; esac
  protocol_dirs+=("$d")
done
[ ${#protocol_dirs[@]} -gt 0 ] || { echo "check_layering: no protocol sources under $root/src"; exit 2; }

pattern='#include[[:space:]]*[<"](platform/|sys/socket\.h|sys/epoll\.h|sys/timerfd\.h|netinet/|linux/if_tun\.h|libmnl/|thread>|random>)'
pattern+='|steady_clock|system_clock|high_resolution_clock|clock_gettime|gettimeofday'
pattern+='|[^_[:alnum:]]time\((NULL|nullptr|0)\)|std::random_device|[^_[:alnum:]]s?rand\(|getrandom\(|/dev/u?random|RAND_bytes'
pattern+='|[^_[:alnum:]:.>]socket\(|epoll_(create|wait|ctl)|std::thread|pthread_create'

violations=$(grep -rnE "$pattern" "${protocol_dirs[@]}" \
  --include='*.h' --include='*.cc' \
  | grep -vE '^[^:]*_test\.cc:' \
  | grep -vE '^src/crypto/random\.(h|cc):' \
  | grep -vE ':[0-9]+:[[:space:]]*//')
if [ -n "$violations" ]; then
  echo "layering violation: protocol code must stay sans-I/O (docs/ARCHITECTURE.md):"
  echo "$violations"
  exit 1
fi
echo "check_layering: ${#protocol_dirs[@]} protocol directories clean"
