# cairn: the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
GO ?= go
TESTBED ?= $(CURDIR)/.testbed
export CAIRN_TESTBED_DIR := $(TESTBED)

.PHONY: build test testbed demo-testbed lint demo bench bench-backup clean

build:
	$(GO) build -o cairn ./cmd/cairn

# Installs the test bed (dynalite, versitygw, staticcheck, the AWS CLI) from
# the registries and checks for moto_server (see the README's "Test bed").
testbed:
	bash scripts/testbed.sh

# The demo needs only dynalite.
demo-testbed:
	bash scripts/testbed.sh dynalite

lint: testbed
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(TESTBED)/bin/staticcheck ./...
	bash scripts/layers.sh

# Every test: lint, unit tests, integration tests against the real test bed,
# the AWS CLI tests and the crash tests. CI=true turns a missing server into
# a failure.
test: lint
	$(GO) test -count=1 -timeout 40m ./...

# The main job on embedded defaults: starts dynalite and cairn, backs a table
# up and restores it, and shows the jobs. Installs only dynalite.
demo: demo-testbed build
	bash scripts/demo.sh

# Benchmarks of docs/benchmarks.md (takes several minutes).
bench: testbed build
	bash bench/run.sh

# The backup side by side (docs/benchmarks.md, issue 8 item 18): the bare
# SDK scan, the same scan after the four calls that record a table's
# settings (sdk-describe-scan) and cairn's backup job alternating in 7
# rounds on one dynalite, with the CPU per item of each and dynalite's. COMPARE=REV adds the build of a git
# revision (or a binary) to every round.
bench-backup: testbed
	bash bench/run.sh -phases backup -rounds 7 -backup-runs sdk-scan,sdk-describe-scan,cairn-api $(if $(COMPARE),-compare $(COMPARE))

clean:
	rm -rf cairn demo-data
