#!/usr/bin/env bash
# make demo: cairn's main job on embedded defaults. Starts dynalite (the test
# bed's DynamoDB-compatible server) and `cairn server` (SQLite catalog, the
# Default vault on local disk), creates an example table, backs it up,
# restores it into a new table, shows the jobs, and protects the table by
# tag with the AWS blog's CloudFormation template. Everything runs on
# loopback; both servers stop when the script ends.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tb=${CAIRN_TESTBED_DIR:-$root/.testbed}
data=${DEMO_DATA_DIR:-$root/demo-data}
rm -rf "$data" && mkdir -p "$data"

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
ddb_port=$(free_port)
api_port=$(free_port)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "starting dynalite on 127.0.0.1:$ddb_port"
node -r "$root/scripts/dynalite-guard.js" "$tb/node_modules/dynalite/cli.js" --host 127.0.0.1 --port "$ddb_port" \
	--createTableMs 0 --deleteTableMs 0 --updateTableMs 0 >"$data/dynalite.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$ddb_port/" >/dev/null 2>&1 && break; sleep 0.1; done

# The DynamoDB source: the AWS SDK's standard configuration, pointed at dynalite.
export AWS_REGION=us-east-1 AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$ddb_port"
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_EC2_METADATA_DISABLED=true
export CAIRN_DATA_DIR="$data" CAIRN_ENDPOINT="http://127.0.0.1:$api_port"

step "creating the example table 'orders' (a GSI, tags, 20,000 items of about 1 KB)"
go run ./scripts/seed -table orders -items 20000

step "starting cairn server on $CAIRN_ENDPOINT (data dir $data)"
./cairn server --listen "127.0.0.1:$api_port" --data-dir "$data" >"$data/cairn.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -f "$data/credentials.json" ] && curl -s "$CAIRN_ENDPOINT/" >/dev/null 2>&1 && break; sleep 0.1; done

step "cairn vault list"
./cairn vault list

step "cairn backup start orders"
./cairn backup start orders

step "cairn point list"
./cairn point list
point=$(./cairn point list | awk 'NR==2{print $1}')   # the short id the table shows

step "cairn restore start $point --table orders-restored --copy-tags"
./cairn restore start "$point" --table orders-restored --copy-tags

step "cairn backup list; cairn restore list"
./cairn backup list
./cairn restore list

step "scheduled, tag-based protection: cairn apply the AWS blog's CloudFormation template"
./cairn apply -f cmd/cairn/testdata/blog-dynamodb-backup.yaml --stack-name demo \
	--parameter TagKey=backup --parameter TagValue=daily

step "cairn explain orders (the table is tagged backup=daily)"
./cairn explain orders

step "cairn plan show BackupPlan_demo (the next runs of the daily 05:00 UTC rule)"
./cairn plan show BackupPlan_demo --runs 3

if command -v aws >/dev/null; then
	step "the same jobs through the unmodified AWS CLI"
	keys=$(python3 -c 'import json,sys;k=json.load(open(sys.argv[1]));print(k["access_key_id"],k["secret_access_key"])' "$data/credentials.json")
	read -r id secret <<<"$keys"
	AWS_ACCESS_KEY_ID=$id AWS_SECRET_ACCESS_KEY=$secret AWS_DEFAULT_REGION=us-east-1 aws backup list-backup-jobs \
		--endpoint-url "$CAIRN_ENDPOINT" --output table \
		--query 'BackupJobs[].{Job:BackupJobId,State:State,Type:ResourceType,Table:ResourceName,Bytes:BackupSizeInBytes}'
fi
step "done: the server log is $data/cairn.log"
