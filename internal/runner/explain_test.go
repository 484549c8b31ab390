package runner

import (
	"context"
	"strings"
	"testing"

	"github.com/cairn-backup/cairn/internal/backup"
)

// ExplainResource reads the table's tags as they are now and says which
// selection covers it, and why another does not.
func TestExplainResource(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tagged := f.table(t, "explained", 1)
	plain := f.table(t, "unexplained", 1)
	f.tag(t, tagged, "backup", "daily", "team", "storage")
	p := newPlan(t, f.svc, dailyPlan("explain-plan"), tagSelection("daily", "backup", "daily"), tagSelection("weekly", "backup", "weekly"))

	e, err := f.svc.ExplainResource(ctx, tagged)
	if err != nil {
		t.Fatal(err)
	}
	if e.Resource.ARN != tagged || e.Resource.Name != "explained" || e.Resource.Type != backup.ResourceTypeDynamoDB ||
		e.Resource.Tags["team"] != "storage" || !e.Covered() || len(e.Verdicts) != 2 {
		t.Fatalf("explanation %+v", e)
	}
	for _, v := range e.Verdicts {
		if v.BackupPlanID != p.ID || v.Reason == "" {
			t.Errorf("verdict %+v", v)
		}
		switch v.SelectionName {
		case "daily":
			if !v.Covered || len(v.Rules) != 1 || v.Rules[0].RuleName != "daily" {
				t.Errorf("daily selection: %+v", v)
			}
		case "weekly":
			if v.Covered || !strings.Contains(v.Reason, "backup") {
				t.Errorf("weekly selection: %+v", v)
			}
		}
	}

	e, err = f.svc.ExplainResource(ctx, plain)
	if err != nil || e.Covered() || len(e.Verdicts) != 2 {
		t.Fatalf("untagged table: %v %+v", err, e)
	}
	// Tags are read fresh on every call.
	f.tag(t, plain, "backup", "weekly")
	if e, err = f.svc.ExplainResource(ctx, plain); err != nil || !e.Covered() {
		t.Fatalf("after tagging: %v %+v", err, e)
	}

	missing := backup.TableARN("us-east-1", "000000000000", "no-such-table")
	if _, err := f.svc.ExplainResource(ctx, missing); backup.ErrorCode(err) != backup.ErrNotFound {
		t.Fatalf("missing table: %v", err)
	}
	if _, err := f.svc.ExplainResource(ctx, "not-an-arn"); backup.ErrorCode(err) != backup.ErrInvalidParameter {
		t.Fatalf("bad ARN: %v", err)
	}
	other := backup.TableARN("us-east-1", "111111111111", "explained")
	if _, err := f.svc.ExplainResource(ctx, other); backup.ErrorCode(err) != backup.ErrNotFound {
		t.Fatalf("table of another account: %v", err)
	}
}
