#!/bin/bash
# ctest install_layout: `cmake --install` into a temporary DESTDIR and check
# what it laid out. Usage:
#   check_install.sh <cmake> <build dir> <source examples dir> <binary path>
#                    <doc dir> <unit dir> <config dir> "<daemon;...>"
# (paths as installed, without DESTDIR). systemd-analyze verify runs on the
# units when it is available; otherwise that part is skipped, and says so.
set -u
cmake_bin=$1 build=$2 examples=$3 binary=$4 docdir=$5 unitdir=$6 confdir=$7
IFS=';' read -r -a daemons <<< "$8"

stage=$(mktemp -d /tmp/mipsec-install-XXXXXX)
trap 'rm -rf "$stage"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

if ! DESTDIR="$stage" "$cmake_bin" --install "$build" > "$stage.log" 2>&1; then
  cat "$stage.log"; rm -f "$stage.log"
  echo "FAIL: cmake --install"; exit 1
fi
rm -f "$stage.log"

# The program.
bin="$stage$binary"
[ -f "$bin" ] && [ -x "$bin" ] || bad "$binary missing or not executable"
help=$("$bin" --help 2>&1) || bad "$binary --help failed"

# Every example file, byte for byte.
n=0
while IFS= read -r -d '' f; do
  rel=${f#"$examples"/}
  cmp -s "$f" "$stage$docdir/examples/$rel" || bad "example $rel not installed under $docdir/examples"
  n=$((n + 1))
done < <(find "$examples" -type f -print0)
[ "$n" -gt 0 ] || bad "no example found in $examples"
for f in ha.toml fa.toml gw.toml keys; do
  [ -e "$stage$docdir/examples/$f" ] || bad "examples/$f missing"
done

# One unit per daemon, running an existing subcommand.
for d in "${daemons[@]}"; do
  unit="$stage$unitdir/mipsec-$d.service"
  if [ ! -f "$unit" ]; then bad "unit mipsec-$d.service missing in $unitdir"; continue; fi
  want="ExecStart=$binary $d --config $confdir/$d.toml"
  grep -qxF "$want" "$unit" || bad "mipsec-$d.service: no line '$want'"
  grep -qxF 'ExecReload=/bin/kill -HUP $MAINPID' "$unit" || bad "mipsec-$d.service: ExecReload"
  grep -qx 'RuntimeDirectory=mipsec' "$unit" || bad "mipsec-$d.service: RuntimeDirectory"
  grep -qx 'RuntimeDirectoryMode=0700' "$unit" || bad "mipsec-$d.service: RuntimeDirectoryMode"
  grep -qx 'DeviceAllow=/dev/net/tun rw' "$unit" || bad "mipsec-$d.service: DeviceAllow"
  grep -q '@' "$unit" && bad "mipsec-$d.service: unsubstituted @VARIABLE@"
  # The subcommand is one the program has (its --help lists it, and it
  # accepts --config).
  grep -qE "^ +$d( |$)" <<< "$help" || bad "mipsec --help lists no subcommand '$d'"
  "$bin" "$d" --help 2>&1 | grep -q -- '--config' || bad "mipsec $d --help has no --config"
done
echo "checked: $binary, $n example files, units: ${daemons[*]}"

# systemd's own parser, with ExecStart pointed at the staged binary (verify
# insists that the program exists).
if command -v systemd-analyze > /dev/null; then
  vdir="$stage/verify"
  mkdir -p "$vdir"
  for d in "${daemons[@]}"; do
    sed "s|^ExecStart=$binary |ExecStart=$bin |" "$stage$unitdir/mipsec-$d.service" > "$vdir/mipsec-$d.service"
  done
  out=$(cd "$vdir" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "$vdir"/*.service 2>&1)
  # Only complaints about our units count (the host's own units may be
  # incomplete in a container).
  ours=$(grep -E 'mipsec-(ha|fa|gw|mn)\.service' <<< "$out" | grep -v "network-online.target")
  if [ -n "$ours" ]; then
    echo "$out"; bad "systemd-analyze verify"
  else
    echo "systemd-analyze verify: units accepted"
  fi
else
  echo "SKIPPED: systemd-analyze not installed, units not verified by systemd"
fi

[ "$fail" -eq 0 ] && echo "install layout OK"
exit "$fail"
