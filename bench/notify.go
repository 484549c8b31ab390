package main

// The notification burst (docs/benchmarks.md, "Notifications", issue 10):
// many small backup jobs, with and without a webhook target, in the same
// run. Each round starts a fresh `cairn server` per setting (off: no
// targets; on: one webhook target that wants every event) on the same
// dynalite and runs the same jobs in waves of one job per table; a
// receiver on loopback checks each request's signature and counts the
// events. Measured: jobs/s of each setting (the jobs' own CreationDate to
// CompletionDate, server clock), events delivered and their rate (first
// to last arrival), how long delivery went on after the last job ended,
// and the server's peak RSS.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	bktypes "github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cairn-backup/cairn/internal/notify/webhook"
)

// notifyTarget is the jobs/s ratio (on/off) the issue asks for.
const notifyTarget = 0.95

const receiverSecret = "bench-webhook-secret"

// receiver is the webhook endpoint: it verifies every request as a
// receiver would and counts events.
type receiver struct {
	srv  *http.Server
	url  string
	mu   sync.Mutex
	seen map[string]int // event id -> deliveries
	n    int            // requests
	bad  int            // bad signatures
	t0   time.Time      // first arrival
	t1   time.Time      // last arrival
}

func startReceiver() (*receiver, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{url: "http://" + l.Addr().String() + "/cairn", seen: map[string]int{}}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(l) }()
	return r, nil
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, q *http.Request) {
	body, err := io.ReadAll(io.LimitReader(q.Body, 1<<20))
	now := time.Now()
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	ok := webhook.Verify([]byte(receiverSecret), q.Header.Get(webhook.HeaderTimestamp), q.Header.Get(webhook.HeaderSignature),
		body, now, 5*time.Minute) == nil
	r.mu.Lock()
	r.n++
	if !ok {
		r.bad++
	} else {
		r.seen[q.Header.Get(webhook.HeaderEventID)]++
	}
	if r.t0.IsZero() {
		r.t0 = now
	}
	r.t1 = now
	r.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen, r.n, r.bad, r.t0, r.t1 = map[string]int{}, 0, 0, time.Time{}, time.Time{}
}

type receiverCounts struct {
	requests, events, duplicates, bad int
	first, last                       time.Time
}

func (r *receiver) counts() receiverCounts {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := receiverCounts{requests: r.n, events: len(r.seen), bad: r.bad, first: r.t0, last: r.t1}
	for _, k := range r.seen {
		c.duplicates += k - 1
	}
	return c
}

func (r *receiver) close() { _ = r.srv.Close() }

// notifyRun is one setting's run in one round.
type notifyRun struct {
	round    int
	on       bool
	jobs     int
	elapsed  time.Duration // first job's creation to last job's completion
	lastDone time.Time     // server clock
	rx       receiverCounts
	drain    time.Duration // last job's completion to last event's arrival
	hwm      int64
	cpu      time.Duration
}

func (n notifyRun) jobsPerSec() float64 { return float64(n.jobs) / n.elapsed.Seconds() }

// cpuPerJob is the server's CPU time (user and system) per job, in ms.
func (n notifyRun) cpuPerJob() float64 { return float64(n.cpu.Milliseconds()) / float64(n.jobs) }

func (n notifyRun) deliveryRate() float64 {
	if n.rx.events < 2 {
		return 0
	}
	return float64(n.rx.events) / n.rx.last.Sub(n.rx.first).Seconds()
}

func notifyPhase(ctx context.Context, o *options, r *report) error {
	dyn, err := startDynalite(o.testbed, o.workDir, o.heapMB)
	if err != nil {
		return err
	}
	defer dyn.Stop()
	endpoint := "http://" + dyn.addr
	db := sdkClient(endpoint)
	tables := make([]string, o.notifyTables)
	logf("notify: creating %d tables of %d items", len(tables), o.notifyItems)
	for i := range tables {
		tables[i] = fmt.Sprintf("n%04d", i)
		if _, err := seed(ctx, db, tables[i], o.notifyItems, 200, 2); err != nil {
			return err
		}
	}
	rx, err := startReceiver()
	if err != nil {
		return err
	}
	defer rx.close()
	onConfig := fmt.Sprintf("notifications:\n  targets:\n    - name: bench\n      webhook:\n        url: %s\n        secret: %s\n",
		rx.url, receiverSecret)
	var dirs []string
	defer func() {
		for _, d := range dirs {
			_ = os.RemoveAll(d)
		}
	}()
	for round := range o.rounds {
		for _, on := range rotate([]bool{false, true}, round) {
			if err := ctx.Err(); err != nil {
				return err
			}
			dir := filepath.Join(o.workDir, fmt.Sprintf("notify-%d-%v", round, on))
			extra := ""
			if on {
				extra = onConfig
			}
			s, err := startCairnWith(o, o.cairn, dir, endpoint, extra)
			if err != nil {
				return err
			}
			rx.reset()
			if err := s.startProfile(); err != nil {
				s.Stop()
				return err
			}
			before := s.stats()
			run, err := runJobWaves(ctx, s, tables, o.notifyJobs)
			if err == nil && on {
				waitQuiet(ctx, rx, 5*time.Second, 10*time.Minute)
			}
			after := s.stats()
			if perr := s.stopProfile(o.profilePath(fmt.Sprintf("notify-%s", onOff(on)), round)); perr != nil && err == nil {
				err = perr
			}
			s.Stop()
			// The data dir is removed at the end of the phase, not now:
			// ext4 (without a journal, as here) skips inodes deleted in
			// the last minutes when it makes a file, so the next run's
			// every file creation would scan past this run's thousands of
			// deleted inodes (the profile showed up to 18 s of server CPU
			// in openat), a cost that fell on whichever setting came
			// next.
			dirs = append(dirs, dir)
			if err != nil {
				return fmt.Errorf("notify round %d (notifications %v): %w", round+1, on, err)
			}
			run.round, run.on, run.rx, run.hwm = round, on, rx.counts(), after.HWM
			run.cpu = after.CPU.user + after.CPU.sys - before.CPU.user - before.CPU.sys
			if on && !run.rx.last.IsZero() {
				run.drain = run.rx.last.Sub(run.lastDone)
			}
			logf("notify round %d notifications=%-5v %5d jobs in %6.2fs: %6.1f jobs/s; %d events (%d duplicates, %d bad) at %.0f/s, drained %.2fs after the last job; hwm %s",
				round+1, on, run.jobs, run.elapsed.Seconds(), run.jobsPerSec(), run.rx.events, run.rx.duplicates, run.rx.bad,
				run.deliveryRate(), run.drain.Seconds(), mib(run.hwm))
			r.notify = append(r.notify, run)
		}
	}
	return nil
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// runJobWaves starts jobs backup jobs, one per table at a time: a wave
// starts a job on every table (fewer in the last) and ends when all of
// them have ended.
func runJobWaves(ctx context.Context, s *cairnServer, tables []string, jobs int) (notifyRun, error) {
	var run notifyRun
	var first, last time.Time
	for left := jobs; left > 0; {
		wave := min(left, len(tables))
		ids := make([]string, 0, wave)
		for _, t := range tables[:wave] {
			out, err := s.client.StartBackupJob(ctx, &bk.StartBackupJobInput{BackupVaultName: aws.String("Default"),
				ResourceArn: aws.String(tableARN(t)), IamRoleArn: aws.String(role)})
			if err != nil {
				return run, fmt.Errorf("StartBackupJob %s: %w", t, err)
			}
			ids = append(ids, aws.ToString(out.BackupJobId))
		}
		pending := slices.Clone(ids)
		deadline := time.Now().Add(10 * time.Minute)
		for len(pending) > 0 {
			if time.Now().After(deadline) {
				return run, fmt.Errorf("%d jobs of a wave did not end in 10 minutes", len(pending))
			}
			time.Sleep(pollEvery)
			var still []string
			for _, id := range pending {
				j, err := s.client.DescribeBackupJob(ctx, &bk.DescribeBackupJobInput{BackupJobId: aws.String(id)})
				if err != nil {
					return run, fmt.Errorf("DescribeBackupJob: %w", err)
				}
				switch j.State {
				case bktypes.BackupJobStateCompleted:
					c, d := aws.ToTime(j.CreationDate), aws.ToTime(j.CompletionDate)
					if first.IsZero() || c.Before(first) {
						first = c
					}
					if d.After(last) {
						last = d
					}
				case bktypes.BackupJobStateFailed, bktypes.BackupJobStateAborted, bktypes.BackupJobStateExpired:
					return run, fmt.Errorf("backup job %s %s: %s", id, j.State, aws.ToString(j.StatusMessage))
				default:
					still = append(still, id)
				}
			}
			pending = still
		}
		left -= wave
	}
	run.jobs, run.elapsed, run.lastDone = jobs, last.Sub(first), last
	return run, nil
}

// waitQuiet waits until the receiver has had no request for quiet (the
// sender is done), at most limit.
func waitQuiet(ctx context.Context, rx *receiver, quiet, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(250 * time.Millisecond)
		c := rx.counts()
		if !c.last.IsZero() && time.Since(c.last) > quiet {
			return
		}
		if c.last.IsZero() && time.Until(deadline) < limit-2*quiet {
			return // nothing arrives at all (no sender)
		}
	}
}

// writeNotify prints the notification burst's runs and verdict.
func (r *report) writeNotify(w io.Writer) {
	if len(r.notify) == 0 {
		return
	}
	o := r.o
	fmt.Fprintf(w, "### Notification burst: %d backup jobs of %d-item tables, %d tables per wave, with and without a webhook target\n\n",
		o.notifyJobs, o.notifyItems, o.notifyTables)
	fmt.Fprintln(w, "| round | notifications | jobs/s | seconds | server CPU ms/job | events delivered | duplicates | bad signatures | delivery rate (events/s) | drained after last job | VmHWM |")
	fmt.Fprintln(w, "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	var off, on, offCPU, onCPU []float64
	for _, n := range r.notify {
		setting := "off"
		if n.on {
			setting = "on"
			on, onCPU = append(on, n.jobsPerSec()), append(onCPU, n.cpuPerJob())
		} else {
			off, offCPU = append(off, n.jobsPerSec()), append(offCPU, n.cpuPerJob())
		}
		ev, dup, bad, rate, drain := "-", "-", "-", "-", "-"
		if n.on {
			ev, dup, bad = fmt.Sprint(n.rx.events), fmt.Sprint(n.rx.duplicates), fmt.Sprint(n.rx.bad)
			rate, drain = fmt.Sprintf("%.0f", n.deliveryRate()), fmt.Sprintf("%.2f s", n.drain.Seconds())
		}
		fmt.Fprintf(w, "| %d | %s | %.1f | %.2f | %.1f | %s | %s | %s | %s | %s | %s |\n", n.round+1, setting, n.jobsPerSec(),
			n.elapsed.Seconds(), n.cpuPerJob(), ev, dup, bad, rate, drain, mib(n.hwm))
	}
	fmt.Fprintln(w)
	ratio := median(on) / median(off)
	fmt.Fprintf(w, "Median jobs/s: %.1f without notifications, %.1f with them: %.3fx (target at least %.2fx: %s).\n\n",
		median(off), median(on), ratio, notifyTarget, verdict(ratio, notifyTarget))
	fmt.Fprintf(w, "Median server CPU per job: %.1f ms without notifications, %.1f ms with them (%.3fx), delivery included.\n\n",
		median(offCPU), median(onCPU), median(onCPU)/median(offCPU))
}
