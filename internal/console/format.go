package console

import (
	"fmt"
	"html/template"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

func funcs() template.FuncMap {
	return template.FuncMap{
		"when":  when,
		"size":  humanSize,
		"state": stateBadge,
		"badge": func(state, words string) template.HTML {
			return template.HTML(fmt.Sprintf(`<span class="state state-%s">%s</span>`, stateClass(state), template.HTMLEscapeString(words)))
		},
		"duration":  duration,
		"table":     backup.TableNameFromARN,
		"short":     short,
		"cron":      cronWords,
		"lifecycle": lifecycleWords,
		"percent":   func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) + " %" },
		"q":         url.QueryEscape,
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
		"sortedKeys": sortedKeys,
		"window": func(mins int64, def int64) string {
			if mins == 0 {
				mins = def
			}
			return minutesWords(mins)
		},
		"active": func(s string) bool {
			switch s {
			case "CREATED", "PENDING", "RUNNING", "ABORTING":
				return true
			}
			return false
		},
	}
}

// when renders a time for the browser's script to show in the reader's
// zone; the UTC time is the text without script and the title with it.
func when(t time.Time) template.HTML {
	if t.IsZero() {
		return "—"
	}
	u := t.UTC()
	return template.HTML(fmt.Sprintf(`<time datetime="%s" title="%s">%s</time>`,
		u.Format(time.RFC3339), u.Format("2006-01-02 15:04:05 UTC"), u.Format("2006-01-02 15:04 UTC")))
}

// humanSize is bytes in binary units ("1.5 MiB").
func humanSize(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB", "PiB"} {
		v /= 1024
		if v < 1024 || u == "PiB" {
			if v < 10 {
				return fmt.Sprintf("%.1f %s", v, u)
			}
			return fmt.Sprintf("%.0f %s", v, u)
		}
	}
	return ""
}

// stateClass groups states by colour.
func stateClass(s string) string {
	switch s {
	case "COMPLETED", "SUCCESSFUL", "COMPLIANT":
		return "ok"
	case "FAILED", "EXPIRED", "NON_COMPLIANT":
		return "bad"
	case "ABORTED", "ABORTING", "PARTIAL", "DELETING":
		return "warn"
	case "RUNNING", "CREATING", "VALIDATING":
		return "run"
	}
	return "idle"
}

// stateWords is a state as a word ("Completed").
func stateWords(s string) string {
	if s == "" {
		return "—"
	}
	w := strings.ToLower(strings.ReplaceAll(s, "_", " "))
	return strings.ToUpper(w[:1]) + w[1:]
}

// stateBadge shows a state in colour and in words.
func stateBadge(s any) template.HTML {
	v := fmt.Sprint(s)
	return template.HTML(fmt.Sprintf(`<span class="state state-%s" data-state="%s">%s</span>`,
		stateClass(v), template.HTMLEscapeString(v), template.HTMLEscapeString(stateWords(v))))
}

func duration(from, to time.Time) string {
	if from.IsZero() || to.IsZero() || to.Before(from) {
		return "—"
	}
	return to.Sub(from).Round(time.Second).String()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func minutesWords(m int64) string {
	switch {
	case m%1440 == 0:
		return plural(m/1440, "day")
	case m%60 == 0:
		return plural(m/60, "hour")
	}
	return plural(m, "minute")
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

func lifecycleWords(l backup.Lifecycle) string {
	var parts []string
	if l.MoveToColdStorageAfterDays > 0 {
		parts = append(parts, "cold storage after "+plural(l.MoveToColdStorageAfterDays, "day"))
	}
	if l.DeleteAfterDays > 0 {
		parts = append(parts, "deleted after "+plural(l.DeleteAfterDays, "day"))
	}
	if len(parts) == 0 {
		return "kept until deleted"
	}
	return strings.Join(parts, ", ")
}

var dayNames = map[string]string{"SUN": "Sunday", "MON": "Monday", "TUE": "Tuesday", "WED": "Wednesday",
	"THU": "Thursday", "FRI": "Friday", "SAT": "Saturday", "1": "Sunday", "2": "Monday", "3": "Tuesday",
	"4": "Wednesday", "5": "Thursday", "6": "Friday", "7": "Saturday"}

// cronWords says an AWS cron expression in words where it is a common
// shape ("every day at 05:00 UTC"); other shapes are given as they are.
func cronWords(expr, tz string) string {
	if expr == "" {
		expr = backup.DefaultScheduleExpression
	}
	switch tz {
	case "", "Etc/UTC", "UTC", "Etc/GMT", "GMT":
		tz = "UTC"
	}
	inner, ok := strings.CutPrefix(expr, "cron(")
	if !ok || !strings.HasSuffix(inner, ")") {
		return expr
	}
	f := strings.Fields(strings.TrimSuffix(inner, ")"))
	if len(f) != 6 {
		return expr
	}
	min, hour, dom, month, dow, year := f[0], f[1], f[2], f[3], f[4], f[5]
	if year != "*" || month != "*" || !allDigits(min) {
		return expr
	}
	m, _ := strconv.Atoi(min)
	var at string
	switch {
	case allDigits(hour):
		h, _ := strconv.Atoi(hour)
		at = fmt.Sprintf("at %02d:%02d %s", h, m, tz)
	case hour == "*":
		return fmt.Sprintf("every hour at minute %d (%s)", m, tz)
	case strings.HasPrefix(hour, "*/") || strings.HasPrefix(hour, "0/"):
		n := hour[2:]
		if !allDigits(n) || dom == "*" && dow != "?" && dow != "*" {
			return expr
		}
		return fmt.Sprintf("every %s hours at minute %d (%s)", n, m, tz)
	default:
		return expr
	}
	switch {
	case (dom == "?" || dom == "*") && (dow == "*" || dow == "?"):
		return "every day " + at
	case dom == "?" && dayNames[strings.ToUpper(dow)] != "":
		return "every " + dayNames[strings.ToUpper(dow)] + " " + at
	case dom == "?" && (strings.EqualFold(dow, "MON-FRI") || dow == "2-6"):
		return "every weekday " + at
	case dow == "?" && dom == "L":
		return "on the last day of every month " + at
	case dow == "?" && allDigits(dom):
		return "on day " + dom + " of every month " + at
	}
	return expr
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
