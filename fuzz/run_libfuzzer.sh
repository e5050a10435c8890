#!/bin/sh
# run_libfuzzer.sh BINARY SEED_DIR WORK_DIR SECONDS
# A bounded libFuzzer run for ctest: the seeds are copied into a fresh
# WORK_DIR/corpus (libFuzzer adds what it finds there), crash/leak
# reproducers go to WORK_DIR/artifacts/, and the exit status is libFuzzer's.
set -eu
bin=$1 seeds=$2 work=$3 seconds=$4
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
cp "$seeds"/* "$work/corpus/"
exec "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus"
