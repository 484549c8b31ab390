package catalogtest

import (
	"sync"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

const (
	govARN1 = "arn:aws:dynamodb:us-east-1:000000000000:table/gov1"
	govARN2 = "arn:aws:dynamodb:us-east-1:000000000000:table/gov2"
)

func testGovernanceTagAttempts(t *testing.T, c backup.Catalog) {
	t0 := time.Date(2026, 12, 3, 5, 0, 0, 0, time.UTC)
	for i := 1; i <= 3; i++ {
		a := &backup.TagAttempt{Source: "default", ResourceARN: govARN1, ResourceName: "gov1", Rule: "superwerker",
			Key: "superwerker:backup", Value: "daily", Reason: "tag superwerker:backup missing", Attempt: i,
			Time: t0.Add(time.Duration(i) * time.Minute), Outcome: backup.TagAttemptFailed, Error: "AccessDenied"}
		must(t, c.AddTagAttempt(ctx(t), a), "AddTagAttempt")
		if a.ID == 0 {
			t.Fatal("AddTagAttempt set no ID")
		}
	}
	must(t, c.AddTagAttempt(ctx(t), &backup.TagAttempt{Source: "default", ResourceARN: govARN2, ResourceName: "gov2",
		Rule: "superwerker", Key: "superwerker:backup", Value: "daily", Reason: "r", Attempt: 1, Time: t0,
		Outcome: backup.TagAttemptSucceeded}), "AddTagAttempt")
	wantCode(t, c.AddTagAttempt(ctx(t), &backup.TagAttempt{ResourceARN: govARN2}), backup.ErrMissingParameter, "an attempt without a time")

	got, err := c.ListTagAttempts(ctx(t), govARN1, 0)
	must(t, err, "ListTagAttempts")
	if len(got) != 3 || got[0].Attempt != 3 || got[2].Attempt != 1 {
		t.Fatalf("attempts of gov1 = %+v, want 3 newest first", got)
	}
	want := backup.TagAttempt{ID: got[0].ID, Source: "default", ResourceARN: govARN1, ResourceName: "gov1", Rule: "superwerker",
		Key: "superwerker:backup", Value: "daily", Reason: "tag superwerker:backup missing", Attempt: 3,
		Time: t0.Add(3 * time.Minute), Outcome: backup.TagAttemptFailed, Error: "AccessDenied"}
	wantEqual(t, "newest attempt", *got[0], want)
	got, err = c.ListTagAttempts(ctx(t), govARN1, 2)
	must(t, err, "ListTagAttempts limit 2")
	if len(got) != 2 {
		t.Fatalf("limit 2 returned %d attempts", len(got))
	}
	got, err = c.ListTagAttempts(ctx(t), "", 0)
	must(t, err, "ListTagAttempts all")
	if len(got) != 4 {
		t.Fatalf("all attempts: %d, want 4", len(got))
	}
}

func testGovernanceTagViolations(t *testing.T, c backup.Catalog) {
	t0 := time.Date(2026, 12, 3, 5, 0, 0, 0, time.UTC)
	v := &backup.TagViolation{Source: "default", ResourceARN: govARN1, ResourceName: "gov1", Rule: "superwerker",
		Key: "superwerker:backup", Value: "weekly", Mode: "report", SeenAt: t0}
	open, isNew, err := c.OpenTagViolation(ctx(t), v)
	must(t, err, "OpenTagViolation")
	if !isNew || open.ID == 0 || !open.Open() || !open.SeenAt.Equal(t0) || open.Value != "weekly" {
		t.Fatalf("first OpenTagViolation = %+v new=%v", open, isNew)
	}
	// Seen again on the next pass: the same violation, its first sighting kept.
	again := *v
	again.SeenAt = t0.Add(time.Minute)
	open2, isNew, err := c.OpenTagViolation(ctx(t), &again)
	must(t, err, "OpenTagViolation again")
	if isNew || open2.ID != open.ID || !open2.SeenAt.Equal(t0) {
		t.Fatalf("second OpenTagViolation = %+v new=%v, want the first", open2, isNew)
	}
	// Another value is another violation.
	other := *v
	other.Value = "hourly"
	_, isNew, err = c.OpenTagViolation(ctx(t), &other)
	must(t, err, "OpenTagViolation other value")
	if !isNew {
		t.Fatal("a violation with another value was not new")
	}
	resolved := t0.Add(2 * time.Minute)
	must(t, c.ResolveTagViolation(ctx(t), open.ID, resolved, "reset to daily"), "ResolveTagViolation")
	wantCode(t, c.ResolveTagViolation(ctx(t), open.ID, resolved, "again"), backup.ErrNotFound, "resolving a closed violation")
	wantCode(t, c.ResolveTagViolation(ctx(t), 987654, resolved, "x"), backup.ErrNotFound, "resolving a missing violation")

	all, err := c.ListTagViolations(ctx(t), backup.TagViolationFilter{ResourceARN: govARN1})
	must(t, err, "ListTagViolations")
	if len(all) != 2 {
		t.Fatalf("violations of gov1: %d, want 2", len(all))
	}
	var closed *backup.TagViolation
	for _, x := range all {
		if x.ID == open.ID {
			closed = x
		}
	}
	if closed == nil || closed.Open() || !closed.ResolvedAt.Equal(resolved) || closed.Resolution != "reset to daily" {
		t.Fatalf("resolved violation = %+v", closed)
	}
	openOnly, err := c.ListTagViolations(ctx(t), backup.TagViolationFilter{OpenOnly: true})
	must(t, err, "ListTagViolations open")
	if len(openOnly) != 1 || openOnly[0].Value != "hourly" {
		t.Fatalf("open violations = %+v, want the hourly one", openOnly)
	}
	// weekly seen again after its resolution is a new violation.
	third := *v
	third.SeenAt = t0.Add(time.Hour)
	n, isNew, err := c.OpenTagViolation(ctx(t), &third)
	must(t, err, "OpenTagViolation after resolution")
	if !isNew || n.ID == open.ID {
		t.Fatalf("a value seen again after resolution = %+v new=%v, want a new violation", n, isNew)
	}
}

// testGovernanceViolationRace: concurrent passes (two processes on one
// catalog file) that see the same value open one violation between them.
func testGovernanceViolationRace(t *testing.T, c backup.Catalog) {
	t0 := time.Date(2026, 12, 3, 5, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	ids := make([]int64, 8)
	news := make([]bool, 8)
	for i := range ids {
		wg.Go(func() {
			v, isNew, err := c.OpenTagViolation(ctx(t), &backup.TagViolation{Source: "s", ResourceARN: govARN2,
				ResourceName: "gov2", Rule: "r", Key: "k", Value: "weekly", Mode: "report", SeenAt: t0})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i], news[i] = v.ID, isNew
		})
	}
	wg.Wait()
	created := 0
	for i := range ids {
		if ids[i] != ids[0] {
			t.Fatalf("racing OpenTagViolation returned ids %v", ids)
		}
		if news[i] {
			created++
		}
	}
	if created != 1 {
		t.Fatalf("%d callers created the violation, want 1", created)
	}
}
