package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
)

// tableWidth is the width tables fit by default; --wide lifts it.
const tableWidth = 100

// Output formats of --output.
const (
	outputTable = "table"
	outputJSON  = "json"
)

// outputFlags are --output and --wide, which every client command has.
type outputFlags struct {
	format string
	wide   bool
}

func (o *outputFlags) register(cmd *cobra.Command) {
	fs := cmd.PersistentFlags()
	fs.StringVarP(&o.format, "output", "o", outputTable, "output format: table or json")
	fs.BoolVar(&o.wide, "wide", false, "show every column (ARNs, full ids and messages) instead of fitting 100 columns")
}

func (o *outputFlags) check(cmd *cobra.Command) error {
	switch o.format {
	case outputTable, outputJSON:
		return nil
	}
	return usageError(cmd, "--output must be table or json, not %q", o.format)
}

func (o *outputFlags) json() bool { return o.format == outputJSON }

// column is one column of a table. A flexible column gives up width, down
// to min, when the table is wider than it may be; its cells are then cut
// with "...".
type column struct {
	head string
	flex bool
	min  int
	// text marks a column of prose (messages, reasons): it gives up width
	// before the flexible columns of names do.
	text bool
}

// table prints aligned columns that fit a width.
type table struct {
	cols  []column
	rows  [][]string
	notes map[int]string // a line of prose under a row, by row index
	width int            // 0: no limit
}

// notePrefix starts the line a note is printed on, under its row.
const notePrefix = "  ↳ "

// note puts text on a line of its own under the last row (a failed job's
// reason, which a column would cut to a few letters). Like every cell it
// is printed on one line; it is never cut, since the end of a reason
// often says what to do (a terminal wraps the line).
func (t *table) note(text string) {
	if text == "" || len(t.rows) == 0 {
		return
	}
	if t.notes == nil {
		t.notes = map[int]string{}
	}
	t.notes[len(t.rows)-1] = text
}

// oneLine turns every run of white space and control characters in s into
// one space, so that a cell or a note never breaks a table's lines.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || (unicode.IsSpace(r) && r != ' ') }) {
		return strings.TrimSpace(s)
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}

func newTable(head ...string) *table {
	t := &table{}
	for _, h := range head {
		t.cols = append(t.cols, column{head: h})
	}
	return t
}

// newFitTable makes a table that fits width columns (0: no limit).
func newFitTable(width int, cols ...column) *table { return &table{cols: cols, width: width} }

func (t *table) row(cells ...string) {
	for i, c := range cells {
		cells[i] = oneLine(c)
	}
	t.rows = append(t.rows, cells)
}

func (t *table) write(w io.Writer) error {
	if len(t.rows) == 0 {
		_, err := fmt.Fprintln(w, "(none)")
		return err
	}
	const gap = 2
	widths := make([]int, len(t.cols))
	for i, c := range t.cols {
		widths[i] = utf8.RuneCountInString(c.head)
	}
	for _, r := range t.rows {
		for i := range t.cols {
			if i < len(r) {
				widths[i] = max(widths[i], utf8.RuneCountInString(r[i]))
			}
		}
	}
	if t.width > 0 {
		// Take width from the widest flexible column until the table fits
		// or no flexible column can give more.
		for {
			total := gap * (len(widths) - 1)
			for _, w := range widths {
				total += w
			}
			if total <= t.width {
				break
			}
			widest := -1
			for _, text := range []bool{true, false} {
				for i, c := range t.cols {
					floor := max(c.min, utf8.RuneCountInString(c.head), 3)
					if c.flex && c.text == text && widths[i] > floor && (widest < 0 || widths[i] > widths[widest]) {
						widest = i
					}
				}
				if widest >= 0 {
					break
				}
			}
			if widest < 0 {
				break
			}
			widths[widest]--
		}
	}
	var b bytes.Buffer
	line := func(cells []string) {
		var l strings.Builder
		for i := range t.cols {
			cell := ""
			if i < len(cells) {
				cell = cut(cells[i], widths[i])
			}
			l.WriteString(cell)
			if i < len(t.cols)-1 {
				l.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)+gap))
			}
		}
		b.WriteString(strings.TrimRight(l.String(), " "))
		b.WriteByte('\n')
	}
	heads := make([]string, len(t.cols))
	for i, c := range t.cols {
		heads[i] = c.head
	}
	line(heads)
	for i, r := range t.rows {
		line(r)
		if n, ok := t.notes[i]; ok {
			b.WriteString(notePrefix + oneLine(n))
			b.WriteByte('\n')
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// cut shortens s to n characters, ending it with "..." when cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	if n <= 3 {
		return string(r[:n])
	}
	return string(r[:n-3]) + "..."
}

// kv prints "Key: value" lines, skipping empty values.
func kv(w io.Writer, pairs ...string) {
	width := 0
	for i := 0; i < len(pairs); i += 2 {
		width = max(width, len(pairs[i]))
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" || pairs[i+1] == "-" {
			continue
		}
		fmt.Fprintf(w, "%-*s  %s\n", width+1, pairs[i]+":", pairs[i+1])
	}
}

// printJSON writes v as indented JSON, leaving out the SDK's
// ResultMetadata and members that are null, as the AWS CLI does.
func printJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err != nil {
		return err
	}
	out, err := json.MarshalIndent(prune(x), "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(out, '\n'))
	return err
}

func prune(x any) any {
	switch v := x.(type) {
	case map[string]any:
		delete(v, "ResultMetadata")
		for k, e := range v {
			if e == nil {
				delete(v, k)
				continue
			}
			v[k] = prune(e)
		}
	case []any:
		for i, e := range v {
			v[i] = prune(e)
		}
	}
	return x
}

// when formats a time in the local zone, with the zone.
func when(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05 MST")
}

// whenShort is when without seconds, for tables.
func whenShort(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04 MST")
}

func humanBytes(n int64) string {
	if n < 0 {
		return "-"
	}
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// count formats n with thousands separators: 1,234,567.
func count(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isTerminal says whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// progressLook is one look at a running job.
type progressLook struct {
	state   string
	phase   string  // "validating" during a restore's check
	percent float64 // 0 while no size estimate exists
	items   int64
	bytes   int64 // -1: not reported
	verb    string
}

// progress shows a job's progress while the CLI waits for it: one line
// redrawn in place on a terminal; on anything else (a file, a pipe, CI
// logs) plain lines, one when the state or phase changes and at most one
// every progressEvery otherwise.
type progress struct {
	w        io.Writer
	terminal bool
	now      func() time.Time

	start, last time.Time
	first       *progressLook
	prev        progressLook
	printed     bool
}

const progressEvery = 10 * time.Second

func newProgress(w io.Writer) *progress {
	return &progress{w: w, terminal: isTerminal(w), now: time.Now}
}

func (p *progress) show(l progressLook) {
	now := p.now()
	if p.first == nil {
		p.start, p.first = now, &l
	}
	el := now.Sub(p.start)
	line := p.line(l, el)
	if p.terminal {
		fmt.Fprintf(p.w, "\r%-*s", tableWidth-2, line)
		p.printed = true
		return
	}
	if !p.last.IsZero() && l.state == p.prev.state && l.phase == p.prev.phase && now.Sub(p.last) < progressEvery {
		return
	}
	fmt.Fprintln(p.w, line)
	p.last, p.prev = now, l
}

// line says where the job is: state, items and bytes so far, the rate
// since the CLI started watching, and the percentage and an ETA when the
// server has a size estimate.
func (p *progress) line(l progressLook, el time.Duration) string {
	state := l.state
	if l.phase != "" {
		state = l.phase
	}
	parts := []string{fmt.Sprintf("%-10s", state)}
	if l.phase == "" {
		parts = append(parts, count(l.items)+" items "+l.verb)
		if l.bytes >= 0 {
			parts = append(parts, humanBytes(l.bytes))
		}
		if secs := el.Seconds(); secs >= 1 && l.items > p.first.items {
			rate := fmt.Sprintf("%s items/s", count(int64(float64(l.items-p.first.items)/secs)))
			if l.bytes >= 0 {
				rate += fmt.Sprintf(", %s/s", humanBytes(int64(float64(l.bytes-p.first.bytes)/secs)))
			}
			parts = append(parts, rate)
		}
		if l.percent > 0 {
			pct := fmt.Sprintf("%.1f%%", l.percent)
			if d := l.percent - p.first.percent; d > 0 && el >= time.Second {
				eta := time.Duration(float64(el) * (100 - l.percent) / d).Round(time.Second)
				pct += " ETA " + eta.String()
			}
			parts = append(parts, pct)
		}
	}
	parts = append(parts, "elapsed "+el.Round(time.Second).String())
	return strings.Join(parts, "  ")
}

func (p *progress) done() {
	if p.printed {
		fmt.Fprintln(p.w)
		p.printed = false
	}
}
