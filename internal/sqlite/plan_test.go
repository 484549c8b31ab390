package sqlite

import (
	"context"
	"strings"
	"testing"
)

// queryPlan returns SQLite's plan for the page query of f, one step a line.
func queryPlan(ctx context.Context, c *Catalog, q *listQuery, cur *cursor) (string, error) {
	query, args := q.build(cur, 101)
	rows, err := c.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			return "", err
		}
		lines = append(lines, detail)
	}
	return strings.Join(lines, "\n"), rows.Err()
}

// TestListPlans checks that every listing of the benchmark reads an index
// in page order rather than the whole table.
func TestListPlans(t *testing.T) {
	s := defaultShape(10000)
	c := openFilled(t, s)
	want := map[string][]string{
		"none":                       {"backup_jobs_by_creation"},
		"state=FAILED":               {"backup_jobs_by_state (state=?)"},
		"state=FAILED/deep":          {"backup_jobs_by_state (state=? AND (creation_ns,id)<(?,?))"},
		"state=RUNNING":              {"backup_jobs_by_state (state=?)"},
		"states=active":              {"backup_jobs_by_state (state=?)"},
		"resource":                   {"backup_jobs_by_resource (resource_arn=?)"},
		"resource+state=FAILED":      {"backup_jobs_by_resource (resource_arn=?)"},
		"vault+created-range":        {"backup_jobs_by_vault (vault_name=? AND creation_ns>? AND creation_ns<?)"},
		"vault+states+created-range": {"(state=? AND creation_ns>? AND creation_ns<?)"},
		"complete-after-last-hour":   {"backup_jobs_by_creation"},
		"idempotency-token":          {"backup_jobs_by_token (idempotency_token=?)"},
		"account+type":               {"backup_jobs_by_"},
		"complete-before-first-day":  {"backup_jobs_by_creation (creation_ns<?)", "backup_jobs_completed_early"},
		"account-unknown":            {"backup_jobs_by_account (account_id=?)"},
		"type-unknown":               {"backup_jobs_by_type (resource_type=?)"},
		"resource-unknown":           {"backup_jobs_by_resource (resource_arn=?)"},
	}
	for _, bc := range benchCases(s) {
		cur, err := decodeCursor(tokenJobs, bc.f.NextToken)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := queryPlan(t.Context(), c, jobQuery(bc.f), cur)
		if err != nil {
			t.Fatalf("%s: %v", bc.name, err)
		}
		subs, ok := want[bc.name]
		if !ok {
			t.Errorf("%s: no expected plan", bc.name)
		}
		for _, sub := range subs {
			if !strings.Contains(plan, sub) {
				t.Errorf("%s: plan does not use %q:\n%s", bc.name, sub, plan)
			}
		}
		for _, line := range strings.Split(plan, "\n") {
			if strings.HasPrefix(line, "SCAN backup_jobs") && !strings.Contains(line, "USING") {
				t.Errorf("%s: plan reads the whole table:\n%s", bc.name, plan)
			}
		}
	}
}

// TestCatalogReadPlans checks the plans of the vault count and the protected
// resources listing: index seeks, no reads of the points themselves.
func TestCatalogReadPlans(t *testing.T) {
	c, err := OpenMemory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"SELECT " + vaultCols + " FROM vaults v WHERE name = 'x'",
			[]string{"USING COVERING INDEX recovery_points_by_vault (vault_name=?)"}},
		{"SELECT min(resource_arn) FROM recovery_points INDEXED BY recovery_points_protected WHERE status = 'COMPLETED' AND resource_arn > 'x'",
			[]string{"recovery_points_protected (resource_arn>?)"}},
		{"SELECT id FROM recovery_points INDEXED BY recovery_points_protected WHERE status = 'COMPLETED' AND resource_arn = 'x' ORDER BY creation_ns DESC, id DESC LIMIT 1",
			[]string{"recovery_points_protected (resource_arn=?)"}},
	} {
		rows, err := c.read.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+tc.query)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s:\nplan does not use %q:\n%s", tc.query, w, text)
			}
		}
		if strings.Contains(text, "TEMP B-TREE") {
			t.Errorf("%s: plan sorts:\n%s", tc.query, text)
		}
	}
}
