#!/usr/bin/env bash
# Installs the test bed into .testbed/ (or $CAIRN_TESTBED_DIR): what cairn's
# tests run against. Idempotent: what is already there is kept.
#
#   scripts/testbed.sh              everything `make test` needs
#   scripts/testbed.sh dynalite     only dynalite (what `make demo` needs)
#
# Parts: dynalite (npm), versitygw and staticcheck (Go module proxy), the AWS
# CLI, promtool and Chromium (Debian's awscli, prometheus and chromium
# packages, installed with apt-get when missing), PostgreSQL (Debian's
# postgresql package, likewise when initdb is missing; the tests initdb
# their own throwaway clusters), and a check for moto_server, which
# comes from Python's package index: the README's
# "Test bed" section says how to install it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${CAIRN_TESTBED_DIR:-$root/.testbed}
mkdir -p "$dir/bin"

# The one command that installs moto; internal/testbed's error says it too.
moto_install='pip install "moto[server]==5.2.1"'

dynalite() {
	if [ ! -f "$dir/node_modules/dynalite/cli.js" ]; then
		echo "testbed: installing dynalite 4.0.0 into $dir" >&2
		(cd "$dir" && { [ -f package.json ] || echo '{"private":true}' >package.json; } &&
			npm install --no-audit --no-fund --loglevel=error --save-exact dynalite@4.0.0 >&2)
	fi
}

versitygw() {
	if [ ! -x "$dir/bin/versitygw" ]; then
		echo "testbed: installing versitygw v1.8.0 into $dir/bin (takes a few minutes on cold caches)" >&2
		GOBIN="$dir/bin" GOFLAGS=-buildvcs=false go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
	fi
}

staticcheck() {
	if [ ! -x "$dir/bin/staticcheck" ]; then
		echo "testbed: installing staticcheck into $dir/bin" >&2
		GOBIN="$dir/bin" go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	fi
}

# The AWS CLI tests need `aws`. Debian's awscli package (aws-cli 2.9.19 on
# Debian 12) works with them: they pass --endpoint-url, which it honours
# (it ignores AWS_ENDPOINT_URL).
awscli() {
	command -v aws >/dev/null 2>&1 && return
	local sudo=""
	[ "$(id -u)" = 0 ] || sudo="sudo"
	if command -v apt-get >/dev/null 2>&1 && { [ -z "$sudo" ] || command -v sudo >/dev/null 2>&1; }; then
		echo "testbed: installing the AWS CLI (Debian package awscli) with apt-get" >&2
		$sudo apt-get update -qq >&2 || true
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq awscli >&2
	else
		echo "testbed: the AWS CLI (aws) is missing and apt-get is not available: install the AWS CLI" >&2
		return 1
	fi
}

# The metrics tests check the alerting rules with promtool and run them in
# a real Prometheus server; Debian's prometheus package provides both
# (Prometheus 2.42 on Debian 12; its service is not needed).
promtool() {
	command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 && return
	aptinstall prometheus promtool
}

# The console's browser tests drive Debian's Chromium headless
# (internal/testbed.Chromium); browser downloads of test tools fail here.
chromium() {
	{ command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; } && return
	aptinstall chromium Chromium
}

# aptinstall PACKAGE COMMAND installs a Debian package with apt-get (as
# root, or through sudo).
aptinstall() {
	local sudo=""
	[ "$(id -u)" = 0 ] || sudo="sudo"
	if command -v apt-get >/dev/null 2>&1 && { [ -z "$sudo" ] || command -v sudo >/dev/null 2>&1; }; then
		echo "testbed: installing $2 (Debian package $1) with apt-get" >&2
		$sudo apt-get update -qq >&2 || true
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$1" >&2
	else
		echo "testbed: $2 is missing and apt-get is not available: install $2 (Debian package $1)" >&2
		return 1
	fi
}

# PostgreSQL's server programs, for the PostgreSQL catalog's tests
# (internal/testbed starts a cluster per test). Debian keeps them in
# /usr/lib/postgresql/VERSION/bin. The package's own cluster is not made:
# the tests need none, and it would be a server left running.
postgres() {
	if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then
		return
	fi
	local sudo=""
	[ "$(id -u)" = 0 ] || sudo="sudo"
	if command -v apt-get >/dev/null 2>&1 && { [ -z "$sudo" ] || command -v sudo >/dev/null 2>&1; }; then
		echo "testbed: installing PostgreSQL (Debian package postgresql) with apt-get" >&2
		$sudo mkdir -p /etc/postgresql-common/createcluster.d
		echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.d/cairn-testbed.conf >/dev/null
		$sudo apt-get update -qq >&2 || true
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >&2
	else
		echo "testbed: PostgreSQL (initdb) is missing and apt-get is not available: install PostgreSQL" >&2
		return 1
	fi
}

moto() {
	if ! command -v moto_server >/dev/null 2>&1; then
		echo "testbed: moto_server is missing; the tests against moto need it. Install it with: $moto_install" >&2
		[ "${CI:-}" != true ] || return 1
	fi
}

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(dynalite versitygw staticcheck awscli promtool chromium postgres moto)
for p in "${parts[@]}"; do
	case $p in
	dynalite | versitygw | staticcheck | awscli | promtool | chromium | postgres | moto) "$p" ;;
	*)
		echo "testbed: unknown part $p (dynalite, versitygw, staticcheck, awscli, promtool, chromium, postgres, moto)" >&2
		exit 2
		;;
	esac
done
echo "$dir"
