#!/usr/bin/env bash
# Keeps the layers of docs/architecture.md apart: the domain does no I/O and
# imports no adapter; blob stores know only bytes and keys; only cmd/ wires.
set -euo pipefail
cd "$(dirname "$0")/.."
mod=$(go list -m)
fail=0
check() { # package, forbidden import regexp, reason[, allowed import regexp]
	local bad
	bad=$(go list -f '{{join .Imports "\n"}}' "$1" | grep -E "$2" | grep -vE "${4:-^$}" || true)
	if [ -n "$bad" ]; then
		echo "layers: $1 must not import $bad ($3)"
		fail=1
	fi
}
check ./internal/backup "^($mod/|net$|net/http|os$|os/exec|database/|github.com/aws)" "the domain does no I/O" "^$mod/internal/schedule$"
check ./internal/audit "^($mod/|net$|net/http|os$|os/exec|database/|github.com/aws)" "control evaluation is pure: the runner gathers what it evaluates" "^$mod/internal/(backup|schedule)$"
check ./internal/schedule "^($mod/|net$|net/http|os$|os/exec|database/|github.com/aws)" "schedules are pure and import nothing of cairn"
for p in ./internal/blob/file ./internal/blob/s3 ./internal/blob/mem; do
	check "$p" "^$mod/internal/(backup|vault|runner|engine)" "blob stores know only bytes and keys"
done
check ./internal/vault "^$mod/internal/(backup|runner|dynamodb|sqlite|awsapi)" "the layout knows nothing of jobs or sources"
for p in $(go list ./internal/...); do
	check "$p" "^$mod/cmd" "only cmd/ wires"
done
check ./internal/verify "^$mod/internal/(runner|sqlite|awsapi|dynamodb|engine|blob/(file|s3|mem))$" "verify reads vaults through the layout; the runner wires it"
check ./internal/awsapi "^$mod/internal/(sqlite|runner|dynamodb|vault|blob)" "the API speaks only to backup.Service"
check ./internal/cfn "^$mod/internal/(sqlite|runner|dynamodb|vault|blob|engine|awsapi)" "templates apply through a backend, never adapters"
check ./internal/postgres "^$mod/internal/(sqlite|runner|awsapi|dynamodb|engine|vault|blob)" "the PostgreSQL catalog is an adapter of backup.Catalog: it shares nothing with the SQLite adapter nor reaches another layer"
check ./internal/sqlite "^$mod/internal/postgres" "the SQLite catalog does not depend on the PostgreSQL one"
check ./internal/rebuild "^$mod/internal/(sqlite|runner|dynamodb|awsapi|engine)" "a rebuild reads vaults and writes through backup.Catalog"
check ./internal/policy "^($mod/|net$|net/http|os$|os/exec|database/|github.com/aws)" "policies are parsed purely, on the domain's types" "^$mod/internal/(backup|schedule)$"
check ./internal/governance "^$mod/internal/(sqlite|runner|awsapi|engine|vault|blob)" "governance reads backups through backup.Service and records through backup.GovernanceStore; the runner alone writes job state"
check ./internal/report "^$mod/internal/(sqlite|runner|awsapi|dynamodb|engine|vault|blob/(file|s3|mem))$" "reports go through backup.Catalog and blob.Store; cmd/ wires the adapters"
check ./internal/notify "^$mod/internal/(sqlite|runner|awsapi|dynamodb|engine|vault|blob)" "notifications read the outbox through the catalog interface and never write job state"
check ./internal/queue "^$mod/internal/" "the job queue knows only the domain: it hands jobs to the runner through a one-method interface" "^$mod/internal/backup$"
check ./internal/metrics "^$mod/internal/" "metrics read through backup.MetricsStore and functions cmd/ wires; the runner calls them through backup.JobObserver" "^$mod/internal/backup$"
check ./internal/console "^$mod/internal/(sqlite|runner|dynamodb|engine|vault|blob|awsapi)" "the console acts only through backup.Service, like the API"
for p in ./internal/notify/webhook ./internal/notify/email; do
	check "$p" "^$mod/internal/" "a target knows only the domain's events and notify's contract" "^$mod/internal/(backup|notify)$"
done
check ./internal/notify/targets "^$mod/internal/(sqlite|runner|awsapi|dynamodb|engine|vault|blob)" "targets are kept through backup.NotificationTargetStore; cmd/ wires the catalog"
check ./internal/pagetoken "^$mod/internal/" "page tokens are pure and know only the domain" "^$mod/internal/backup$"
check ./internal/cluster "^$mod/internal/" "membership and leadership know only the domain: nodes are kept through backup.NodeStore, PostgreSQL's locks reached through pgx; cmd/ wires the catalog" "^$mod/internal/backup$"
exit $fail
