// Package schedule evaluates AWS cron schedule expressions in a time zone,
// and the start and completion windows of the jobs they create. It is pure:
// no I/O, no clock; every answer is a function of its arguments.
//
// # Expressions
//
// An expression is written as AWS (EventBridge) documents it:
//
//	cron(Minutes Hours Day-of-month Month Day-of-week Year)
//
//	Minutes       0-59                , - * /
//	Hours         0-23                , - * /
//	Day-of-month  1-31                , - * ? / L W
//	Month         1-12 or JAN-DEC     , - * /
//	Day-of-week   1-7 or SUN-SAT      , - * ? L #   (1 is Sunday)
//	Year          1970-2199           , - * /
//
// Exactly one of Day-of-month and Day-of-week is '?'. In Day-of-month, L is
// the last day of the month, 15W the weekday nearest the 15th (never
// crossing into another month) and LW the last weekday; in Day-of-week, L
// alone is Saturday, 5L the last Thursday of the month and 3#2 the second
// Tuesday. L, LW, nW, nL and n#k stand alone in their field. Names are
// accepted in any case. Ranges go from low to high. Unlike AWS, schedules
// as frequent as every minute are accepted.
//
// Evaluation uses github.com/hashicorp/cronexpr on the wall clock of the
// time zone; every expression is validated and translated here first, so
// cronexpr never sees input it was not meant for. Years past 2099, which
// cronexpr does not know, are evaluated on a year with the same calendar.
//
// # Time zones and daylight saving time
//
// Occurrences are wall-clock times in the schedule's time zone (an IANA
// name; the zone database is embedded in the binary). When the clocks
// change:
//
//   - A local time that does not exist (skipped when clocks spring forward)
//     runs once, at the first instant after the gap: cron(30 2 * * ? *) in
//     America/New_York runs at 03:00 EDT on the day clocks go from 02:00 to
//     03:00. Several skipped times collapse into that one run, together with
//     a run scheduled for the end of the gap itself.
//   - A local time that happens twice (repeated when clocks fall back) runs
//     once, at its first occurrence: cron(30 1 * * ? *) in America/New_York
//     runs at 01:30 EDT, not again at 01:30 EST.
//
// So every scheduled local time of a day runs exactly once. AWS's
// EventBridge Scheduler documents the same for repeated times but skips
// nonexistent ones; cairn does not skip them, because a skipped run is a
// missed backup. See docs/scheduling.md.
package schedule

import (
	"sync"
	"time"
	_ "time/tzdata" // time zone names resolve the same on every machine

	"github.com/hashicorp/cronexpr"
)

// Schedule is a parsed "cron(...)" expression in a time zone. It is safe for
// concurrent use.
type Schedule struct {
	expr  string
	tz    string
	loc   *time.Location
	years []bool // index y-MinYear

	mu sync.Mutex // guards byCalendar; cronexpr.Expression.Next mutates the expression
	// line is the expression translated for cronexpr, less the year.
	line string
	// byCalendar holds the expression compiled for each canonical year
	// (index: weekday of January 1st * 2, + 1 if leap), compiled when
	// first needed.
	byCalendar [14]*cronexpr.Expression
}

// calendars maps a calendar (weekday of January 1st, leap or not) to the
// first year from 1970 that has it; cronexpr knows the years 1970-2099,
// which hold all fourteen.
var calendars = func() (c [14]int) {
	for y := 2099; y >= MinYear; y-- {
		c[calendarOf(y)] = y
	}
	return c
}()

func calendarOf(year int) int {
	k := int(time.Date(year, time.January, 1, 0, 0, 0, 0, time.UTC).Weekday()) * 2
	if isLeap(year) {
		k++
	}
	return k
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// Parse parses expr ("cron(Minutes Hours Day-of-month Month Day-of-week
// Year)") in time zone tz (an IANA name such as "Europe/Berlin"; empty means
// UTC). Anything AWS would reject is an *Error naming the field at fault and
// what is allowed there.
func Parse(expr, tz string) (*Schedule, error) {
	loc, err := LoadLocation(tz)
	if err != nil {
		return nil, err
	}
	f, norm, err := parseExpr(expr)
	if err != nil {
		return nil, err
	}
	s := &Schedule{expr: norm, tz: tz, loc: loc, years: f.years,
		line: joinInts(f.minutes, 0) + " " + joinInts(f.hours, 0) + " " + f.dom + " " + joinInts(f.months, 0) + " " + f.dow + " "}
	// Compile one calendar now: the others differ only in the year, so
	// this checks the translation. Validation above admits only what
	// cronexpr parses; a failure here is a bug.
	if _, err := s.compiled(0); err != nil {
		return nil, &Error{Expr: expr, Msg: "internal error translating the expression: " + err.Error()}
	}
	if !s.everRuns() {
		return nil, &Error{Expr: expr, Never: true, Msg: "never runs: no date matches its Day-of-month, Month, Day-of-week and Year " +
			"together (February has no 30th or 31st, April, June, September and November no 31st); change one of these fields"}
	}
	return s, nil
}

// everRuns reports whether the expression matches any time at all in its
// years. Years with the same calendar match the same dates, so one look at
// each calendar of the chosen years answers it.
func (s *Schedule) everRuns() bool {
	var seen [14]bool
	for i, ok := range s.years {
		k := calendarOf(MinYear + i)
		if !ok || seen[k] {
			continue
		}
		seen[k] = true
		c, err := s.compiled(k)
		if err != nil {
			continue
		}
		proxy := calendars[k]
		if r := c.Next(time.Date(proxy, time.January, 1, 0, 0, 0, 0, time.UTC).Add(-time.Second)); !r.IsZero() && r.Year() == proxy {
			return true
		}
	}
	return false
}

// compiled returns the expression compiled for calendar k; s.mu is held or
// s is not shared yet.
func (s *Schedule) compiled(k int) (*cronexpr.Expression, error) {
	if c := s.byCalendar[k]; c != nil {
		return c, nil
	}
	c, err := cronexpr.Parse(s.line + itoa(calendars[k]))
	if err != nil {
		return nil, err
	}
	s.byCalendar[k] = c
	return c, nil
}

// LoadLocation returns the time zone of an IANA name; empty, "UTC" and
// "Etc/UTC" are UTC. Errors are *Error with Field "TimeZone".
func LoadLocation(tz string) (*time.Location, error) {
	if tz == "" {
		return time.UTC, nil
	}
	if tz == "Local" {
		return nil, &Error{Expr: tz, Field: "TimeZone", Msg: "must be an IANA time zone name such as Etc/UTC or Europe/Berlin, not Local"}
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, &Error{Expr: tz, Field: "TimeZone", Msg: "is not a known IANA time zone name; use one such as Etc/UTC, America/New_York or Europe/Berlin"}
	}
	return loc, nil
}

// String returns the expression, with single spaces between its fields.
func (s *Schedule) String() string { return s.expr }

// TimeZone returns the time zone name the schedule was parsed with (empty
// for UTC).
func (s *Schedule) TimeZone() string { return s.tz }

// Location returns the schedule's time zone.
func (s *Schedule) Location() *time.Location { return s.loc }

// Next returns the first occurrence strictly after t, in UTC, or the zero
// time if there is none (the expression's last year has passed).
func (s *Schedule) Next(t time.Time) time.Time {
	wall := wallClock(t.In(s.loc))
	for {
		w := s.nextWall(wall)
		if w.IsZero() {
			return time.Time{}
		}
		if at := s.instant(w); at.After(t) {
			return at.UTC()
		}
		// w's first occurrence was before t: t is in the second pass of
		// a repeated hour, and w has run already.
		wall = w
	}
}

// Between returns the occurrences in (from, to], oldest first: all of them
// if there are at most max, else the last max. It returns nil if max < 1.
// A scheduler catching up after downtime asks for the runs it missed.
func (s *Schedule) Between(from, to time.Time, max int) []time.Time {
	if max < 1 || !to.After(from) {
		return nil
	}
	// Look back from to in growing steps, so that catching up an
	// every-minute schedule after a year of downtime stays cheap.
	for span := time.Hour; ; span *= 4 {
		lo := to.Add(-span)
		if !lo.After(from) || span >= 100*365*24*time.Hour {
			lo = from
		}
		runs := s.collect(lo, to, max)
		if len(runs) >= max || lo.Equal(from) {
			return runs
		}
	}
}

// collect returns the last max occurrences in (from, to].
func (s *Schedule) collect(from, to time.Time, max int) []time.Time {
	ring := make([]time.Time, 0, min(max, 64))
	start := 0
	for t := s.Next(from); !t.IsZero() && !t.After(to); t = s.Next(t) {
		if len(ring) < max {
			ring = append(ring, t)
			continue
		}
		ring[start] = t
		start = (start + 1) % max
	}
	return append(ring[start:], ring[:start]...)
}

// nextWall returns the first wall-clock time (as a UTC time with the same
// fields) after wall that the expression matches, or zero.
func (s *Schedule) nextWall(wall time.Time) time.Time {
	first := true
	for y := max(wall.Year(), MinYear); y <= MaxYear; y++ {
		if !s.years[y-MinYear] {
			first = false
			continue
		}
		k := calendarOf(y)
		proxy := calendars[k]
		from := time.Date(proxy, time.January, 1, 0, 0, 0, 0, time.UTC).Add(-time.Second)
		if first && y == wall.Year() {
			from = time.Date(proxy, wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), wall.Nanosecond(), time.UTC)
		}
		first = false
		s.mu.Lock()
		var r time.Time
		if c, err := s.compiled(k); err == nil {
			r = c.Next(from)
		}
		s.mu.Unlock()
		if !r.IsZero() && r.Year() == proxy {
			return time.Date(y, r.Month(), r.Day(), r.Hour(), r.Minute(), 0, 0, time.UTC)
		}
	}
	return time.Time{}
}

// instant returns when wall-clock time w (fields of a UTC time) happens in
// the schedule's zone: its first occurrence if the clocks repeat it, the
// first instant after the gap if they skip it.
func (s *Schedule) instant(w time.Time) time.Time {
	ws := w.Unix()
	y, mo, d := w.Date()
	t := time.Date(y, mo, d, w.Hour(), w.Minute(), 0, 0, s.loc)
	if wallSeconds(t) == ws {
		// Valid; an earlier occurrence exists if the zone before t's
		// also maps w to an instant, before t's zone began.
		if start, _ := t.ZoneBounds(); !start.IsZero() {
			_, off := start.Add(-time.Second).Zone()
			if c := time.Unix(ws-int64(off), 0).In(s.loc); c.Before(start) && wallSeconds(c) == ws {
				return c
			}
		}
		return t
	}
	// w falls in a gap. time.Date returned an instant on one side of it,
	// in a zone that begins or ends where the gap does.
	start, end := t.ZoneBounds()
	if wallSeconds(t) > ws && !start.IsZero() {
		return start
	}
	if wallSeconds(t) < ws && !end.IsZero() {
		return end
	}
	return t
}

// wallClock returns t's wall-clock fields as a UTC time.
func wallClock(t time.Time) time.Time {
	return time.Unix(wallSeconds(t), int64(t.Nanosecond())).UTC()
}

func wallSeconds(t time.Time) int64 {
	_, off := t.Zone()
	return t.Unix() + int64(off)
}

func itoa(v int) string { return joinInts([]int{v}, 0) }

// StartBy returns when a job created for a scheduled time must have started
// (else it ends EXPIRED): the scheduled time plus the start window.
func StartBy(scheduled time.Time, startWindowMinutes int64) time.Time {
	return scheduled.Add(time.Duration(startWindowMinutes) * time.Minute)
}

// CompleteBy returns when a job must have completed (else it is stopped):
// from, the time its completion window counts from, plus the window.
func CompleteBy(from time.Time, completionWindowMinutes int64) time.Time {
	return from.Add(time.Duration(completionWindowMinutes) * time.Minute)
}
