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
	// profileDir, if set, receives CPU profiles of every backup run:
	// the cairn server's during the job (a cairnprof build) and the
	// harness's during the SDK scan and the in-process engine.
	profileDir string
	// compare, if set, is a second cairn binary whose backup and restore
	// jobs run beside the first one's in every round (-compare).
	compare string
	// backupRuns names the backup runners (sdk-scan, cairn-api,
	// cairn-engine).
	backupRuns map[string]bool
	// callgrindDir, if set, runs every cairn server under valgrind's
	// callgrind and receives the instruction counts of each backup job.
	callgrindDir string
	// compareRP is the last recovery point the compare binary made.
	compareRP string
	// The notification burst (notify.go): tables, jobs in all, items
	// per table.
	notifyTables, notifyJobs, notifyItems int
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
	flag.StringVar(&phases, "phases", "backup,restore,rss", "which comparisons to run (backup, restore, rss, notify)")
	flag.StringVar(&o.testbed, "testbed", "", "test bed directory (default $CAIRN_TESTBED_DIR or .testbed)")
	flag.StringVar(&o.cairn, "cairn", "", "cairn binary (default: go build ./cmd/cairn into the work dir)")
	flag.StringVar(&o.workDir, "work-dir", "", "directory for data dirs, vaults and logs (default a new temporary one)")
	flag.StringVar(&o.out, "out", "", "also write the markdown report to this file")
	flag.BoolVar(&o.keep, "keep", false, "keep the work dir")
	flag.StringVar(&o.profileDir, "cpuprofile", "", "write CPU profiles of the server during each backup run and notification burst run into this directory (builds cairn with -tags cairnprof)")
	flag.StringVar(&o.compare, "compare", "", "a second cairn, a binary or a git revision to build (e.g. main), measured beside the first in every round")
	var backupRuns string
	flag.StringVar(&backupRuns, "backup-runs", "sdk-scan,cairn-api,cairn-engine", "which backup runs to make in each round (sdk-scan, sdk-describe-scan, cairn-api, cairn-engine)")
	flag.StringVar(&o.callgrindDir, "callgrind", "", "run cairn server under valgrind --tool=callgrind and write each backup job's instruction counts into this directory")
	flag.IntVar(&o.notifyTables, "notify-tables", 200, "notify: tables, one job on each per wave")
	flag.IntVar(&o.notifyJobs, "notify-jobs", 3400, "notify: backup jobs per run (about 3 events each: started, completed, successful)")
	flag.IntVar(&o.notifyItems, "notify-items", 20, "notify: items per table")
	flag.Parse()
	o.phases, o.backupRuns = set(phases), set(backupRuns)
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

// set returns the comma-separated words of list.
func set(list string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Split(list, ",") {
		if w = strings.TrimSpace(w); w != "" {
			m[w] = true
		}
	}
	return m
}

// buildCairn builds ./cmd/cairn of the checkout at dir into out.
func buildCairn(o *options, dir, out string) error {
	args := []string{"build", "-o", out}
	if o.profileDir != "" {
		args = append(args, "-tags", "cairnprof")
	}
	cmd := exec.Command("go", append(args, "./cmd/cairn")...)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/cairn in %s: %v\n%s", dir, err, b)
	}
	return nil
}

// buildRevision builds cairn as of git revision rev into out.
func buildRevision(o *options, rev, out string) error {
	src := filepath.Join(o.workDir, "src-"+strings.NewReplacer("/", "_", ".", "_").Replace(rev))
	if err := os.MkdirAll(src, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(src)
	archive := exec.Command("bash", "-c", `git archive "$1" | tar -x -C "$2"`, "archive", rev, src)
	if b, err := archive.CombinedOutput(); err != nil {
		return fmt.Errorf("git archive %s: %v\n%s", rev, err, b)
	}
	return buildCairn(o, src, out)
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
	for _, d := range []string{o.profileDir, o.callgrindDir} {
		if d != "" {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
	}
	if o.cairn == "" {
		o.cairn = filepath.Join(o.workDir, "cairn")
		logf("building cairn into %s", o.cairn)
		if err := buildCairn(o, ".", o.cairn); err != nil {
			return err
		}
	}
	if o.compare != "" {
		if st, err := os.Stat(o.compare); err != nil || st.IsDir() {
			rev := o.compare
			o.compare = filepath.Join(o.workDir, "cairn-compare")
			logf("building cairn as of %s into %s", rev, o.compare)
			if err := buildRevision(o, rev, o.compare); err != nil {
				return err
			}
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
	if o.phases["notify"] {
		if err := notifyPhase(ctx, o, r); err != nil {
			return err
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
	var rpARN string
	rounds := o.rounds
	if !o.phases["backup"] {
		rounds = 1
	}
	type runner struct {
		name string
		fn   func(round int) (measurement, error)
	}
	apiRun := func(name, bin string) runner {
		return runner{name, func(round int) (measurement, error) {
			s, err := startCairn(o, bin, o.dataDir(bin), endpoint)
			if err != nil {
				return measurement{}, err
			}
			defer s.Stop()
			m, arn, err := cairnBackup(ctx, s, "bench", o.segments, o.items, o.profilePath(name, round))
			if bin == o.cairn {
				rpARN = arn
			} else {
				o.compareRP = arn
			}
			return m, err
		}}
	}
	all := []runner{
		{"sdk-scan", func(round int) (measurement, error) {
			m, err := profileSelf(o.profilePath("sdk-scan", round), func() (measurement, error) { return sdkScan(ctx, db, "bench", o.segments) })
			if err == nil && m.Items != int64(o.items) {
				err = fmt.Errorf("SDK scan read %d items, want %d", m.Items, o.items)
			}
			return m, err
		}},
		{"sdk-describe-scan", func(round int) (measurement, error) {
			m, err := profileSelf(o.profilePath("sdk-describe-scan", round), func() (measurement, error) {
				return sdkDescribeScan(ctx, db, "bench", o.segments)
			})
			if err == nil && m.Items != int64(o.items) {
				err = fmt.Errorf("SDK scan read %d items, want %d", m.Items, o.items)
			}
			return m, err
		}},
		apiRun("cairn-api", o.cairn),
		{"cairn-engine", func(round int) (measurement, error) {
			dir := filepath.Join(o.workDir, fmt.Sprintf("engine-vault-%d", round))
			defer os.RemoveAll(dir)
			return profileSelf(o.profilePath("cairn-engine", round), func() (measurement, error) {
				return engineBackup(ctx, endpoint, "bench", dir, o.segments)
			})
		}},
	}
	if o.compare != "" {
		all = append(all, apiRun("cairn-api-compare", o.compare))
	}
	var runners []runner
	for _, rn := range all {
		if !o.phases["backup"] {
			// Only the recovery points the restore phase needs.
			if rn.name == "cairn-api" || rn.name == "cairn-api-compare" {
				runners = append(runners, rn)
			}
		} else if o.backupRuns[strings.TrimSuffix(rn.name, "-compare")] {
			runners = append(runners, rn)
			r.backupNames = append(r.backupNames, rn.name)
		}
	}
	for round := range rounds {
		for _, rn := range rotate(runners, round) {
			if err := ctx.Err(); err != nil {
				return "", err
			}
			dyn0 := dyn.cpu()
			m, err := rn.fn(round)
			if err != nil {
				return "", fmt.Errorf("backup round %d, %s: %w", round+1, rn.name, err)
			}
			m.DynCPU = dyn.cpu() - dyn0
			logf("backup round %d %-17s %8.0f items/s  %6.2fs  cpu %.2fs (sys %.2fs) %4.1f µs/item  hwm %s  dynalite %.2fs (%.0f %%)%s%s", round+1, rn.name, m.rate(), m.Duration.Seconds(), m.CPU.Seconds(), m.Sys.Seconds(), m.usPerItem(), mib(m.HWM),
				m.DynCPU.Seconds(), 100*m.dynBusy(), m.phaseNote(), m.instrNote())
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
	type runner struct {
		name string
		fn   func(endpoint, table string) (measurement, error)
	}
	withServer := func(bin string, validate bool) func(endpoint, table string) (measurement, error) {
		return func(endpoint, table string) (measurement, error) {
			s, err := startCairn(o, bin, o.dataDir(bin), endpoint)
			if err != nil {
				return measurement{}, err
			}
			defer s.Stop()
			rp := rpARN
			if bin != o.cairn {
				rp = o.compareRP
			}
			return cairnRestore(ctx, s, rp, table, validate, o.items)
		}
	}
	runners := []runner{
		{"sdk-batchwrite", func(endpoint, table string) (measurement, error) {
			return sdkLoad(ctx, sdkClient(endpoint), table, o.writers, batches)
		}},
		{"cairn-skipvalidation", withServer(o.cairn, false)},
		{"cairn-validated", withServer(o.cairn, true)},
	}
	if o.compare != "" {
		runners = append(runners, runner{"cairn-skipvalidation-compare", withServer(o.compare, false)},
			runner{"cairn-validated-compare", withServer(o.compare, true)})
	}
	for _, rn := range runners {
		r.restoreNames = append(r.restoreNames, rn.name)
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
			logf("restore round %d %-28s %8.0f items/s  %6.2fs  cpu %.2fs (sys %.2fs) %4.1f µs/item  hwm %s %s", round+1, rn.name, m.rate(), m.Duration.Seconds(), m.CPU.Seconds(), m.Sys.Seconds(), m.usPerItem(), mib(m.HWM), m.Note)
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
	s, err := startCairn(o, o.cairn, dataDir, endpoint)
	if err != nil {
		return err
	}
	m, rpARN, err := cairnBackup(ctx, s, "rss", o.segments, n, "")
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
	s, err = startCairn(o, o.cairn, dataDir, "http://"+dyn.addr)
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

// dynBusy is the share of the run's time dynalite spent on the CPU.
func (m measurement) dynBusy() float64 { return m.DynCPU.Seconds() / m.Duration.Seconds() }

// phaseNote reports a cairn job's phases.
func (m measurement) phaseNote() string {
	if m.Scan == 0 {
		return ""
	}
	return fmt.Sprintf("  before scan %.3fs, scan %.3fs (%.0f items/s), after %.3fs", m.Pre.Seconds(), m.Scan.Seconds(),
		float64(m.Items)/m.Scan.Seconds(), m.Post.Seconds())
}

// instrNote reports the server's instructions per item when counted.
func (m measurement) instrNote() string {
	if m.Instr == 0 {
		return ""
	}
	return fmt.Sprintf("  %.0f instructions/item", float64(m.Instr)/float64(m.Items))
}

// dataDir is the data dir of the servers of binary bin: one per binary, so
// that neither opens a catalog the other migrated.
func (o *options) dataDir(bin string) string {
	if bin == o.compare {
		return filepath.Join(o.workDir, "data-compare")
	}
	return filepath.Join(o.workDir, "data")
}

// profilePath is where run name of round (from 0) writes its CPU profile;
// "" when not profiling.
func (o *options) profilePath(name string, round int) string {
	if o.profileDir == "" {
		return ""
	}
	return filepath.Join(o.profileDir, fmt.Sprintf("%s-%d.pprof", name, round+1))
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
