package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/runner"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// BenchmarkQueueNodes backs up 30 tables spread over three dynalites (one
// per node, each its own region, so each is a source of its own) once
// with one node and once with three nodes on one PostgreSQL catalog, each
// node with max_jobs 4 and its own River client, and reports the items
// backed up per second of each run and their ratio. Run it alone:
//
//	go test -run '^$' -bench BenchmarkQueueNodes -benchtime 1x ./cmd/cairn/
//
// CAIRN_BENCH_ITEMS sets the items per table (default 3000, 1 KB each).
func BenchmarkQueueNodes(b *testing.B) {
	items := 3000
	if v, err := strconv.Atoi(os.Getenv("CAIRN_BENCH_ITEMS")); err == nil && v > 0 {
		items = v
	}
	const servers, tables = 3, 30
	var sources []*runner.Source
	var arns []string
	for i := range servers {
		dyn := testbed.Dynalite(b)
		region := fmt.Sprintf("us-east-%d", i+1)
		sources = append(sources, nodeSource(b, region, dyn.Endpoint))
		db := ddbClient(dyn.Endpoint)
		for k := i; k < tables; k += servers {
			name := fmt.Sprintf("bench%02d", k)
			createTable(b, db, name, ddbjson.TypeS, false)
			seedRandom(b, db, name, items)
			arns = append(arns, backup.TableARN(region, "000000000000", name))
		}
	}
	pg := testbed.PostgresServer(b)
	run := func(nodes int) time.Duration {
		b.Helper()
		ns := startQueueNodes(b, pg.NewDatabase(b), sources, filepath.Join(b.TempDir(), "data"), nodes, 4)
		start := time.Now()
		var ids []string
		for _, arn := range arns {
			j, err := ns[0].svc.StartBackupJob(context.Background(), backup.StartBackupJobInput{VaultName: "Default", IAMRoleARN: role, ResourceARN: arn})
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, j.ID)
		}
		ran := map[string]int{}
		for _, j := range waitQueuedJobs(b, ns[0].svc, ids) {
			if j.State != backup.JobCompleted || j.ItemCount != int64(items) {
				b.Fatalf("job %s: %s %q", j.ID, j.State, j.StatusMessage)
			}
			ran[j.Owner]++
		}
		took := time.Since(start)
		b.Logf("%d node(s): %d jobs of %d items in %v (%.0f items/s), jobs per node %v",
			nodes, len(ids), items, took.Round(time.Millisecond), float64(len(ids)*items)/took.Seconds(), ran)
		return took
	}
	for b.Loop() {
		one := run(1)
		three := run(3)
		total := float64(tables * items)
		b.ReportMetric(total/one.Seconds(), "items/s-1-node")
		b.ReportMetric(total/three.Seconds(), "items/s-3-nodes")
		b.ReportMetric(one.Seconds()/three.Seconds(), "speedup")
	}
}
