#!/usr/bin/env bash
# Runs the benchmarks of docs/benchmarks.md (make bench). Extra arguments
# go to the harness, e.g. bash bench/run.sh -rounds 5 -rss 10000,1000000.
# The harness builds its own cairn binary from this checkout, so a stale
# ./cairn is never measured.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./bench "$@"
