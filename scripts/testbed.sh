#!/usr/bin/env bash
# Installs the test bed into .testbed/ (or $CAIRN_TESTBED_DIR): dynalite from
# the npm registry and versitygw from the Go module proxy. Idempotent: what is
# already there is kept. See ../shared/TESTBED.md for what each server is.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${CAIRN_TESTBED_DIR:-$root/.testbed}
mkdir -p "$dir/bin"

if [ ! -f "$dir/node_modules/dynalite/cli.js" ]; then
	echo "testbed: installing dynalite 4.0.0 into $dir" >&2
	(cd "$dir" && { [ -f package.json ] || echo '{"private":true}' >package.json; } &&
		npm install --no-audit --no-fund --loglevel=error --save-exact dynalite@4.0.0 >&2)
fi

if [ ! -x "$dir/bin/versitygw" ]; then
	echo "testbed: installing versitygw v1.8.0 into $dir/bin (takes a few minutes on cold caches)" >&2
	GOBIN="$dir/bin" GOFLAGS=-buildvcs=false go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
fi

if [ ! -x "$dir/bin/staticcheck" ]; then
	echo "testbed: installing staticcheck into $dir/bin" >&2
	GOBIN="$dir/bin" go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi

if ! command -v aws >/dev/null 2>&1; then
	echo "testbed: the AWS CLI is not on PATH; the AWS CLI tests need it (see ../shared/TESTBED.md)" >&2
fi
echo "$dir"
