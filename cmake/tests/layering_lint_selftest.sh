#!/usr/bin/env bash
# Feeds scripts/check_layering.sh small trees: a clean one must pass, and each
# kind of violation must be reported.
set -uo pipefail
lint=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

mk() {  # mk DIR FILE CONTENT
  rm -rf "$tmp/tree"; mkdir -p "$tmp/tree/$1"
  printf '%s\n' "$3" > "$tmp/tree/$1/$2"
}
expect() {  # expect pass|fail LABEL
  if "$lint" "$tmp/tree" >/dev/null 2>&1; then got=pass; else got=fail; fi
  if [ "$got" != "$1" ]; then echo "FAIL: $2: expected $1, got $got"; fail=1; else echo "ok: $2"; fi
}

mk src/mip4 ha.cc '#include "common/wire/reader.h"
int f(int t) { return t; }  // time is passed in'
expect pass "clean protocol code"
mk src/mip4 ha.cc '#include "platform/linux/udp.h"'
expect fail "platform include"
mk src/ikev2 sa.cc '#include <sys/socket.h>'
expect fail "socket header"
mk src/esp sa.cc 'auto t = std::chrono::steady_clock::now();'
expect fail "clock read"
mk src/mn c.cc 'int s = socket(AF_INET, SOCK_DGRAM, 0);'
expect fail "socket call"
mk src/sim r.cc 'std::random_device rd;'
expect fail "OS randomness"
mk src/common x.cc 'long t = time(nullptr);'
expect fail "time()"
mk src/mip4 ha_test.cc '#include "platform/linux/udp.h"'
expect pass "tests are exempt"
exit $fail
