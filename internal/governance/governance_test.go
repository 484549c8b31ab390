package governance_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/dynamodb"
	"github.com/cairn-backup/cairn/internal/governance"
)

const key = "superwerker:backup"

// A table created between passes carries superwerker:backup=daily within
// two intervals of the fake clock, its other tags as they were.
func TestNewTableTaggedWithinTwoIntervals(t *testing.T) {
	e := newEnv(t, nil)
	e.pass() // nothing yet
	arn := e.createTable("orders", map[string]string{"team": "shop", "env": "prod"})
	intervals := 0
	for e.tags(arn)[key] == "" {
		if intervals == 2 {
			t.Fatalf("after %d intervals orders has tags %v", intervals, e.tags(arn))
		}
		e.pass()
		intervals++
	}
	wantTags(t, e.tags(arn), map[string]string{"team": "shop", "env": "prod", key: "daily"})
	as := e.attempts(arn)
	if len(as) != 1 || as[0].Outcome != backup.TagAttemptSucceeded || as[0].Value != "daily" ||
		as[0].Reason != "tag superwerker:backup missing" || as[0].Attempt != 1 || !as[0].Time.Equal(e.clock.Now()) {
		t.Fatalf("attempts = %+v", as)
	}
	v := e.verdict("orders")
	if v.Verdict != backup.VerdictCompliant || v.TagValue != "daily" || len(v.Plans) != 1 ||
		v.Plans[0] != "superwerker-backup/backup-daily" || !strings.Contains(v.Reason, "first backup due") {
		t.Fatalf("verdict = %+v", v)
	}
	if want := time.Date(2026, 12, 4, 5, 0, 0, 0, time.UTC); !v.NextRun.Equal(want) {
		t.Fatalf("next run %v, want %v", v.NextRun, want)
	}
	// Later passes change nothing more.
	calls := e.fault.Calls()
	e.pass()
	e.pass()
	if e.fault.Calls() != calls {
		t.Fatalf("TagResource called %d more times on a tagged table", e.fault.Calls()-calls)
	}
}

// Existing values are never overwritten, allowed or not, and a value set
// between the pass's discovery and its write wins.
func TestExistingValueNeverOverwritten(t *testing.T) {
	e := newEnv(t, nil)
	daily := e.createTable("a-daily", map[string]string{key: "daily"})
	none := e.createTable("b-none", map[string]string{key: "none", "x": "1"})
	e.pass()
	e.pass()
	if e.fault.Calls() != 0 {
		t.Fatalf("TagResource called %d times on tagged tables", e.fault.Calls())
	}
	wantTags(t, e.tags(daily), map[string]string{key: "daily"})
	wantTags(t, e.tags(none), map[string]string{key: "none", "x": "1"})
}

// racingInventory tags a table right after discovery read its tags, as a
// person would between the pass's read and its write.
type racingInventory struct {
	dynamodb.Inventory
	once sync.Once
	race func()
}

func (r *racingInventory) ListTags(ctx context.Context, arn string) ([]dynamodb.Tag, error) {
	tags, err := r.Inventory.ListTags(ctx, arn)
	r.once.Do(r.race)
	return tags, err
}

func TestReadAgainBeforeWriting(t *testing.T) {
	var e *env
	var arn string
	race := &racingInventory{race: func() { e.setTag(arn, key, "none") }}
	e = newEnv(t, func(c *governance.Config) {
		race.Inventory = c.Sources[0].Inventory
		c.Sources[0].Inventory = race
	})
	arn = e.createTable("raced", map[string]string{"team": "t"})
	e.pass()
	wantTags(t, e.tags(arn), map[string]string{key: "none", "team": "t"})
	if e.fault.Calls() != 0 {
		t.Fatalf("TagResource called %d times", e.fault.Calls())
	}
	as := e.attempts(arn)
	if len(as) != 1 || as[0].Outcome != backup.TagAttemptSkipped || as[0].Value != "none" {
		t.Fatalf("attempts = %+v, want one SKIPPED", as)
	}
	if v := e.verdict("raced"); v.Verdict != backup.VerdictOptedOut {
		t.Fatalf("verdict = %+v", v)
	}
}

// weekly is reported (default mode): recorded when seen, the value left,
// the verdict NON_COMPLIANT; resolved when someone fixes it.
func TestDisallowedValueReported(t *testing.T) {
	e := newEnv(t, nil)
	arn := e.createTable("weekly", map[string]string{key: "weekly", "team": "t"})
	e.pass()
	seen := e.clock.Now()
	e.pass()
	wantTags(t, e.tags(arn), map[string]string{key: "weekly", "team": "t"})
	v := e.verdict("weekly")
	if v.Verdict != backup.VerdictNonCompliant || !strings.Contains(v.Reason, `value "weekly" of tag superwerker:backup not allowed`) ||
		v.Violation == nil || !v.Violation.SeenAt.Equal(seen) {
		t.Fatalf("verdict = %+v", v)
	}
	vs := e.violations(arn)
	if len(vs) != 1 || !vs[0].Open() || vs[0].Value != "weekly" || vs[0].Mode != "report" || !vs[0].SeenAt.Equal(seen) {
		t.Fatalf("violations = %+v", vs)
	}
	e.setTag(arn, key, "daily")
	e.pass()
	vs = e.violations(arn)
	if len(vs) != 1 || vs[0].Open() || !vs[0].ResolvedAt.Equal(e.clock.Now()) || vs[0].Resolution != "value is now daily" {
		t.Fatalf("violations after the fix = %+v", vs)
	}
	if v := e.verdict("weekly"); v.Verdict != backup.VerdictCompliant {
		t.Fatalf("verdict after the fix = %+v", v)
	}
	if e.fault.Calls() != 0 {
		t.Fatalf("report mode wrote %d times", e.fault.Calls())
	}
}

// In remediate mode weekly is reset to the default, other tags untouched,
// and the violation recorded and resolved.
func TestDisallowedValueRemediated(t *testing.T) {
	r := governance.Superwerker()
	r.Mode = governance.ModeRemediate
	e := newEnv(t, nil, r)
	arn := e.createTable("weekly", map[string]string{key: "weekly", "team": "t", "env": "dev"})
	e.pass()
	wantTags(t, e.tags(arn), map[string]string{key: "daily", "team": "t", "env": "dev"})
	vs := e.violations(arn)
	if len(vs) != 1 || vs[0].Open() || vs[0].Mode != "remediate" || vs[0].Resolution != "reset to daily" ||
		!vs[0].SeenAt.Equal(e.clock.Now()) || !vs[0].ResolvedAt.Equal(e.clock.Now()) {
		t.Fatalf("violations = %+v", vs)
	}
	as := e.attempts(arn)
	if len(as) != 1 || as[0].Outcome != backup.TagAttemptSucceeded || !strings.Contains(as[0].Reason, "weekly") {
		t.Fatalf("attempts = %+v", as)
	}
	if v := e.verdict("weekly"); v.Verdict != backup.VerdictCompliant || v.TagValue != "daily" {
		t.Fatalf("verdict = %+v", v)
	}
}

func TestNoneOptedOut(t *testing.T) {
	e := newEnv(t, nil)
	e.createTable("optout", map[string]string{key: "none"})
	e.pass()
	v := e.verdict("optout")
	if v.Verdict != backup.VerdictOptedOut || v.TagValue != "none" || len(v.Plans) != 0 {
		t.Fatalf("verdict = %+v", v)
	}
}

// A source that does not answer leaves its tables UNKNOWN, not
// NON_COMPLIANT, until it answers again.
func TestSourceDownUnknownThenBack(t *testing.T) {
	e := newEnv(t, nil)
	e.createTable("tab1", map[string]string{key: "daily"})
	e.createTable("tab2", nil)
	e.pass()
	e.proxy.setDown(true)
	e.pass()
	r, err := e.w.Compliance(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Resources) != 2 {
		t.Fatalf("rows while down: %+v", r.Resources)
	}
	for _, row := range r.Resources {
		if row.Verdict != backup.VerdictUnknown || !strings.Contains(row.Reason, "source local does not answer") {
			t.Fatalf("row while down = %+v", row)
		}
	}
	e.proxy.setDown(false)
	e.pass()
	for _, n := range []string{"tab1", "tab2"} {
		if v := e.verdict(n); v.Verdict != backup.VerdictCompliant {
			t.Fatalf("%s after the source is back: %+v", n, v)
		}
	}
}

// A source that never answered has one UNKNOWN row.
func TestSourceNeverAnswered(t *testing.T) {
	e := newEnv(t, nil)
	e.proxy.setDown(true)
	e.pass()
	v := e.verdict("*")
	if v.Verdict != backup.VerdictUnknown || v.Source != "local" {
		t.Fatalf("verdict = %+v", v)
	}
}

// A target that refuses TagResource gets superwerker's remediation: 10
// attempts, 60 s apart, each recorded with its reason; then the worker
// gives up and says so.
func TestTenAttemptsOnRefusal(t *testing.T) {
	e := newEnv(t, nil)
	e.fault.Refuse(dynamodb.AccessDenied("User is not authorized to perform: dynamodb:TagResource"))
	arn := e.createTable("locked", map[string]string{"team": "t"})
	for range 20 * 6 { // 20 minutes of passes
		e.pass()
	}
	as := e.attempts(arn)
	if len(as) != 10 {
		t.Fatalf("%d attempts recorded, want 10: %+v", len(as), as)
	}
	for i, a := range as {
		if a.Attempt != i+1 || a.Outcome != backup.TagAttemptFailed || a.Reason != "tag superwerker:backup missing" ||
			!strings.Contains(a.Error, "AccessDeniedException") {
			t.Fatalf("attempt %d = %+v", i+1, a)
		}
		if i > 0 && a.Time.Sub(as[i-1].Time) != time.Minute {
			t.Fatalf("attempts %d and %d are %v apart, want 60s", i, i+1, a.Time.Sub(as[i-1].Time))
		}
	}
	if e.fault.Calls() != 10 {
		t.Fatalf("TagResource called %d times, want 10", e.fault.Calls())
	}
	v := e.verdict("locked")
	if v.Verdict != backup.VerdictNonCompliant || !strings.Contains(v.Reason, "gave up after 10 attempts") {
		t.Fatalf("verdict = %+v", v)
	}
	wantTags(t, e.tags(arn), map[string]string{"team": "t"})
}

// A refusal that ends before the attempts are spent: the next attempt tags.
func TestRetryThenSuccess(t *testing.T) {
	e := newEnv(t, nil)
	e.fault.Refuse(dynamodb.AccessDenied("denied"))
	arn := e.createTable("later", nil)
	e.pass()
	v := e.verdict("later")
	if v.Verdict != backup.VerdictNonCompliant || !strings.Contains(v.Reason, "attempt 1 of 10 failed") {
		t.Fatalf("verdict = %+v", v)
	}
	e.fault.Refuse(nil)
	for range 6 {
		e.pass()
	}
	wantTags(t, e.tags(arn), map[string]string{key: "daily"})
	as := e.attempts(arn)
	if len(as) != 2 || as[1].Attempt != 2 || as[1].Outcome != backup.TagAttemptSucceeded {
		t.Fatalf("attempts = %+v", as)
	}
}

// A dry run (the server's flag or the rule's) reports what it would tag
// and changes nothing.
func TestDryRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		tune func(*governance.Config)
		rule func(*governance.Rule)
	}{
		{"server", func(c *governance.Config) { c.DryRun = true }, nil},
		{"rule", nil, func(r *governance.Rule) { r.DryRun = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := governance.Superwerker()
			r.Mode = governance.ModeRemediate
			if tc.rule != nil {
				tc.rule(&r)
			}
			e := newEnv(t, tc.tune, r)
			bare := e.createTable("bare", map[string]string{"team": "t"})
			weekly := e.createTable("weekly", map[string]string{key: "weekly"})
			for range 3 {
				e.pass()
			}
			if e.fault.Calls() != 0 {
				t.Fatalf("dry run called TagResource %d times", e.fault.Calls())
			}
			wantTags(t, e.tags(bare), map[string]string{"team": "t"})
			wantTags(t, e.tags(weekly), map[string]string{key: "weekly"})
			as := e.attempts(bare)
			if len(as) != 1 || as[0].Outcome != backup.TagAttemptDryRun || as[0].Value != "daily" {
				t.Fatalf("attempts = %+v, want one DRY_RUN", as)
			}
			if v := e.verdict("bare"); v.Verdict != backup.VerdictNonCompliant || !strings.Contains(v.Reason, "dry run: would set superwerker:backup=daily") {
				t.Fatalf("verdict = %+v", v)
			}
			if v := e.verdict("weekly"); v.Verdict != backup.VerdictNonCompliant || v.Violation == nil || !v.Violation.Open() {
				t.Fatalf("verdict = %+v", v)
			}
		})
	}
}

// Exclusions by table name pattern and by source leave tables alone.
func TestExclusions(t *testing.T) {
	r := governance.Superwerker()
	r.ExcludeTables = []string{"tmp-*"}
	e := newEnv(t, nil, r)
	tmp := e.createTable("tmp-scratch", nil)
	e.createTable("keep", nil)
	e.pass()
	wantTags(t, e.tags(tmp), map[string]string{})
	if v := e.verdict("tmp-scratch"); v.Verdict != backup.VerdictNotApplicable || !strings.Contains(v.Reason, `exclusion "tmp-*"`) {
		t.Fatalf("verdict = %+v", v)
	}
	if v := e.verdict("keep"); v.Verdict != backup.VerdictCompliant {
		t.Fatalf("verdict = %+v", v)
	}

	r = governance.Superwerker()
	r.ExcludeSources = []string{"local"}
	e = newEnv(t, nil, r)
	arn := e.createTable("any", nil)
	e.pass()
	wantTags(t, e.tags(arn), map[string]string{})
	if v := e.verdict("any"); v.Verdict != backup.VerdictNotApplicable {
		t.Fatalf("verdict = %+v", v)
	}
}

// A rule not enforced for dynamodb:table judges tables but writes nothing.
func TestNotEnforced(t *testing.T) {
	r := governance.Superwerker()
	r.EnforcedFor = []string{"ec2:volume"}
	e := newEnv(t, nil, r)
	arn := e.createTable("plain", nil)
	e.pass()
	wantTags(t, e.tags(arn), map[string]string{})
	if v := e.verdict("plain"); v.Verdict != backup.VerdictNonCompliant || !strings.Contains(v.Reason, "not enforced for dynamodb:table") {
		t.Fatalf("verdict = %+v", v)
	}
}

// The backup part of a verdict: covered by no plan; a COMPLETED point
// within the rule's period and windows; one too old.
func TestBackupVerdicts(t *testing.T) {
	e := newEnv(t, nil)
	arn := e.createTable("daily", map[string]string{key: "daily"})
	other := e.createTable("other-tag", map[string]string{key: "daily", "x": "y"})
	_ = other
	e.pass()
	// No point yet, but new: COMPLIANT until the first backup is due.
	if v := e.verdict("daily"); v.Verdict != backup.VerdictCompliant {
		t.Fatalf("new table: %+v", v)
	}
	// 26 h + 3 h of windows later still no point: NON_COMPLIANT.
	e.clock.Advance(28 * time.Hour)
	e.pass()
	if v := e.verdict("daily"); v.Verdict != backup.VerdictNonCompliant || !strings.Contains(v.Reason, "no COMPLETED recovery point within 27h00m") {
		t.Fatalf("no backup: %+v", v)
	}
	// A COMPLETED point of an hour ago.
	ctx := t.Context()
	if err := e.cat.CreateVault(ctx, &backup.Vault{Name: "Default", ARN: "arn:aws:backup:us-east-1:000000000000:backup-vault:Default",
		AccountID: "000000000000", Region: "us-east-1", CreationDate: t0}); err != nil {
		t.Fatal(err)
	}
	at := e.clock.Now().Add(-time.Hour)
	p := &backup.RecoveryPoint{ID: "rp1", ARN: "arn:aws:backup:us-east-1:000000000000:recovery-point:rp1", AccountID: "000000000000",
		Region: "us-east-1", VaultName: "Default", VaultARN: "arn:aws:backup:us-east-1:000000000000:backup-vault:Default",
		ResourceARN: arn, ResourceType: backup.ResourceTypeDynamoDB, ResourceName: "daily", Status: backup.RecoveryPointCompleted,
		StorageClass: backup.StorageWarm, CreationDate: at, CompletionDate: at.Add(time.Minute)}
	if err := e.cat.CreateRecoveryPoint(ctx, p); err != nil {
		t.Fatal(err)
	}
	e.pass()
	v := e.verdict("daily")
	if v.Verdict != backup.VerdictCompliant || !v.LastBackupTime.Equal(at) || v.LastRecoveryPointARN != p.ARN ||
		!strings.Contains(v.Reason, "last COMPLETED recovery point 1h00m ago") {
		t.Fatalf("backed up: %+v", v)
	}
	// Two days later the point is too old.
	e.clock.Advance(48 * time.Hour)
	e.pass()
	if v := e.verdict("daily"); v.Verdict != backup.VerdictNonCompliant || !strings.Contains(v.Reason, "old, more than 27h00m") {
		t.Fatalf("old backup: %+v", v)
	}
	// Without the plan's selection, no plan covers the table.
	if err := e.cat.DeleteBackupSelection(ctx, "plan-sw", "sel-sw"); err != nil {
		t.Fatal(err)
	}
	e.pass()
	if v := e.verdict("daily"); v.Verdict != backup.VerdictNonCompliant || v.Reason != "covered by no backup plan" {
		t.Fatalf("no plan: %+v", v)
	}
}

func TestRuleValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*governance.Rule)
		want string
	}{
		{"no key", func(r *governance.Rule) { r.Key = "" }, "key is required"},
		{"default not allowed", func(r *governance.Rule) { r.Default = "weekly" }, `default "weekly" is not one of the allowed values`},
		{"bad mode", func(r *governance.Rule) { r.Mode = "fix" }, `mode "fix": use report or remediate`},
		{"bad pattern", func(r *governance.Rule) { r.ExcludeTables = []string{"[a-"} }, `exclude_tables pattern "[a-"`},
		{"aws prefix", func(r *governance.Rule) { r.Key = "aws:backup" }, "reserved"},
	} {
		r := governance.Superwerker()
		tc.edit(&r)
		err := r.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	r := governance.Superwerker()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
}

// noTagsInventory is a source that refuses ListTagsOfResource, as a
// DynamoDB-compatible server without tagging does.
type noTagsInventory struct{ dynamodb.Inventory }

func (noTagsInventory) ListTags(ctx context.Context, arn string) ([]dynamodb.Tag, error) {
	return nil, fmt.Errorf("list tags of %s: %w", arn, errors.ErrUnsupported)
}

// A table whose tags the source will not list is UNKNOWN and never written.
func TestSourceWithoutTagging(t *testing.T) {
	e := newEnv(t, func(c *governance.Config) { c.Sources[0].Inventory = noTagsInventory{c.Sources[0].Inventory} })
	arn := e.createTable("untaggable", nil)
	e.pass()
	e.pass()
	if e.fault.Calls() != 0 {
		t.Fatalf("TagResource called %d times", e.fault.Calls())
	}
	wantTags(t, e.tags(arn), map[string]string{})
	if v := e.verdict("untaggable"); v.Verdict != backup.VerdictUnknown || !strings.Contains(v.Reason, "does not list the table's tags") {
		t.Fatalf("verdict = %+v", v)
	}
}
