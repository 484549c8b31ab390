// Command bench measures cairn against the bare aws-sdk-go-v2 doing the
// same work on the same dynalite, in the same run, and prints the results
// as markdown (docs/benchmarks.md explains the method and holds a run):
//
//   - backup: a `cairn server` backup job (StartBackupJob, timed by the
//     job's CreationDate and CompletionDate) and engine.Backup in this
//     process, against the SDK's parallel Scan with as many segments;
//   - restore: restore jobs with and without the post-restore validation
//     scan against the SDK's BatchWriteItem from as many goroutines as
//     cairn's restore writers, each on a fresh dynalite;
//   - rss: the cairn server's peak resident set (VmHWM) during a backup
//     and a restore of tables of the sizes given, a fresh server (and a
//     fresh dynalite) per measurement.
//
// Runs alternate baseline and cairn, rotating which goes first, and the
// summary takes medians. Everything listens on 127.0.0.1 and every server
// the harness started is stopped when it ends.
//
// Usage (from the repository root; `make bench` runs bench/run.sh):
//
//	go run ./bench -items 100000 -rounds 3 -rss 10000,100000
//	go run ./bench -phases rss -rss 10000,1000000
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	items, rounds, payload, segments, writers, heapMB int
	rss                                               []int
	phases                                            map[string]bool
	testbed, cairn, workDir, out                      string
	keep                                              bool
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}

func main() {
	var o options
	var rss, phases string
	flag.IntVar(&o.items, "items", 100000, "items in the backup and restore comparisons")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds of each comparison (baseline and cairn alternate)")
	flag.IntVar(&o.payload, "payload", 1000, "approximate item size in bytes (ddbjson.RandomItems)")
	flag.IntVar(&o.segments, "segments", 4, "parallel scan segments, for cairn and the baseline")
	flag.IntVar(&o.writers, "writers", 8, "BatchWriteItem goroutines, for cairn's restore_writers and the baseline")
	flag.IntVar(&o.heapMB, "node-heap-mb", 8192, "dynalite's Node heap limit (--max-old-space-size)")
	flag.StringVar(&rss, "rss", "10000,100000", "table sizes for the peak RSS measurements, comma-separated")
	flag.StringVar(&phases, "phases", "backup,restore,rss", "which comparisons to run")
	flag.StringVar(&o.testbed, "testbed", "", "test bed directory (default $CAIRN_TESTBED_DIR or .testbed)")
	flag.StringVar(&o.cairn, "cairn", "", "cairn binary (default: go build ./cmd/cairn into the work dir)")
	flag.StringVar(&o.workDir, "work-dir", "", "directory for data dirs, vaults and logs (default a new temporary one)")
	flag.StringVar(&o.out, "out", "", "also write the markdown report to this file")
	flag.BoolVar(&o.keep, "keep", false, "keep the work dir")
	flag.Parse()
	o.phases = map[string]bool{}
	for _, p := range strings.Split(phases, ",") {
		if p = strings.TrimSpace(p); p != "" {
			o.phases[p] = true
		}
	}
	for _, s := range strings.Split(rss, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "bench: -rss: %q is not a positive number\n", s)
			os.Exit(2)
		}
		o.rss = append(o.rss, n)
	}
	if o.items <= 0 || o.rounds < 1 || o.rounds > 20 || o.segments < 1 || o.writers < 1 {
		fmt.Fprintln(os.Stderr, "bench: -items, -segments and -writers must be positive and -rounds between 1 and 20")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, &o)
	stop()
	stopAll()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o *options) error {
	if o.testbed == "" {
		o.testbed = os.Getenv("CAIRN_TESTBED_DIR")
	}
	if o.testbed == "" {
		o.testbed = ".testbed"
	}
	if o.workDir == "" {
		d, err := os.MkdirTemp("", "cairn-bench-")
		if err != nil {
			return err
		}
		o.workDir = d
		if !o.keep {
			defer os.RemoveAll(d)
		}
	}
	if o.cairn == "" {
		o.cairn = filepath.Join(o.workDir, "cairn")
		logf("building cairn into %s", o.cairn)
		if out, err := exec.Command("go", "build", "-o", o.cairn, "./cmd/cairn").CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cmd/cairn: %v\n%s", err, out)
		}
	}
	r := &report{o: o}
	var rpARN string
	if o.phases["backup"] || o.phases["restore"] {
		var err error
		if rpARN, err = backupPhase(ctx, o, r); err != nil {
			return err
		}
	}
	if o.phases["restore"] {
		if err := restorePhase(ctx, o, r, rpARN); err != nil {
			return err
		}
	}
	if o.phases["rss"] {
		for _, n := range o.rss {
			if err := rssPhase(ctx, o, r, n); err != nil {
				return err
			}
		}
	}
	var w io.Writer = os.Stdout
	if o.out != "" {
		f, err := os.Create(o.out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = io.MultiWriter(os.Stdout, f)
	}
	r.write(w)
	return nil
}

// rotate returns the order of round i: each runner goes first in turn.
func rotate[T any](xs []T, i int) []T {
	i %= len(xs)
	return append(slices.Clone(xs[i:]), xs[:i]...)
}

// backupPhase seeds one dynalite with o.items items and runs the backup
// comparison on it. It returns the last cairn recovery point, which the
// restore phase restores. A backup-only run still seeds and backs up once.
func backupPhase(ctx context.Context, o *options, r *report) (string, error) {
	dyn, err := startDynalite(o.testbed, o.workDir, o.heapMB)
	if err != nil {
		return "", err
	}
	defer dyn.Stop()
	endpoint := "http://" + dyn.addr
	db := sdkClient(endpoint)
	logf("seeding %d items of about %d bytes", o.items, o.payload)
	t0 := time.Now()
	bytes, err := seed(ctx, db, "bench", o.items, o.payload, o.writers)
	if err != nil {
		return "", err
	}
	r.seedRate = float64(o.items) / time.Since(t0).Seconds()
	r.itemBytes = bytes
	dataDir := filepath.Join(o.workDir, "data")
	var rpARN string
	rounds := o.rounds
	if !o.phases["backup"] {
		rounds = 1
	}
	type runner struct {
		name string
		fn   func(round int) (measurement, error)
	}
	runners := []runner{
		{"sdk-scan", func(int) (measurement, error) {
			m, err := sdkScan(ctx, db, "bench", o.segments)
			if err == nil && m.Items != int64(o.items) {
				err = fmt.Errorf("SDK scan read %d items, want %d", m.Items, o.items)
			}
			return m, err
		}},
		{"cairn-api", func(int) (measurement, error) {
			s, err := startCairn(o.cairn, dataDir, endpoint, o.writers)
			if err != nil {
				return measurement{}, err
			}
			defer s.Stop()
			m, arn, err := cairnBackup(ctx, s, "bench", o.segments, o.items)
			rpARN = arn
			return m, err
		}},
		{"cairn-engine", func(round int) (measurement, error) {
			dir := filepath.Join(o.workDir, fmt.Sprintf("engine-vault-%d", round))
			defer os.RemoveAll(dir)
			return engineBackup(ctx, endpoint, "bench", dir, o.segments)
		}},
	}
	if !o.phases["backup"] {
		runners = runners[1:2]
	}
	for round := range rounds {
		for _, rn := range rotate(runners, round) {
			if err := ctx.Err(); err != nil {
				return "", err
			}
			m, err := rn.fn(round)
			if err != nil {
				return "", fmt.Errorf("backup round %d, %s: %w", round+1, rn.name, err)
			}
			logf("backup round %d %-12s %8.0f items/s  %6.2fs  cpu %.2fs  hwm %s", round+1, rn.name, m.rate(), m.Duration.Seconds(), m.CPU.Seconds(), mib(m.HWM))
			r.add("backup", rn.name, round, m)
		}
	}
	return rpARN, nil
}

// restorePhase restores the recovery point with and without validation
// and runs the SDK load of the same items, each on a fresh dynalite:
// dynalite never frees memory, so a shared one would slow later rounds.
func restorePhase(ctx context.Context, o *options, r *report, rpARN string) error {
	logf("generating the baseline's %d items", o.items)
	batches, _, err := allBatches(o.items, o.payload)
	if err != nil {
		return err
	}
	dataDir := filepath.Join(o.workDir, "data")
	type runner struct {
		name string
		fn   func(endpoint, table string) (measurement, error)
	}
	withServer := func(validate bool) func(endpoint, table string) (measurement, error) {
		return func(endpoint, table string) (measurement, error) {
			s, err := startCairn(o.cairn, dataDir, endpoint, o.writers)
			if err != nil {
				return measurement{}, err
			}
			defer s.Stop()
			return cairnRestore(ctx, s, rpARN, table, validate, o.items)
		}
	}
	runners := []runner{
		{"sdk-batchwrite", func(endpoint, table string) (measurement, error) {
			return sdkLoad(ctx, sdkClient(endpoint), table, o.writers, batches)
		}},
		{"cairn-skipvalidation", withServer(false)},
		{"cairn-validated", withServer(true)},
	}
	for round := range o.rounds {
		for _, rn := range rotate(runners, round) {
			if err := ctx.Err(); err != nil {
				return err
			}
			dyn, err := startDynalite(o.testbed, o.workDir, o.heapMB)
			if err != nil {
				return err
			}
			m, err := rn.fn("http://"+dyn.addr, "restored")
			dyn.Stop()
			if err != nil {
				return fmt.Errorf("restore round %d, %s: %w", round+1, rn.name, err)
			}
			logf("restore round %d %-20s %8.0f items/s  %6.2fs  cpu %.2fs  hwm %s %s", round+1, rn.name, m.rate(), m.Duration.Seconds(), m.CPU.Seconds(), mib(m.HWM), m.Note)
			r.add("restore", rn.name, round, m)
		}
	}
	return nil
}

// rssPhase measures the cairn server's VmHWM backing up a table of n items
// and restoring it, a fresh server and data dir for each.
func rssPhase(ctx context.Context, o *options, r *report, n int) error {
	dyn, err := startDynalite(o.testbed, o.workDir, o.heapMB)
	if err != nil {
		return err
	}
	defer dyn.Stop()
	endpoint := "http://" + dyn.addr
	logf("rss %d: seeding", n)
	if _, err := seed(ctx, sdkClient(endpoint), "rss", n, o.payload, o.writers); err != nil {
		return err
	}
	dataDir := filepath.Join(o.workDir, fmt.Sprintf("rss-%d", n))
	defer os.RemoveAll(dataDir)
	s, err := startCairn(o.cairn, dataDir, endpoint, o.writers)
	if err != nil {
		return err
	}
	m, rpARN, err := cairnBackup(ctx, s, "rss", o.segments, n)
	s.Stop()
	if err != nil {
		return fmt.Errorf("rss %d backup: %w", n, err)
	}
	logf("rss %d backup  %8.0f items/s  hwm %s", n, m.rate(), mib(m.HWM))
	r.rss = append(r.rss, rssRow{n, "backup", m})
	dyn.Stop()

	// A fresh dynalite for the restore, so it holds one copy of the table.
	dyn, err = startDynalite(o.testbed, o.workDir, o.heapMB)
	if err != nil {
		return err
	}
	defer dyn.Stop()
	s, err = startCairn(o.cairn, dataDir, "http://"+dyn.addr, o.writers)
	if err != nil {
		return err
	}
	m, err = cairnRestore(ctx, s, rpARN, "rss-restored", true, n)
	s.Stop()
	if err != nil {
		return fmt.Errorf("rss %d restore: %w", n, err)
	}
	logf("rss %d restore %8.0f items/s  hwm %s", n, m.rate(), mib(m.HWM))
	r.rss = append(r.rss, rssRow{n, "restore (validated)", m})
	return nil
}

func mib(b int64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}

func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d cores, %s %s/%s", model, runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
