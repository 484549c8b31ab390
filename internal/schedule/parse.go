package schedule

import (
	"fmt"
	"strconv"
	"strings"
)

// Error is a schedule expression or time zone that cannot be accepted. It
// says which field is at fault and what would be accepted there.
type Error struct {
	// Expr is the expression (or, for Field "TimeZone", the zone name) as given.
	Expr string
	// Field is "Minutes", "Hours", "Day-of-month", "Month", "Day-of-week",
	// "Year", "TimeZone", or empty when the expression as a whole is wrong.
	Field string
	// Msg says what is wrong and what to write instead.
	Msg string
	// Never is set when the expression is well formed but matches no time
	// at all (cron(0 5 31 2 ? *)): it would never run.
	Never bool
}

func (e *Error) Error() string {
	if e.Field == "TimeZone" {
		return fmt.Sprintf("time zone %q: %s", e.Expr, e.Msg)
	}
	if e.Field == "" {
		return fmt.Sprintf("schedule expression %q: %s", e.Expr, e.Msg)
	}
	return fmt.Sprintf("schedule expression %q: %s field: %s", e.Expr, e.Field, e.Msg)
}

// Year limits of AWS cron expressions.
const (
	MinYear = 1970
	MaxYear = 2199
)

// fieldSpec describes one field of an AWS cron expression and what AWS
// allows in it.
type fieldSpec struct {
	name     string
	min, max int
	names    []string // names[i] stands for min+i (months, days of week)
	allowed  string   // for messages
	step     bool     // '/' allowed
}

var (
	minutesSpec = fieldSpec{name: "Minutes", min: 0, max: 59, step: true,
		allowed: "0-59 with , - * /"}
	hoursSpec = fieldSpec{name: "Hours", min: 0, max: 23, step: true,
		allowed: "0-23 with , - * /"}
	domSpec = fieldSpec{name: "Day-of-month", min: 1, max: 31, step: true,
		allowed: "1-31 with , - * ? / L W (L, LW and nW stand alone)"}
	monthSpec = fieldSpec{name: "Month", min: 1, max: 12, step: true,
		names:   []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"},
		allowed: "1-12 or JAN-DEC with , - * /"}
	dowSpec = fieldSpec{name: "Day-of-week", min: 1, max: 7,
		names:   []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"},
		allowed: "1-7 (1 is Sunday) or SUN-SAT with , - * ? L # (L, nL and n#k stand alone)"}
	yearSpec = fieldSpec{name: "Year", min: MinYear, max: MaxYear, step: true,
		allowed: "1970-2199 with , - * /"}
)

// fields is a validated expression: explicit value lists, and the
// translation of the two day fields for cronexpr.
type fields struct {
	minutes, hours, months []int
	years                  []bool // index y-MinYear
	dom, dow               string // cronexpr syntax (day of week 0-6, 0 = Sunday)
}

// parseExpr validates expr ("cron(M H DOM MON DOW Y)") as AWS does and
// returns its fields and the expression with single spaces between fields.
func parseExpr(expr string) (*fields, string, error) {
	fail := func(field, format string, args ...any) (*fields, string, error) {
		return nil, "", &Error{Expr: expr, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	s := strings.TrimSpace(expr)
	if strings.HasPrefix(s, "rate(") || strings.HasPrefix(s, "at(") {
		return fail("", "only cron(...) expressions are supported, for example cron(0 5 ? * * *)")
	}
	inner, ok := strings.CutPrefix(s, "cron(")
	if ok {
		inner, ok = strings.CutSuffix(inner, ")")
	}
	if !ok {
		return fail("", "must have the form cron(Minutes Hours Day-of-month Month Day-of-week Year), for example cron(0 5 ? * * *)")
	}
	parts := strings.Fields(inner)
	if len(parts) != 6 {
		return fail("", "needs 6 fields (Minutes Hours Day-of-month Month Day-of-week Year); got %d", len(parts))
	}
	f := &fields{}
	var err error
	if f.minutes, err = parseList(parts[0], minutesSpec); err != nil {
		return fail(minutesSpec.name, "%v", err)
	}
	if f.hours, err = parseList(parts[1], hoursSpec); err != nil {
		return fail(hoursSpec.name, "%v", err)
	}
	if f.months, err = parseList(parts[3], monthSpec); err != nil {
		return fail(monthSpec.name, "%v", err)
	}
	years, err := parseList(parts[5], yearSpec)
	if err != nil {
		return fail(yearSpec.name, "%v", err)
	}
	f.years = make([]bool, MaxYear-MinYear+1)
	for _, y := range years {
		f.years[y-MinYear] = true
	}
	domQ, dowQ := parts[2] == "?", parts[4] == "?"
	switch {
	case domQ && dowQ:
		return fail("", "only one of Day-of-month and Day-of-week may be '?'; give the other a value or '*'")
	case !domQ && !dowQ:
		return fail("", "one of Day-of-month and Day-of-week must be '?' (AWS does not combine them); for example cron(0 5 ? * MON-FRI *) or cron(0 5 1 * ? *)")
	}
	if f.dom, err = parseDOM(parts[2]); err != nil {
		return fail(domSpec.name, "%v", err)
	}
	if f.dow, err = parseDOW(parts[4]); err != nil {
		return fail(dowSpec.name, "%v", err)
	}
	return f, "cron(" + strings.Join(parts, " ") + ")", nil
}

// parseDOM translates a day-of-month field for cronexpr.
func parseDOM(s string) (string, error) {
	switch {
	case s == "?" || s == "*":
		return "*", nil
	case s == "L" || s == "LW":
		return s, nil
	case strings.HasSuffix(s, "W"):
		d, err := parseValue(strings.TrimSuffix(s, "W"), domSpec)
		if err != nil {
			return "", fmt.Errorf("%q: W must follow a single day (for example 15W, the weekday nearest the 15th) or L (LW): %v", s, err)
		}
		return strconv.Itoa(d) + "W", nil
	case strings.ContainsAny(s, "LW?#"):
		return "", fmt.Errorf("%q: L, LW, nW and ? must stand alone and # belongs to Day-of-week; allowed: %s", s, domSpec.allowed)
	}
	days, err := parseList(s, domSpec)
	if err != nil {
		return "", err
	}
	return joinInts(days, 0), nil
}

// parseDOW translates a day-of-week field (AWS 1-7, 1 = Sunday) for
// cronexpr (0-6, 0 = Sunday).
func parseDOW(s string) (string, error) {
	switch {
	case s == "?" || s == "*":
		return "*", nil
	case s == "L":
		return "6", nil // the last day of the week: Saturday
	case strings.Contains(s, "#"):
		day, nth, _ := strings.Cut(s, "#")
		d, err := parseValue(day, dowSpec)
		if err != nil {
			return "", fmt.Errorf("%q: # needs a day of week before it (for example 3#2, the second Tuesday): %v", s, err)
		}
		n, err := strconv.Atoi(nth)
		if err != nil || n < 1 || n > 5 || len(nth) != 1 {
			return "", fmt.Errorf("%q: the number after # must be 1 to 5 (which occurrence in the month)", s)
		}
		return strconv.Itoa(d-1) + "#" + nth, nil
	case strings.HasSuffix(s, "L"):
		d, err := parseValue(strings.TrimSuffix(s, "L"), dowSpec)
		if err != nil {
			return "", fmt.Errorf("%q: nL needs a single day of week before L (for example 5L, the last Thursday): %v", s, err)
		}
		return strconv.Itoa(d-1) + "L", nil
	case strings.ContainsAny(s, "L?"):
		return "", fmt.Errorf("%q: L, nL, n#k and ? must stand alone; allowed: %s", s, dowSpec.allowed)
	case strings.Contains(s, "/"):
		return "", fmt.Errorf("%q: '/' is not allowed in Day-of-week; allowed: %s", s, dowSpec.allowed)
	}
	days, err := parseList(s, dowSpec)
	if err != nil {
		return "", err
	}
	return joinInts(days, -1), nil
}

// parseList parses a list of values, ranges and steps into the sorted values
// it stands for.
func parseList(s string, f fieldSpec) ([]int, error) {
	if s == "" {
		return nil, fmt.Errorf("is empty; allowed: %s", f.allowed)
	}
	set := make([]bool, f.max-f.min+1)
	for _, elem := range strings.Split(s, ",") {
		if elem == "" {
			return nil, fmt.Errorf("%q has an empty list element; allowed: %s", s, f.allowed)
		}
		lo, hi, step := f.min, f.max, 1
		base, stepText, hasStep := strings.Cut(elem, "/")
		if hasStep {
			if !f.step {
				return nil, fmt.Errorf("%q: '/' is not allowed here; allowed: %s", elem, f.allowed)
			}
			n, err := strconv.Atoi(stepText)
			if err != nil || !allDigits(stepText) || n < 1 || n > f.max-f.min+1 {
				return nil, fmt.Errorf("%q: the increment after '/' must be a whole number from 1 to %d", elem, f.max-f.min+1)
			}
			step = n
		}
		switch {
		case base == "*":
		case strings.Contains(base, "-"):
			a, b, _ := strings.Cut(base, "-")
			var err error
			if lo, err = parseValue(a, f); err != nil {
				return nil, err
			}
			if hi, err = parseValue(b, f); err != nil {
				return nil, err
			}
			if lo > hi {
				return nil, fmt.Errorf("range %q must go from low to high; split it into a list (for example %s-%s,%s-%s)",
					base, a, f.format(f.max), f.format(f.min), b)
			}
		default:
			v, err := parseValue(base, f)
			if err != nil {
				return nil, err
			}
			lo = v
			if !hasStep {
				hi = v
			}
		}
		for v := lo; v <= hi; v += step {
			set[v-f.min] = true
		}
	}
	var out []int
	for i, ok := range set {
		if ok {
			out = append(out, f.min+i)
		}
	}
	return out, nil
}

// parseValue parses one number or name of field f.
func parseValue(s string, f fieldSpec) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("a value is missing; allowed: %s", f.allowed)
	}
	if allDigits(s) {
		if len(s) > 4 {
			return 0, fmt.Errorf("value %s is out of range; use %d-%d", s, f.min, f.max)
		}
		v, _ := strconv.Atoi(s)
		if v < f.min || v > f.max {
			return 0, fmt.Errorf("value %s is out of range; use %d-%d", s, f.min, f.max)
		}
		return v, nil
	}
	for i, n := range f.names {
		if strings.EqualFold(s, n) {
			return f.min + i, nil
		}
	}
	return 0, fmt.Errorf("%q is not a valid value; allowed: %s", s, f.allowed)
}

func (f fieldSpec) format(v int) string {
	if f.names != nil {
		return f.names[v-f.min]
	}
	return strconv.Itoa(v)
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func joinInts(vs []int, add int) string {
	var b strings.Builder
	for i, v := range vs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(v + add))
	}
	return b.String()
}
