package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// report collects the measurements and prints them as markdown.
type report struct {
	o         *options
	seedRate  float64
	itemBytes int64
	runs      []runRecord
	rss       []rssRow
	// backupNames and restoreNames are the runs of each phase, the
	// baseline first.
	backupNames, restoreNames []string
	// notify are the notification burst's runs (notify.go).
	notify []notifyRun
}

type runRecord struct {
	phase, name string
	round       int
	m           measurement
}

type rssRow struct {
	items int
	what  string
	m     measurement
}

func (r *report) add(phase, name string, round int, m measurement) {
	r.runs = append(r.runs, runRecord{phase, name, round, m})
}

func (r *report) of(phase, name string) []measurement {
	var out []measurement
	for _, x := range r.runs {
		if x.phase == phase && x.name == name {
			out = append(out, x.m)
		}
	}
	return out
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func rates(ms []measurement) []float64 {
	var out []float64
	for _, m := range ms {
		out = append(out, m.rate())
	}
	return out
}

func durations(ms []measurement) []float64 {
	var out []float64
	for _, m := range ms {
		out = append(out, m.Duration.Seconds())
	}
	return out
}

// usPerItem is the CPU time per item in microseconds.
func (m measurement) usPerItem() float64 {
	return float64(m.CPU) / float64(time.Microsecond) / float64(m.Items)
}

func maxHWM(ms []measurement) int64 {
	var h int64
	for _, m := range ms {
		h = max(h, m.HWM)
	}
	return h
}

func verdict(ratio, target float64) string {
	if ratio >= target {
		return "pass"
	}
	return "MISS"
}

func (r *report) write(w io.Writer) {
	o := r.o
	fmt.Fprintf(w, "## cairn benchmark run, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "Machine: %s. Items: %d of about %d bytes (%.1f MB of item JSON), %d segments, %d writers, %d rounds; seeding ran at %.0f items/s.\n\n",
		machine(), o.items, o.payload, float64(r.itemBytes)/1e6, o.segments, o.writers, o.rounds, r.seedRate)
	if len(r.backupNames) > 0 {
		fmt.Fprintf(w, "### Backup of %d items (items/s per round; cairn-api is timed by the job's CreationDate and CompletionDate)\n\n", o.items)
		r.rounds(w, "backup", r.backupNames)
		r.comparisons(w, "backup", r.backupNames, backupTarget)
		r.cpuTable(w, "backup", r.backupNames)
		r.timeTable(w, r.backupNames)
	}
	if len(r.restoreNames) > 0 {
		fmt.Fprintf(w, "### Restore of %d items, each run on a fresh dynalite (items/s per round)\n\n", o.items)
		r.rounds(w, "restore", r.restoreNames)
		r.comparisons(w, "restore", r.restoreNames, restoreTarget)
		skip, val := median(durations(r.of("restore", "cairn-skipvalidation"))), median(durations(r.of("restore", "cairn-validated")))
		fmt.Fprintf(w, "Median job time: %.2f s without validation (the load phase), %.2f s with it; the validation scan adds about %.2f s.\n\n",
			skip, val, val-skip)
		r.cpuTable(w, "restore", r.restoreNames)
	}
	var all []measurement
	for _, x := range r.runs {
		if x.m.HWM > 0 {
			all = append(all, x.m)
		}
	}
	if len(all) > 0 || len(r.rss) > 0 {
		fmt.Fprintln(w, "### Peak RSS of `cairn server` (VmHWM, fresh server per measurement; target at most 128 MiB)")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| items | job | items/s | VmHWM | result |")
		fmt.Fprintln(w, "|---:|---|---:|---:|---|")
		for _, x := range r.rss {
			fmt.Fprintf(w, "| %d | %s | %.0f | %s | %s |\n", x.items, x.what, x.m.rate(), mib(x.m.HWM), hwmVerdict(x.m.HWM))
		}
		for _, name := range append(slices.Clone(r.backupNames), r.restoreNames...) {
			if !strings.HasPrefix(name, "cairn-") || name == "cairn-engine" {
				continue
			}
			ms := r.of("backup", name)
			if len(ms) == 0 {
				ms = r.of("restore", name)
			}
			if h := maxHWM(ms); h > 0 {
				fmt.Fprintf(w, "| %d | %s (max of %d runs) | %.0f | %s | %s |\n", o.items, name, len(ms), median(rates(ms)), mib(h), hwmVerdict(h))
			}
		}
		fmt.Fprintln(w)
	}
	r.writeNotify(w)
}

// The targets of the comparisons: docs/benchmarks.md, targets 1 and 2,
// and issue 8 item 18 for the backup.
const (
	backupTarget  = 0.95
	restoreTarget = 0.90
)

// comparisons prints each cairn run against the phase's baseline
// (names[0]): the ratio of the medians, and the median and lowest of the
// ratios within a round (the runs of a round saw the same machine).
//
// When the backup ran sdk-describe-scan too, the cairn runs are also
// compared with it: the bare scan preceded by the calls that record the
// table's settings (see sdkDescribeScan).
func (r *report) comparisons(w io.Writer, phase string, names []string, target float64) {
	fmt.Fprintln(w, "| comparison | baseline items/s | cairn items/s | ratio of medians | per-round ratios: median (lowest) | target | result |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---|")
	row := func(name, baseName string) {
		base, ms := r.of(phase, baseName), r.of(phase, name)
		var paired []float64
		for i := range min(len(ms), len(base)) {
			paired = append(paired, ms[i].rate()/base[i].rate())
		}
		b, c := median(rates(base)), median(rates(ms))
		fmt.Fprintf(w, "| %s vs %s | %.0f | %.0f | %.2f | %.2f (%.2f) | %.2f | %s |\n", name, baseName, b, c, c/b,
			median(paired), slices.Min(paired), target, verdict(median(paired), target))
	}
	for _, name := range names[1:] {
		row(name, names[0])
	}
	// A cairn job's scan phase (see measurement.Scan) against the bare
	// scan: the same work but for the calls before the scan.
	for _, name := range names[1:] {
		base, ms := r.of(phase, names[0]), r.of(phase, name)
		var paired, scan []float64
		for i := range min(len(ms), len(base)) {
			if ms[i].Scan > 0 {
				rate := float64(ms[i].Items) / ms[i].Scan.Seconds()
				scan = append(scan, rate)
				paired = append(paired, rate/base[i].rate())
			}
		}
		if len(paired) == 0 {
			continue
		}
		b, c := median(rates(base)), median(scan)
		fmt.Fprintf(w, "| %s's scan phase vs %s | %.0f | %.0f | %.2f | %.2f (%.2f) | - | - |\n", name, names[0], b, c, c/b,
			median(paired), slices.Min(paired))
	}
	if phase == "backup" && slices.Contains(names, "sdk-describe-scan") {
		for _, name := range names[1:] {
			if strings.HasPrefix(name, "cairn-api") {
				row(name, "sdk-describe-scan")
			}
		}
	}
	fmt.Fprintln(w)
}

// cpuTable prints each run's CPU per item: the process's user and system
// time (the harness's for the SDK baselines and the in-process engine, the
// cairn server's for cairn-api), and the server's instructions per item
// when it ran under callgrind.
func (r *report) cpuTable(w io.Writer, phase string, names []string) {
	fmt.Fprintln(w, "| run | CPU µs/item, median (min-max) | of which kernel, median | instructions/item (callgrind) |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	for _, name := range names {
		ms := r.of(phase, name)
		var us, sys, instr []float64
		for _, m := range ms {
			us = append(us, m.usPerItem())
			sys = append(sys, float64(m.Sys)/float64(time.Microsecond)/float64(m.Items))
			if m.Instr > 0 {
				instr = append(instr, float64(m.Instr)/float64(m.Items))
			}
		}
		in := "-"
		if len(instr) > 0 {
			in = fmt.Sprintf("%.0f", median(instr))
		}
		fmt.Fprintf(w, "| %s | %.1f (%.1f-%.1f) | %.1f | %s |\n", name, median(us), slices.Min(us), slices.Max(us), median(sys), in)
	}
	fmt.Fprintln(w)
}

// timeTable prints, per backup run, how busy dynalite was (its CPU time
// over the run's time: 100 % is one core, the most its single thread
// gives) and what it spent per item, and for cairn jobs the medians of
// their phases (see measurement.Pre).
func (r *report) timeTable(w io.Writer, names []string) {
	fmt.Fprintln(w, "| run | dynalite busy, median (min-max) | dynalite CPU µs/item | before scan s | scan s | scan items/s | after scan s |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	for _, name := range names {
		ms := r.of("backup", name)
		var busy, dus, pre, scan, post, rate []float64
		for _, m := range ms {
			busy = append(busy, 100*m.dynBusy())
			dus = append(dus, m.DynCPU.Seconds()*1e6/float64(m.Items))
			if m.Scan > 0 {
				pre, scan, post = append(pre, m.Pre.Seconds()), append(scan, m.Scan.Seconds()), append(post, m.Post.Seconds())
				rate = append(rate, float64(m.Items)/m.Scan.Seconds())
			}
		}
		phases := "- | - | - | -"
		if len(scan) > 0 {
			phases = fmt.Sprintf("%.3f | %.3f | %.0f | %.3f", median(pre), median(scan), median(rate), median(post))
		}
		fmt.Fprintf(w, "| %s | %.0f %% (%.0f-%.0f) | %.1f | %s |\n", name, median(busy), slices.Min(busy), slices.Max(busy), median(dus), phases)
	}
	fmt.Fprintln(w)
}

func hwmVerdict(h int64) string {
	if h <= 128<<20 {
		return "pass"
	}
	return "MISS"
}

func (r *report) rounds(w io.Writer, phase string, names []string) {
	fmt.Fprint(w, "| round |")
	for _, n := range names {
		fmt.Fprintf(w, " %s |", n)
	}
	fmt.Fprint(w, "\n|---:|")
	for range names {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprintln(w)
	for round := range r.o.rounds {
		fmt.Fprintf(w, "| %d |", round+1)
		for _, n := range names {
			ms := r.of(phase, n)
			if round < len(ms) {
				fmt.Fprintf(w, " %.0f (%.2f s) |", ms[round].rate(), ms[round].Duration.Seconds())
			} else {
				fmt.Fprint(w, " - |")
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprint(w, "| median |")
	for _, n := range names {
		fmt.Fprintf(w, " %.0f |", median(rates(r.of(phase, n))))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)
}
