package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
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

// fillPoints inserts n recovery points in one vault: one in ten COLD,
// lifecycles of a few kinds, created a minute apart.
func fillPoints(t *testing.T, c *Catalog, n int) time.Time {
	t.Helper()
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := c.CreateVault(t.Context(), &backup.Vault{Name: "v", CreationDate: start}); err != nil {
		t.Fatal(err)
	}
	tx, err := c.write.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(t.Context(), "INSERT INTO recovery_points ("+pointCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	lifecycles := []backup.Lifecycle{{DeleteAfterDays: 35}, {MoveToColdStorageAfterDays: 30, DeleteAfterDays: 365}, {}}
	for i := range n {
		p := &backup.RecoveryPoint{ID: fmt.Sprintf("rp-%08d", i), VaultName: "v", Status: backup.RecoveryPointCompleted,
			StorageClass: backup.StorageWarm, CreationDate: start.Add(time.Duration(i) * time.Minute),
			ResourceARN: fmt.Sprintf("arn:t%d", i%100), Lifecycle: lifecycles[i%len(lifecycles)]}
		if i%10 == 1 {
			p.StorageClass = backup.StorageCold
		}
		args, err := pointArgs(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stmt.ExecContext(t.Context(), args...); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return start
}

// fillCopies inserts n copy jobs, mostly COMPLETED, over 100 resources and
// 10 destination vaults.
func fillCopies(t *testing.T, c *Catalog, start time.Time, n int) {
	t.Helper()
	for i := range n {
		j := &backup.CopyJob{ID: fmt.Sprintf("copy-%08d", i), AccountID: "123456789012", State: backup.CopyCompleted,
			ResourceARN: fmt.Sprintf("arn:t%d", i%100), ResourceType: backup.ResourceTypeDynamoDB,
			DestinationBackupVaultARN: fmt.Sprintf("arn:v%d", i%10),
			CreationDate:              start.Add(time.Duration(i) * time.Minute)}
		j.CompletionDate = j.CreationDate.Add(time.Minute)
		if i%20 == 3 {
			j.State = backup.CopyFailed
		}
		if i > n-10 {
			j.State, j.CompletionDate = backup.CopyRunning, time.Time{}
		}
		if err := c.CreateCopyJob(t.Context(), j); err != nil {
			t.Fatal(err)
		}
	}
}

// TestIssue3ListPlans checks that the listings of plans, versions,
// selections, copy jobs and due recovery points read an index.
func TestIssue3ListPlans(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	c, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	start := fillPoints(t, c, 20000)
	fillCopies(t, c, start, 5000)
	c.Close()
	if c, err = Open(t.Context(), path); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mid := start.Add(10000 * time.Minute)
	pointCase := func(f backup.RecoveryPointFilter) *listQuery {
		q, err := pointQuery(f)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	for _, tc := range []struct {
		name string
		q    *listQuery
		want []string
		sort bool // the plan may sort the matching rows
	}{
		{"plans", planListQuery(backup.BackupPlanFilter{}), []string{"backup_plans_live"}, false},
		{"plans with deleted", planListQuery(backup.BackupPlanFilter{IncludeDeleted: true}), []string{"backup_plans_by_creation"}, false},
		{"plan versions", versionListQuery("p"), []string{"backup_plan_versions_by_creation (plan_id=? "}, false},
		{"selections", selectionListQuery("p"), []string{"backup_selections_by_plan (plan_id=? "}, false},
		{"points warm", pointCase(backup.RecoveryPointFilter{StorageClass: backup.StorageWarm}), []string{"recovery_points_by_class (storage_class=? "}, false},
		{"points cold", pointCase(backup.RecoveryPointFilter{StorageClass: backup.StorageCold}), []string{"recovery_points_by_class (storage_class=? "}, false},
		{"points warm, cold due", pointCase(backup.RecoveryPointFilter{StorageClass: backup.StorageWarm, ColdDueBy: mid}),
			[]string{"recovery_points_cold_due (storage_class=? AND cold_ns<?)"}, true},
		{"points completed, warm, cold due", pointCase(backup.RecoveryPointFilter{StorageClass: backup.StorageWarm, ColdDueBy: mid,
			Statuses: []backup.RecoveryPointStatus{backup.RecoveryPointCompleted}}),
			[]string{"recovery_points_cold_due (storage_class=? AND cold_ns<?)"}, true},
		{"copies", copyQuery(backup.CopyJobFilter{}), []string{"copy_jobs_by_creation"}, false},
		{"copies by state", copyQuery(backup.CopyJobFilter{States: []backup.CopyJobState{backup.CopyFailed}}),
			[]string{"copy_jobs_by_state (state=? "}, false},
		{"copies by states", copyQuery(backup.CopyJobFilter{States: []backup.CopyJobState{backup.CopyCreated, backup.CopyRunning}}),
			[]string{"copy_jobs_by_state (state=? "}, false},
		{"copies by resource", copyQuery(backup.CopyJobFilter{ResourceARN: "arn:t7"}), []string{"copy_jobs_by_resource (resource_arn=? "}, false},
		{"copies by type", copyQuery(backup.CopyJobFilter{ResourceType: "EBS"}), []string{"copy_jobs_by_type (resource_type=? "}, false},
		{"copies by destination", copyQuery(backup.CopyJobFilter{DestinationBackupVaultARN: "arn:v3"}),
			[]string{"copy_jobs_by_destination (destination_vault_arn=? "}, false},
		{"copies by account", copyQuery(backup.CopyJobFilter{AccountID: "999999999999"}), []string{"copy_jobs_by_account (account_id=? "}, false},
		{"copies complete before", copyQuery(backup.CopyJobFilter{CompleteBefore: mid}),
			[]string{"copy_jobs_by_creation (", "copy_jobs_completed_early"}, false},
		{"points cold due", pointCase(backup.RecoveryPointFilter{ColdDueBy: mid}),
			[]string{"recovery_points_cold_due (storage_class=? AND cold_ns<?)"}, true},
		{"points delete due", pointCase(backup.RecoveryPointFilter{DeleteDueBy: mid}),
			[]string{"recovery_points_delete_due (delete_ns<?)"}, true},
		{"points delete due, statuses", pointCase(backup.RecoveryPointFilter{DeleteDueBy: mid,
			Statuses: []backup.RecoveryPointStatus{backup.RecoveryPointCompleted, backup.RecoveryPointDeleting}}),
			[]string{"recovery_points_delete_due (delete_ns<?)"}, true},
	} {
		plan, err := queryPlan(t.Context(), c, tc.q, &cursor{ns: mid.UnixNano(), id: "x"})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(plan, w) {
				t.Errorf("%s: plan does not use %q:\n%s", tc.name, w, plan)
			}
		}
		for _, line := range strings.Split(plan, "\n") {
			if strings.HasPrefix(line, "SCAN ") && !strings.Contains(line, "USING") && !strings.HasPrefix(line, "SCAN (subquery") {
				t.Errorf("%s: plan reads a whole table:\n%s", tc.name, plan)
			}
		}
		// A merge sorts each part's page (its LIMIT rows) again; only a
		// sort of all the matching rows counts.
		lines := strings.Split(plan, "\n")
		for i, line := range lines {
			if !tc.sort && strings.Contains(line, "TEMP B-TREE") && (i == 0 || !strings.HasPrefix(lines[i-1], "SCAN (subquery")) {
				t.Errorf("%s: plan sorts:\n%s", tc.name, plan)
			}
		}
	}
}
