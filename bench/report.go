package main

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// report collects the measurements and prints them as markdown.
type report struct {
	o         *options
	seedRate  float64
	itemBytes int64
	runs      []runRecord
	rss       []rssRow
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

// cpuPerItem is the median CPU time per item in microseconds.
func cpuPerItem(ms []measurement) float64 {
	var out []float64
	for _, m := range ms {
		out = append(out, float64(m.CPU)/float64(time.Microsecond)/float64(m.Items))
	}
	return median(out)
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
	if len(r.of("backup", "sdk-scan")) > 0 {
		fmt.Fprintf(w, "### Backup of %d items (items/s per round; cairn-api is timed by the job's CreationDate and CompletionDate)\n\n", o.items)
		r.rounds(w, "backup", []string{"sdk-scan", "cairn-api", "cairn-engine"})
		base := median(rates(r.of("backup", "sdk-scan")))
		fmt.Fprintln(w, "| comparison | baseline items/s | cairn items/s | ratio | target | result |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---|")
		for _, name := range []string{"cairn-api", "cairn-engine"} {
			c := median(rates(r.of("backup", name)))
			fmt.Fprintf(w, "| %s vs sdk-scan | %.0f | %.0f | %.2f | 0.90 | %s |\n", name, base, c, c/base, verdict(c/base, 0.9))
		}
		fmt.Fprintf(w, "\nCPU per item (median): SDK scan %.1f µs in the client; cairn server %.1f µs; engine in process %.1f µs.\n\n",
			cpuPerItem(r.of("backup", "sdk-scan")), cpuPerItem(r.of("backup", "cairn-api")), cpuPerItem(r.of("backup", "cairn-engine")))
	}
	if len(r.of("restore", "sdk-batchwrite")) > 0 {
		fmt.Fprintf(w, "### Restore of %d items, each run on a fresh dynalite (items/s per round)\n\n", o.items)
		r.rounds(w, "restore", []string{"sdk-batchwrite", "cairn-skipvalidation", "cairn-validated"})
		base := median(rates(r.of("restore", "sdk-batchwrite")))
		fmt.Fprintln(w, "| comparison | baseline items/s | cairn items/s | ratio | target | result |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---|")
		for _, name := range []string{"cairn-skipvalidation", "cairn-validated"} {
			c := median(rates(r.of("restore", name)))
			fmt.Fprintf(w, "| %s vs sdk-batchwrite | %.0f | %.0f | %.2f | 0.90 | %s |\n", name, base, c, c/base, verdict(c/base, 0.9))
		}
		skip, val := median(durations(r.of("restore", "cairn-skipvalidation"))), median(durations(r.of("restore", "cairn-validated")))
		fmt.Fprintf(w, "\nMedian job time: %.2f s without validation (the load phase), %.2f s with it; the validation scan adds about %.2f s.\n",
			skip, val, val-skip)
		fmt.Fprintf(w, "CPU per item (median): SDK load %.1f µs in the client; cairn server %.1f µs (skip validation), %.1f µs (validated).\n\n",
			cpuPerItem(r.of("restore", "sdk-batchwrite")), cpuPerItem(r.of("restore", "cairn-skipvalidation")), cpuPerItem(r.of("restore", "cairn-validated")))
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
		for _, name := range []string{"cairn-api", "cairn-skipvalidation", "cairn-validated"} {
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
