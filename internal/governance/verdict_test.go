package governance

import (
	"strings"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	covered := tableCoverage{plans: []string{"p/r"}, due: 27 * time.Hour, dueRule: "p/r"}
	old := now.Add(-30 * 24 * time.Hour)
	withBackup := func(age time.Duration) tableCoverage {
		c := covered
		c.lastBackup = now.Add(-age)
		return c
	}
	for _, tc := range []struct {
		name   string
		states []tagState
		c      tableCoverage
		first  time.Time
		want   backup.Verdict
		reason string
	}{
		{"backed up", []tagState{{kind: tagOK}}, withBackup(3 * time.Hour), old, backup.VerdictCompliant, "last COMPLETED recovery point 3h00m ago"},
		{"backup too old", []tagState{{kind: tagOK}}, withBackup(28 * time.Hour), old, backup.VerdictNonCompliant, "28h00m old, more than 27h00m"},
		{"never backed up", []tagState{{kind: tagOK}}, covered, old, backup.VerdictNonCompliant, "no COMPLETED recovery point within 27h00m"},
		{"new table", []tagState{{kind: tagOK}}, covered, now.Add(-time.Hour), backup.VerdictCompliant, "first backup due by 2026-12-04T14:00:00Z"},
		{"no plan", []tagState{{kind: tagOK}}, tableCoverage{}, old, backup.VerdictNonCompliant, "covered by no backup plan"},
		{"missing tag", []tagState{{kind: tagBad, reason: "tag k missing"}}, covered, old, backup.VerdictNonCompliant, "tag k missing"},
		{"opted out", []tagState{{kind: tagOptOut, reason: "tag k=none opts out"}}, tableCoverage{}, old, backup.VerdictOptedOut, "tag k=none opts out"},
		{"opted out, still covered", []tagState{{kind: tagOptOut, reason: "x"}}, covered, old, backup.VerdictOptedOut, "plans still cover it: p/r"},
		{"excluded", []tagState{{kind: tagExcluded, reason: "excluded"}}, tableCoverage{}, old, backup.VerdictNotApplicable, "excluded"},
		{"bad beats opt-out", []tagState{{kind: tagOptOut, reason: "x"}, {kind: tagBad, reason: "bad"}}, covered, old, backup.VerdictNonCompliant, "bad"},
		{"one rule excluded", []tagState{{kind: tagExcluded}, {kind: tagOK}}, withBackup(time.Hour), old, backup.VerdictCompliant, "backed up by p/r"},
	} {
		v, reason := decide(tc.states, tc.c, tc.first, now)
		if v != tc.want || !strings.Contains(reason, tc.reason) {
			t.Errorf("%s: %s %q, want %s containing %q", tc.name, v, reason, tc.want, tc.reason)
		}
	}
}

func TestRuleAllowedAndExcluded(t *testing.T) {
	r := Rule{Name: "r", Key: "k", Allowed: []string{"none", "daily", "team-*"}, Default: "daily",
		ExcludeTables: []string{"tmp-*"}, ExcludeSources: []string{"staging"}}
	for v, want := range map[string]bool{"none": true, "daily": true, "team-a": true, "team-": true, "weekly": false, "": false, "Daily": false} {
		if r.allowed(v) != want {
			t.Errorf("allowed(%q) = %v", v, !want)
		}
	}
	if r.excluded("prod", "tmp-1") == "" || r.excluded("staging", "orders") == "" || r.excluded("prod", "orders") != "" {
		t.Error("exclusions wrong")
	}
	r.Default = "team-*"
	if err := r.Validate(); err == nil || !strings.Contains(err.Error(), "wildcard") {
		t.Errorf("a wildcard default: %v", err)
	}
}
