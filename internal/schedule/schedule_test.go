package schedule

import (
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

func mustParse(t *testing.T, expr, tz string) *Schedule {
	t.Helper()
	s, err := Parse(expr, tz)
	if err != nil {
		t.Fatalf("Parse(%q, %q): %v", expr, tz, err)
	}
	return s
}

func ts(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("bad time %q: %v", s, err)
	}
	return v
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		expr, tz string
		field    string
		want     string // part of the message
	}{
		{"", "", "", "must have the form cron("},
		{"0 5 * * ? *", "", "", "must have the form cron("},
		{"cron(0 5 * * ? *", "", "", "must have the form cron("},
		{"rate(5 minutes)", "", "", "only cron(...) expressions"},
		{"cron(0 5 * * ?)", "", "", "needs 6 fields"},
		{"cron(0 0 5 * * ? *)", "", "", "needs 6 fields"},
		{"cron(0 5 ? * ? *)", "", "", "only one of Day-of-month and Day-of-week may be '?'"},
		{"cron(0 5 * * * *)", "", "", "must be '?'"},
		{"cron(0 5 1 * MON *)", "", "", "must be '?'"},
		{"cron(60 5 ? * * *)", "", "Minutes", "value 60 is out of range; use 0-59"},
		{"cron(-1 5 ? * * *)", "", "Minutes", "a value is missing"},
		{"cron(0 24 ? * * *)", "", "Hours", "use 0-23"},
		{"cron(0 5 0 * ? *)", "", "Day-of-month", "use 1-31"},
		{"cron(0 5 32 * ? *)", "", "Day-of-month", "use 1-31"},
		{"cron(0 5 1 13 ? *)", "", "Month", "use 1-12"},
		{"cron(0 5 1 JANUARY ? *)", "", "Month", `"JANUARY" is not a valid value`},
		{"cron(0 5 ? * 0 *)", "", "Day-of-week", "use 1-7"},
		{"cron(0 5 ? * 8 *)", "", "Day-of-week", "use 1-7"},
		{"cron(0 5 ? * MONDAY *)", "", "Day-of-week", "not a valid value"},
		{"cron(0 5 ? * */2 *)", "", "Day-of-week", "'/' is not allowed in Day-of-week"},
		{"cron(0 5 ? * 2/2 *)", "", "Day-of-week", "'/' is not allowed"},
		{"cron(0 5 1 * ? 1969)", "", "Year", "use 1970-2199"},
		{"cron(0 5 1 * ? 2200)", "", "Year", "use 1970-2199"},
		{"cron(0 5 1 * ? 20000)", "", "Year", "out of range"},
		{"cron(0/0 5 ? * * *)", "", "Minutes", "increment after '/' must be a whole number from 1 to 60"},
		{"cron(0/61 5 ? * * *)", "", "Minutes", "from 1 to 60"},
		{"cron(0/x 5 ? * * *)", "", "Minutes", "increment"},
		{"cron(50-10 5 ? * * *)", "", "Minutes", `range "50-10" must go from low to high`},
		{"cron(0 5 ? * FRI-MON *)", "", "Day-of-week", "split it into a list (for example FRI-SAT,SUN-MON)"},
		{"cron(1,,2 5 ? * * *)", "", "Minutes", "empty list element"},
		{"cron(0 5 L,15 * ? *)", "", "Day-of-month", "must stand alone"},
		{"cron(0 5 W * ? *)", "", "Day-of-month", "W must follow a single day"},
		{"cron(0 5 32W * ? *)", "", "Day-of-month", "W must follow"},
		{"cron(0 5 1-5W * ? *)", "", "Day-of-month", "W must follow a single day"},
		{"cron(0 5 L-3 * ? *)", "", "Day-of-month", "must stand alone"},
		{"cron(0 5 3#2 * ? *)", "", "Day-of-month", "# belongs to Day-of-week"},
		{"cron(0 5 ? * 3#6 *)", "", "Day-of-week", "must be 1 to 5"},
		{"cron(0 5 ? * 3#0 *)", "", "Day-of-week", "must be 1 to 5"},
		{"cron(0 5 ? * #2 *)", "", "Day-of-week", "# needs a day of week"},
		{"cron(0 5 ? * 3#2,4#1 *)", "", "Day-of-week", "must be 1 to 5"},
		{"cron(0 5 ? * 8L *)", "", "Day-of-week", "nL needs a single day"},
		{"cron(0 5 ? * 5L,6 *)", "", "Day-of-week", "must stand alone"},
		{"cron(0 5 ? * 2,? *)", "", "Day-of-week", "must stand alone"},
		{"cron(? 5 ? * * *)", "", "Minutes", "not a valid value"},
		// Well formed, but no date ever matches (issue 13.7).
		{"cron(0 5 31 2 ? *)", "", "", "never runs: no date matches"},
		{"cron(0 5 30 2 ? *)", "Europe/Berlin", "", "never runs"},
		{"cron(0 5 31 4,6,9,11 ? *)", "", "", "never runs"},
		{"cron(0 5 29 2 ? 2100-2103)", "", "", "never runs"}, // 2100 is not a leap year
		{"cron(0 5 ? 2 FRI#5 2025-2027)", "", "", "never runs"},
		{"cron(0 5 ? * * *)", "Mars/Olympus", "TimeZone", "not a known IANA time zone"},
		{"cron(0 5 ? * * *)", "Local", "TimeZone", "not Local"},
	}
	for _, tt := range tests {
		t.Run(tt.expr+"@"+tt.tz, func(t *testing.T) {
			s, err := Parse(tt.expr, tt.tz)
			if err == nil {
				t.Fatalf("accepted as %v", s)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if e.Field != tt.field {
				t.Errorf("Field = %q, want %q (%v)", e.Field, tt.field, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if never := strings.Contains(tt.want, "never runs"); e.Never != never {
				t.Errorf("Never = %v, want %v", e.Never, never)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct{ expr, tz, str string }{
		{"cron(0 5 ? * * *)", "", "cron(0 5 ? * * *)"},
		{"  cron( 0  5 ?  * * * ) ", "Etc/UTC", "cron(0 5 ? * * *)"},
		{"cron(0/15 * * * ? *)", "", "cron(0/15 * * * ? *)"},
		{"cron(*/5 8-17 ? * MON-FRI *)", "America/New_York", "cron(*/5 8-17 ? * MON-FRI *)"},
		{"cron(0 5 ? jan-mar,dec mon,wed 2024-2030/2)", "Europe/Berlin", "cron(0 5 ? jan-mar,dec mon,wed 2024-2030/2)"},
		{"cron(05 09 01 * ? *)", "UTC", "cron(05 09 01 * ? *)"},
		{"cron(0 12 L * ? *)", "", ""},
		{"cron(0 12 LW * ? *)", "", ""},
		{"cron(0 12 15W * ? *)", "", ""},
		{"cron(0 12 ? * L *)", "", ""},
		{"cron(0 12 ? * FRIL *)", "", ""},
		{"cron(0 12 ? * FRI#3 *)", "", ""},
		{"cron(0 12 1/7 * ? *)", "", ""},
		{"cron(* * * * ? *)", "", ""},
		{"cron(0 0 1 1 ? 1970)", "", ""},
		{"cron(0 0 1 1 ? 2199)", "", ""},
		// Rare, but they do run.
		{"cron(0 5 29 2 ? *)", "", ""},
		{"cron(0 5 29 2 ? 2096-2104)", "", ""},
		{"cron(0 5 ? 2 THU#5 *)", "", ""},
		{"cron(0 5 31 1-4 ? *)", "", ""},
	}
	for _, tt := range tests {
		s, err := Parse(tt.expr, tt.tz)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.expr, err)
			continue
		}
		if tt.str != "" && s.String() != tt.str {
			t.Errorf("String() = %q, want %q", s.String(), tt.str)
		}
		if s.TimeZone() != tt.tz {
			t.Errorf("TimeZone() = %q, want %q", s.TimeZone(), tt.tz)
		}
	}
}

// TestNext checks runs one after another from a start time; times in want
// carry the zone offset the run has locally.
func TestNext(t *testing.T) {
	tests := []struct {
		name, expr, tz, from string
		want                 []string
	}{
		{"default daily 05:00 UTC", "cron(0 5 ? * * *)", "", "2024-01-01T04:59:59Z",
			[]string{"2024-01-01T05:00:00Z", "2024-01-02T05:00:00Z", "2024-01-03T05:00:00Z"}},
		{"just ran: strictly after", "cron(0 5 ? * * *)", "", "2024-01-01T05:00:00Z",
			[]string{"2024-01-02T05:00:00Z"}},
		{"sub-second after a run", "cron(0 5 ? * * *)", "", "2024-01-01T05:00:00.5Z",
			[]string{"2024-01-02T05:00:00Z"}},
		{"every minute", "cron(* * * * ? *)", "", "2024-02-29T23:58:30Z",
			[]string{"2024-02-29T23:59:00Z", "2024-03-01T00:00:00Z", "2024-03-01T00:01:00Z"}},
		{"every minute across a year end", "cron(* * * * ? *)", "Europe/Berlin", "2024-12-31T22:58:00Z",
			[]string{"2024-12-31T23:59:00+01:00", "2025-01-01T00:00:00+01:00"}},
		{"0/15 steps", "cron(0/15 * * * ? *)", "", "2024-01-01T10:07:00Z",
			[]string{"2024-01-01T10:15:00Z", "2024-01-01T10:30:00Z", "2024-01-01T10:45:00Z", "2024-01-01T11:00:00Z"}},
		{"*/20 steps", "cron(*/20 9 ? * * *)", "", "2024-01-01T09:40:00Z",
			[]string{"2024-01-02T09:00:00Z", "2024-01-02T09:20:00Z"}},
		{"5/20 from 5", "cron(5/20 9 ? * * *)", "", "2024-01-01T08:00:00Z",
			[]string{"2024-01-01T09:05:00Z", "2024-01-01T09:25:00Z", "2024-01-01T09:45:00Z", "2024-01-02T09:05:00Z"}},
		{"range with step", "cron(10-30/10 9 ? * * *)", "", "2024-01-01T08:00:00Z",
			[]string{"2024-01-01T09:10:00Z", "2024-01-01T09:20:00Z", "2024-01-01T09:30:00Z", "2024-01-02T09:10:00Z"}},
		{"weekdays, names", "cron(0 8 ? * MON-FRI *)", "", "2024-01-05T09:00:00Z", // a Friday
			[]string{"2024-01-08T08:00:00Z", "2024-01-09T08:00:00Z"}},
		{"weekdays, numbers (1 is Sunday)", "cron(0 8 ? * 2-6 *)", "", "2024-01-05T09:00:00Z",
			[]string{"2024-01-08T08:00:00Z"}},
		{"Sundays", "cron(0 8 ? * 1 *)", "", "2024-01-01T00:00:00Z",
			[]string{"2024-01-07T08:00:00Z", "2024-01-14T08:00:00Z"}},
		{"Saturday by number 7", "cron(0 8 ? * 7 *)", "", "2024-01-01T00:00:00Z",
			[]string{"2024-01-06T08:00:00Z"}},
		{"day-of-week L alone is Saturday", "cron(0 8 ? * L *)", "", "2024-01-01T00:00:00Z",
			[]string{"2024-01-06T08:00:00Z", "2024-01-13T08:00:00Z"}},
		{"month names and lists", "cron(0 0 1 JAN,jul ? *)", "", "2024-01-01T00:00:00Z",
			[]string{"2024-07-01T00:00:00Z", "2025-01-01T00:00:00Z"}},
		{"31st skips short months", "cron(0 12 31 * ? *)", "", "2024-01-31T12:00:00Z",
			[]string{"2024-03-31T12:00:00Z", "2024-05-31T12:00:00Z", "2024-07-31T12:00:00Z", "2024-08-31T12:00:00Z"}},
		{"L: last day, leap year", "cron(0 0 L * ? *)", "", "2024-01-15T00:00:00Z",
			[]string{"2024-01-31T00:00:00Z", "2024-02-29T00:00:00Z", "2024-03-31T00:00:00Z", "2024-04-30T00:00:00Z"}},
		{"L: last day, common year", "cron(0 0 L 2 ? *)", "", "2023-01-15T00:00:00Z",
			[]string{"2023-02-28T00:00:00Z", "2024-02-29T00:00:00Z", "2025-02-28T00:00:00Z"}},
		{"Feb 29 only in leap years", "cron(0 12 29 2 ? *)", "", "2023-03-01T00:00:00Z",
			[]string{"2024-02-29T12:00:00Z", "2028-02-29T12:00:00Z", "2032-02-29T12:00:00Z"}},
		{"Feb 29: 2100 is not a leap year", "cron(0 0 29 2 ? 2096-2104)", "", "2024-01-01T00:00:00Z",
			[]string{"2096-02-29T00:00:00Z", "2104-02-29T00:00:00Z", ""}},
		{"15W: Saturday -> Friday, Sunday -> Monday", "cron(0 9 15W * ? *)", "", "2024-06-01T00:00:00Z",
			// 2024-06-15 Sat, 2024-07-15 Mon, 2024-08-15 Thu, 2024-09-15 Sun
			[]string{"2024-06-14T09:00:00Z", "2024-07-15T09:00:00Z", "2024-08-15T09:00:00Z", "2024-09-16T09:00:00Z"}},
		{"1W never crosses into the previous month", "cron(0 9 1W * ? *)", "", "2024-05-31T00:00:00Z",
			// 2024-06-01 is a Saturday: the nearest weekday in June is Monday the 3rd
			[]string{"2024-06-03T09:00:00Z", "2024-07-01T09:00:00Z"}},
		{"31W on a Sunday month end goes back to Friday", "cron(0 9 31W 3 ? *)", "", "2024-01-01T00:00:00Z",
			[]string{"2024-03-29T09:00:00Z", "2025-03-31T09:00:00Z"}},
		{"LW: last weekday", "cron(0 9 LW * ? *)", "", "2024-07-31T10:00:00Z",
			// 2024-08-31 Sat -> 30th; 2024-09-30 Mon; 2024-11-30 Sat -> 29th
			[]string{"2024-08-30T09:00:00Z", "2024-09-30T09:00:00Z", "2024-10-31T09:00:00Z", "2024-11-29T09:00:00Z"}},
		{"3#2: second Tuesday", "cron(0 10 ? * 3#2 *)", "", "2024-01-01T00:00:00Z",
			[]string{"2024-01-09T10:00:00Z", "2024-02-13T10:00:00Z", "2024-03-12T10:00:00Z"}},
		{"6#5: fifth Friday, only when there is one", "cron(0 10 ? * FRI#5 *)", "", "2024-03-01T00:00:00Z",
			[]string{"2024-03-29T10:00:00Z", "2024-05-31T10:00:00Z", "2024-08-30T10:00:00Z"}},
		{"5L: last Thursday, Feb 29 2024 is one", "cron(0 9 ? * 5L *)", "", "2024-01-01T00:00:00Z",
			[]string{"2024-01-25T09:00:00Z", "2024-02-29T09:00:00Z", "2024-03-28T09:00:00Z"}},
		{"first Monday of 2100 (a year cronexpr does not know)", "cron(0 0 ? 1 2#1 2100)", "", "2024-01-01T00:00:00Z",
			[]string{"2100-01-04T00:00:00Z", ""}},
		{"year limits: 2199 is the last", "cron(0 0 31 12 ? *)", "", "2198-06-01T00:00:00Z",
			[]string{"2198-12-31T00:00:00Z", "2199-12-31T00:00:00Z", ""}},
		{"year list", "cron(0 0 1 1 ? 2025,2150-2151)", "", "2024-01-01T00:00:00Z",
			[]string{"2025-01-01T00:00:00Z", "2150-01-01T00:00:00Z", "2151-01-01T00:00:00Z", ""}},
		{"year in the past", "cron(0 0 1 1 ? 1999)", "", "2024-01-01T00:00:00Z",
			[]string{""}},
		{"from before 1970", "cron(0 0 1 1 ? *)", "", "1960-06-01T00:00:00Z",
			[]string{"1970-01-01T00:00:00Z"}},
		{"time zone without DST", "cron(0 9 ? * * *)", "Asia/Tokyo", "2024-01-01T00:00:00Z",
			[]string{"2024-01-02T09:00:00+09:00", "2024-01-03T09:00:00+09:00"}},

		// America/New_York: 2024-03-10 02:00 EST -> 03:00 EDT; 2024-11-03 02:00 EDT -> 01:00 EST.
		{"NY spring: skipped 02:30 runs once at 03:00 EDT", "cron(30 2 * * ? *)", "America/New_York", "2024-03-09T08:00:00Z",
			[]string{"2024-03-10T03:00:00-04:00", "2024-03-11T02:30:00-04:00"}},
		{"NY spring: hourly has 23 runs, none twice", "cron(0 * * * ? *)", "America/New_York", "2024-03-10T06:30:00Z",
			[]string{"2024-03-10T03:00:00-04:00", "2024-03-10T04:00:00-04:00"}},
		{"NY spring: quarter hours in the gap collapse", "cron(0/15 * * * ? *)", "America/New_York", "2024-03-10T06:30:00Z",
			[]string{"2024-03-10T01:45:00-05:00", "2024-03-10T03:00:00-04:00", "2024-03-10T03:15:00-04:00"}},
		{"NY spring: 03:00 itself is not run twice", "cron(0 2,3 * * ? *)", "America/New_York", "2024-03-10T05:00:00Z",
			[]string{"2024-03-10T03:00:00-04:00", "2024-03-11T02:00:00-04:00"}},
		{"NY fall: repeated 01:30 runs once, in EDT", "cron(30 1 * * ? *)", "America/New_York", "2024-11-02T12:00:00Z",
			[]string{"2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00"}},
		{"NY fall: from the second pass, 01:30 already ran", "cron(30 1 * * ? *)", "America/New_York", "2024-11-03T06:10:00Z",
			[]string{"2024-11-04T01:30:00-05:00"}},
		{"NY fall: hourly skips the repeated hour", "cron(0 * * * ? *)", "America/New_York", "2024-11-03T03:30:00Z",
			[]string{"2024-11-03T00:00:00-04:00", "2024-11-03T01:00:00-04:00", "2024-11-03T02:00:00-05:00"}},
		{"NY fall: every minute resumes after the repeated hour", "cron(* * * * ? *)", "America/New_York", "2024-11-03T05:58:00Z",
			[]string{"2024-11-03T01:59:00-04:00", "2024-11-03T02:00:00-05:00"}},
		{"NY fall: from inside the second pass", "cron(* * * * ? *)", "America/New_York", "2024-11-03T06:30:00Z",
			[]string{"2024-11-03T02:00:00-05:00"}},

		// Europe/Berlin: 2024-03-31 02:00 CET -> 03:00 CEST; 2024-10-27 03:00 CEST -> 02:00 CET.
		{"Berlin spring: skipped 02:30 runs once at 03:00 CEST", "cron(30 2 * * ? *)", "Europe/Berlin", "2024-03-30T12:00:00Z",
			[]string{"2024-03-31T03:00:00+02:00", "2024-04-01T02:30:00+02:00"}},
		{"Berlin spring: weekly Sunday 02:15 still runs", "cron(15 2 ? * SUN *)", "Europe/Berlin", "2024-03-25T00:00:00Z",
			[]string{"2024-03-31T03:00:00+02:00", "2024-04-07T02:15:00+02:00"}},
		{"Berlin fall: repeated 02:30 runs once, in CEST", "cron(30 2 * * ? *)", "Europe/Berlin", "2024-10-26T12:00:00Z",
			[]string{"2024-10-27T02:30:00+02:00", "2024-10-28T02:30:00+01:00"}},
		{"Berlin fall: hourly", "cron(0 * * * ? *)", "Europe/Berlin", "2024-10-26T23:30:00Z",
			[]string{"2024-10-27T02:00:00+02:00", "2024-10-27T03:00:00+01:00"}},
		{"Berlin fall: from inside the second pass", "cron(45 2 * * ? *)", "Europe/Berlin", "2024-10-27T01:10:00Z",
			[]string{"2024-10-28T02:45:00+01:00"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustParse(t, tt.expr, tt.tz)
			at := ts(t, tt.from)
			for i, w := range tt.want {
				got := s.Next(at)
				if w == "" {
					if !got.IsZero() {
						t.Fatalf("run %d: got %v, want none", i, got)
					}
					return
				}
				want := ts(t, w)
				if !got.Equal(want) {
					t.Fatalf("run %d after %v: got %v (%v local), want %v", i, at, got, got.In(s.Location()), want)
				}
				if got.Location() != time.UTC {
					t.Fatalf("run %d: %v is not in UTC", i, got)
				}
				if _, off := got.In(s.Location()).Zone(); off != zoneOffset(want) {
					t.Fatalf("run %d: local offset %d, want %d", i, off, zoneOffset(want))
				}
				at = got
			}
		})
	}
}

func zoneOffset(t time.Time) int { _, off := t.Zone(); return off }

// TestDSTDays runs a quarter-hour schedule over whole days on which the
// clocks change and checks that each local time of the day runs once.
func TestDSTDays(t *testing.T) {
	tests := []struct {
		tz       string
		day      string // local date
		runs     int
		skipped  []string // local times of the day that never show on the clock
		repeated bool
	}{
		{"America/New_York", "2024-03-10", 92, []string{"02:00", "02:15", "02:30", "02:45"}, false},
		{"America/New_York", "2024-11-03", 96, nil, true},
		{"Europe/Berlin", "2024-03-31", 92, []string{"02:00", "02:15", "02:30", "02:45"}, false},
		{"Europe/Berlin", "2024-10-27", 96, nil, true},
		{"Europe/Berlin", "2024-06-01", 96, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.tz+" "+tt.day, func(t *testing.T) {
			s := mustParse(t, "cron(0/15 * * * ? *)", tt.tz)
			loc := s.Location()
			d, _ := time.ParseInLocation("2006-01-02", tt.day, loc)
			start := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
			end := time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
			runs := s.Between(start.Add(-time.Second), end.Add(-time.Second), 1000)
			if len(runs) != tt.runs {
				t.Fatalf("%d runs, want %d", len(runs), tt.runs)
			}
			seen := map[string]int{}
			for i, r := range runs {
				if i > 0 && !r.After(runs[i-1]) {
					t.Fatalf("run %d at %v is not after %v", i, r, runs[i-1])
				}
				seen[r.In(loc).Format("15:04")]++
			}
			for h := 0; h < 24; h++ {
				for m := 0; m < 60; m += 15 {
					hm := time.Date(2000, 1, 1, h, m, 0, 0, time.UTC).Format("15:04")
					want := 1
					for _, sk := range tt.skipped {
						if sk == hm {
							want = 0
						}
					}
					if seen[hm] != want {
						t.Errorf("local %s ran %d times, want %d", hm, seen[hm], want)
					}
				}
			}
		})
	}
}

// TestBetween covers catching up: "just ran", "several runs missed", more
// missed than asked for.
func TestBetween(t *testing.T) {
	daily := mustParse(t, "cron(0 5 ? * * *)", "")
	minutely := mustParse(t, "cron(* * * * ? *)", "")
	nyHourly := mustParse(t, "cron(0 * * * ? *)", "America/New_York")
	tests := []struct {
		name     string
		s        *Schedule
		from, to string
		max      int
		want     []string
	}{
		{"just ran", daily, "2024-01-04T05:00:00Z", "2024-01-04T05:00:30Z", 10, nil},
		{"due now", daily, "2024-01-03T05:00:00Z", "2024-01-04T05:00:00Z", 10, []string{"2024-01-04T05:00:00Z"}},
		{"not yet due", daily, "2024-01-03T05:00:00Z", "2024-01-04T04:59:59Z", 10, nil},
		{"several runs missed", daily, "2024-01-01T05:00:00Z", "2024-01-04T06:00:00Z", 10,
			[]string{"2024-01-02T05:00:00Z", "2024-01-03T05:00:00Z", "2024-01-04T05:00:00Z"}},
		{"several missed, only the latest", daily, "2024-01-01T05:00:00Z", "2024-01-04T06:00:00Z", 1,
			[]string{"2024-01-04T05:00:00Z"}},
		{"several missed, the last two", daily, "2024-01-01T05:00:00Z", "2024-01-04T06:00:00Z", 2,
			[]string{"2024-01-03T05:00:00Z", "2024-01-04T05:00:00Z"}},
		{"a year of every-minute downtime", minutely, "2023-01-01T00:00:00Z", "2024-01-01T00:00:00Z", 3,
			[]string{"2023-12-31T23:58:00Z", "2023-12-31T23:59:00Z", "2024-01-01T00:00:00Z"}},
		{"never ran (zero from)", minutely, "0001-01-01T00:00:00Z", "2024-01-01T00:00:30Z", 2,
			[]string{"2023-12-31T23:59:00Z", "2024-01-01T00:00:00Z"}},
		{"to before from", daily, "2024-01-04T00:00:00Z", "2024-01-01T00:00:00Z", 10, nil},
		{"max 0", daily, "2024-01-01T00:00:00Z", "2024-01-04T00:00:00Z", 0, nil},
		{"missed across spring forward", nyHourly, "2024-03-10T06:00:00Z", "2024-03-10T09:00:00Z", 10,
			[]string{"2024-03-10T07:00:00Z", "2024-03-10T08:00:00Z", "2024-03-10T09:00:00Z"}},
		{"missed across fall back", nyHourly, "2024-11-03T04:30:00Z", "2024-11-03T08:00:00Z", 10,
			[]string{"2024-11-03T05:00:00Z", "2024-11-03T07:00:00Z", "2024-11-03T08:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.s.Between(ts(t, tt.from), ts(t, tt.to), tt.max)
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if !got[i].Equal(ts(t, tt.want[i])) {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestCalendarsCoverEveryYear(t *testing.T) {
	for k, y := range calendars {
		if y < MinYear || y > 2099 || calendarOf(y) != k {
			t.Errorf("calendar %d has proxy year %d", k, y)
		}
	}
	// A proxy year must agree with the year it stands for on every date.
	for y := MinYear; y <= MaxYear; y++ {
		p := calendars[calendarOf(y)]
		for _, d := range []struct{ m, d int }{{1, 1}, {2, 28}, {3, 1}, {7, 4}, {12, 31}} {
			a := time.Date(y, time.Month(d.m), d.d, 0, 0, 0, 0, time.UTC)
			b := time.Date(p, time.Month(d.m), d.d, 0, 0, 0, 0, time.UTC)
			if a.Weekday() != b.Weekday() || a.YearDay() != b.YearDay() {
				t.Fatalf("year %d and proxy %d differ on %d-%d", y, p, d.m, d.d)
			}
		}
	}
}

func TestWindows(t *testing.T) {
	at := ts(t, "2024-01-01T05:00:00Z")
	if got := StartBy(at, 480); !got.Equal(ts(t, "2024-01-01T13:00:00Z")) {
		t.Errorf("StartBy = %v", got)
	}
	if got := CompleteBy(at, 10080); !got.Equal(ts(t, "2024-01-08T05:00:00Z")) {
		t.Errorf("CompleteBy = %v", got)
	}
}

// TestConcurrentNext shares one schedule between goroutines; run with -race
// it shows the lock around cronexpr's mutable state holds.
func TestConcurrentNext(t *testing.T) {
	s := mustParse(t, "cron(0 9 LW * ? *)", "Europe/Berlin")
	want := s.Next(ts(t, "2024-01-01T00:00:00Z"))
	var wg sync.WaitGroup
	errs := make(chan time.Time, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				if got := s.Next(ts(t, "2024-01-01T00:00:00Z")); !got.Equal(want) {
					errs <- got
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for got := range errs {
		t.Errorf("concurrent Next = %v, want %v", got, want)
	}
}

// TestAgainstReference compares Next with a plain day-by-day evaluation of
// the AWS rules, written without cronexpr, from random start times.
func TestAgainstReference(t *testing.T) {
	exprs := []string{
		"cron(0 5 ? * * *)", "cron(* * * * ? *)", "cron(0/15 * * * ? *)", "cron(7-9,30 */6 ? * * *)",
		"cron(0 0 L * ? *)", "cron(0 0 LW * ? *)", "cron(30 12 1W * ? *)", "cron(30 12 15W * ? *)",
		"cron(30 12 31W * ? *)", "cron(0 3 29 2 ? *)", "cron(0 3 31 * ? *)", "cron(0 3 1/10 * ? *)",
		"cron(0 3 ? * L *)", "cron(0 3 ? * 1L *)", "cron(0 3 ? * 7L *)", "cron(0 3 ? * 2#1 *)",
		"cron(0 3 ? * 6#5 *)", "cron(0 3 ? * 1#5 *)", "cron(0 3 ? * SUN,SAT *)", "cron(0 3 ? * 2-6 *)",
		"cron(0 3 ? JAN,JUN-AUG * *)", "cron(0 3 1 */3 ? 2021-2027/2)", "cron(15 4 ? * 3#3 2025-2030)",
		"cron(59 23 L 2 ? *)",
	}
	rng := rand.New(rand.NewPCG(3, 5))
	lo := ts(t, "2020-01-01T00:00:00Z").Unix()
	hi := ts(t, "2029-01-01T00:00:00Z").Unix()
	for _, e := range exprs {
		s := mustParse(t, e, "")
		f, _, err := parseExpr(e)
		if err != nil {
			t.Fatal(err)
		}
		inner := strings.Fields(strings.TrimSuffix(strings.TrimPrefix(e, "cron("), ")"))
		for i := 0; i < 150; i++ {
			from := time.Unix(lo+rng.Int64N(hi-lo), 0).UTC()
			want := refNext(t, f, inner[2], inner[4], from)
			if got := s.Next(from); !got.Equal(want) {
				t.Fatalf("%s: Next(%v) = %v, reference says %v", e, from, got, want)
			}
		}
	}
}

// refNext finds the next match day by day, for up to ten years.
func refNext(t *testing.T, f *fields, dom, dow string, from time.Time) time.Time {
	day := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	for n := 0; n < 3700; n++ {
		d := day.AddDate(0, 0, n)
		if !f.years[d.Year()-MinYear] || !contains(f.months, int(d.Month())) || !refDay(t, dom, dow, d) {
			continue
		}
		for _, h := range f.hours {
			for _, m := range f.minutes {
				c := d.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
				if c.After(from) {
					return c
				}
			}
		}
	}
	return time.Time{}
}

func refDay(t *testing.T, dom, dow string, d time.Time) bool {
	last := time.Date(d.Year(), d.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
	weekday := func(day int) time.Weekday {
		return time.Date(d.Year(), d.Month(), day, 0, 0, 0, 0, time.UTC).Weekday()
	}
	nearestWeekday := func(day int) int {
		switch weekday(day) {
		case time.Saturday:
			if day == 1 {
				return 3
			}
			return day - 1
		case time.Sunday:
			if day == last {
				return day - 2
			}
			return day + 1
		}
		return day
	}
	if dom != "?" && dom != "*" {
		switch {
		case dom == "L":
			return d.Day() == last
		case dom == "LW":
			return d.Day() == nearestWeekday(last)
		case strings.HasSuffix(dom, "W"):
			n, _ := parseValue(strings.TrimSuffix(dom, "W"), domSpec)
			return n <= last && d.Day() == nearestWeekday(n)
		}
		days, err := parseList(dom, domSpec)
		if err != nil {
			t.Fatal(err)
		}
		return contains(days, d.Day())
	}
	wd := int(d.Weekday()) + 1 // AWS numbering
	switch {
	case dow == "?" || dow == "*":
		return true
	case dow == "L":
		return wd == 7
	case strings.HasSuffix(dow, "L"):
		n, _ := parseValue(strings.TrimSuffix(dow, "L"), dowSpec)
		return wd == n && d.Day()+7 > last
	case strings.Contains(dow, "#"):
		a, b, _ := strings.Cut(dow, "#")
		n, _ := parseValue(a, dowSpec)
		return wd == n && (d.Day()-1)/7+1 == int(b[0]-'0')
	}
	days, err := parseList(dow, dowSpec)
	if err != nil {
		t.Fatal(err)
	}
	return contains(days, wd)
}

func contains(vs []int, v int) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"cron(0 5 ? * * *)", "cron(0/15 * * * ? *)", "cron(0 12 L * ? *)", "cron(0 9 LW * ? 2030)",
		"cron(0 9 15W * ? *)", "cron(0 10 ? * 3#2 *)", "cron(0 9 ? * 5L *)", "cron(* * * * ? *)",
		"cron(0 0 29 2 ? 2096-2104)", "cron(1-5/2 */3 ? JAN-MAR MON-FRI 1970-2199/7)", "cron(0 0 31 2 ? *)",
		"cron(0 0 ? * L 2150)", "rate(5 minutes)", "cron()", "cron(0 0 1 1 ? 2199)",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	start := time.Date(2024, 3, 9, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, expr string, ny bool) {
		tz := ""
		if ny {
			tz = "America/New_York"
		}
		s, err := Parse(expr, tz)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || strings.Contains(e.Msg, "internal error") {
				t.Fatalf("Parse(%q): %v", expr, err)
			}
			return
		}
		again, err := Parse(s.String(), tz)
		if err != nil || again.String() != s.String() {
			t.Fatalf("String() %q does not parse back: %v", s.String(), err)
		}
		at := start
		for i := 0; i < 20; i++ {
			next := s.Next(at)
			if next.IsZero() {
				return
			}
			if !next.After(at) {
				t.Fatalf("%s: Next(%v) = %v is not after it", expr, at, next)
			}
			at = next
		}
	})
}
