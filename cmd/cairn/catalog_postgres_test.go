package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	bktypes "github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/postgres"
	"github.com/cairn-backup/cairn/internal/sqlite"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// catalogState is what a catalog holds, read through backup.Catalog.
type catalogState struct {
	Jobs       []*backup.BackupJob
	Restores   []*backup.RestoreJob
	Points     []*backup.RecoveryPoint
	Plans      []*backup.BackupPlan
	Selections []*backup.BackupSelection
	Vaults     []*backup.Vault
	Policies   []*backup.Policy
	Frameworks []*backup.Framework
	Attempts   []*backup.TagAttempt
	Violations []*backup.TagViolation
	Cursors    map[string]time.Time
}

func readCatalog(t *testing.T, c backup.Catalog) catalogState {
	t.Helper()
	ctx := context.Background()
	page := backup.Page{MaxResults: 1000}
	var s catalogState
	var err error
	check := func(what string) {
		if err != nil {
			t.Fatalf("read %s: %v", what, err)
		}
	}
	s.Jobs, _, err = c.ListBackupJobs(ctx, backup.BackupJobFilter{Page: page})
	check("backup jobs")
	s.Restores, _, err = c.ListRestoreJobs(ctx, backup.RestoreJobFilter{Page: page})
	check("restore jobs")
	s.Points, _, err = c.ListRecoveryPoints(ctx, backup.RecoveryPointFilter{Page: page})
	check("recovery points")
	s.Plans, _, err = c.ListBackupPlans(ctx, backup.BackupPlanFilter{Page: page, IncludeDeleted: true})
	check("plans")
	s.Cursors = map[string]time.Time{}
	for _, p := range s.Plans {
		sels, _, err := c.ListBackupSelections(ctx, p.ID, page)
		if err != nil {
			t.Fatal(err)
		}
		s.Selections = append(s.Selections, sels...)
		for _, r := range p.PlanDocument.Rules {
			at, err := c.RuleCursor(ctx, p.ID, r.RuleID)
			if err != nil {
				t.Fatal(err)
			}
			s.Cursors[p.ID+"/"+r.RuleID] = at
		}
	}
	s.Vaults, _, err = c.ListVaults(ctx, page)
	check("vaults")
	s.Policies, _, err = c.ListPolicies(ctx, page)
	check("policies")
	s.Frameworks, _, err = c.ListFrameworks(ctx, page)
	check("frameworks")
	s.Attempts, err = c.ListTagAttempts(ctx, "", 0)
	check("tag attempts")
	s.Violations, err = c.ListTagViolations(ctx, backup.TagViolationFilter{})
	check("tag violations")
	return s
}

// cairn catalog copy moves a real installation's SQLite catalog (jobs,
// points, plans with selections and rule cursors, governance policies and
// tag attempts, a framework) into PostgreSQL, and a server on PostgreSQL
// with the same data dir reads it all back and restores the point.
func TestCatalogCopyToPostgres(t *testing.T) {
	pg := testbed.PostgresServer(t)
	url := pg.NewDatabase(t)
	ddb := testbed.Dynalite(t)
	db := ddbClient(ddb.Endpoint)
	createTable(t, db, "orders", "S", false)
	seedRandom(t, db, "orders", 40)
	sum := func(table string) string { n, s := tableChecksum(t, db, table); return fmt.Sprint(n, s) }
	dir := t.TempDir()
	ctx := context.Background()

	// An installation on SQLite: a backup, a plan of our own with a
	// selection, superwerker's governance (policies, a managed plan, tag
	// attempts on orders) and an audit framework.
	m := testServerWith(t, dir, ddb.Endpoint, func(m *Main) {
		m.Config.Governance = "superwerker"
		m.Config.Tagging.Interval = time.Second
	})
	c := backupClient(m)
	job := waitBackupJob(t, c, startBackup(t, c, "orders"))
	if job.State != bktypes.BackupJobStateCompleted {
		t.Fatalf("backup on SQLite: %s %s", job.State, aws.ToString(job.StatusMessage))
	}
	plan, err := c.CreateBackupPlan(ctx, &bk.CreateBackupPlanInput{BackupPlan: &bktypes.BackupPlanInput{
		BackupPlanName: aws.String("nightly"), Rules: []bktypes.BackupRuleInput{{RuleName: aws.String("at5"),
			TargetBackupVaultName: aws.String("Default"), ScheduleExpression: aws.String("cron(0 5 ? * * *)")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBackupSelection(ctx, &bk.CreateBackupSelectionInput{BackupPlanId: plan.BackupPlanId,
		BackupSelection: &bktypes.BackupSelection{SelectionName: aws.String("orders"), IamRoleArn: aws.String(role),
			Resources: []string{"arn:aws:dynamodb:us-east-1:000000000000:table/orders"}}}); err != nil {
		t.Fatal(err)
	}
	if err := m.catalog.SetRuleCursor(ctx, aws.ToString(plan.BackupPlanId), "rule-at5", time.Date(2026, 1, 2, 5, 0, 0, 123, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateFramework(ctx, &bk.CreateFrameworkInput{FrameworkName: aws.String("audit"),
		FrameworkControls: []bktypes.FrameworkControl{{ControlName: aws.String("BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED")}}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the governance worker tags orders", func() bool {
		a, err := m.catalog.ListTagAttempts(ctx, "", 0)
		return err == nil && len(a) > 0
	})
	closeMain(t, m)
	before := readCatalog(t, mustSQLite(t, dir))
	if len(before.Jobs) != 1 || len(before.Points) != 1 || len(before.Plans) != 2 || len(before.Selections) < 2 ||
		len(before.Policies) != 2 || len(before.Frameworks) != 1 || len(before.Attempts) == 0 {
		t.Fatalf("the SQLite catalog lacks what the test made: %d jobs, %d points, %d plans, %d selections, %d policies, %d frameworks, %d tag attempts",
			len(before.Jobs), len(before.Points), len(before.Plans), len(before.Selections), len(before.Policies), len(before.Frameworks), len(before.Attempts))
	}

	// A server on the empty PostgreSQL catalog with this data dir would
	// hide the vault's point: it refuses, naming the copy.
	if _, err := openMain(t, Config{Listen: "127.0.0.1:0", DataDir: dir, Catalog: url}, nil); err == nil ||
		!strings.Contains(err.Error(), "cairn catalog copy --from sqlite:"+filepath.Join(dir, "catalog.db")) {
		t.Fatalf("a server on an empty PostgreSQL catalog beside a vault with points: %v", err)
	}

	from := "sqlite:" + filepath.Join(dir, "catalog.db")
	out, _, err := cairnRun(t, "catalog", "copy", "--from", from, "--to", url)
	if err != nil {
		t.Fatalf("catalog copy: %v\n%s", err, out)
	}
	if !strings.Contains(out, "every count the same") || !strings.Contains(out, "backup_jobs") {
		t.Fatalf("catalog copy said:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] != "TABLE" && f[1] != f[2] {
			t.Errorf("catalog copy: counts differ: %s", line)
		}
	}
	// A second copy into the now full catalog is refused and changes nothing.
	if out, _, err := cairnRun(t, "catalog", "copy", "--from", from, "--to", url); err == nil ||
		!strings.Contains(err.Error(), "holds data") || !strings.Contains(err.Error(), "--replace") {
		t.Fatalf("a copy into a catalog that holds data: %v\n%s", err, out)
	}

	// cairn catalog backup copies the SQLite file: with the catalog in
	// PostgreSQL it says so instead of copying a stale file.
	t.Setenv("CAIRN_CATALOG", url)
	if _, _, err := cairnRun(t, "catalog", "backup", filepath.Join(t.TempDir(), "copy.db"), "--data-dir", dir); err == nil ||
		!strings.Contains(err.Error(), "pg_dump") {
		t.Fatalf("catalog backup with the catalog in PostgreSQL: %v", err)
	}
	t.Setenv("CAIRN_CATALOG", "")

	// The server on PostgreSQL: the same catalog, read back through it.
	m2 := testServerWith(t, dir, ddb.Endpoint, func(m *Main) { m.Config.Catalog = url })
	if _, ok := m2.catalog.(*postgres.Catalog); !ok {
		t.Fatalf("the server with catalog %s runs on %T", url, m2.catalog)
	}
	after := readCatalog(t, m2.catalog)
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("the catalog read back from PostgreSQL differs:\nbefore %+v\nafter  %+v", before, after)
	}
	c2 := backupClient(m2)
	got, err := c2.DescribeBackupJob(ctx, &bk.DescribeBackupJobInput{BackupJobId: job.BackupJobId})
	if err != nil || got.State != bktypes.BackupJobStateCompleted || aws.ToString(got.RecoveryPointArn) != aws.ToString(job.RecoveryPointArn) {
		t.Fatalf("DescribeBackupJob on PostgreSQL: %v %+v", err, got)
	}
	p, err := c2.GetBackupPlan(ctx, &bk.GetBackupPlanInput{BackupPlanId: plan.BackupPlanId})
	if err != nil || aws.ToString(p.BackupPlan.BackupPlanName) != "nightly" {
		t.Fatalf("GetBackupPlan on PostgreSQL: %v", err)
	}
	r := waitRestoreJob(t, c2, startRestore(t, c2, aws.ToString(job.RecoveryPointArn), "orders-copy", false))
	if r.Status != bktypes.RestoreJobStatusCompleted {
		t.Fatalf("restore on PostgreSQL: %s %s", r.Status, aws.ToString(r.StatusMessage))
	}
	if sum("orders") != sum("orders-copy") {
		t.Fatalf("the restored table differs from the source")
	}
	again := waitBackupJob(t, c2, startBackup(t, c2, "orders"))
	if again.State != bktypes.BackupJobStateCompleted {
		t.Fatalf("backup on PostgreSQL: %s %s", again.State, aws.ToString(again.StatusMessage))
	}

	// Several servers share a PostgreSQL catalog: a second one (another
	// data dir) starts and serves the same catalog; the first leads.
	m3, err := openMain(t, Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Catalog: url}, nil)
	if err != nil {
		t.Fatalf("a second server on one PostgreSQL catalog: %v", err)
	}
	st, err := m3.Service.ClusterStatus(ctx)
	if err != nil || st.Catalog != "postgres" || len(st.Nodes) != 2 || st.Leader != m2.cluster.NodeID() || st.Self != m3.cluster.NodeID() {
		t.Fatalf("the second server's cluster status: %+v %v", st, err)
	}
	if _, err := m3.Service.GetBackupJob(ctx, aws.ToString(job.BackupJobId)); err != nil {
		t.Fatalf("the second server reads the first one's job: %v", err)
	}
	// A copy into the catalog is refused while any server uses it (from a
	// copy of the SQLite file: the first server holds its data dir).
	other := filepath.Join(t.TempDir(), "catalog.db")
	if b, err := os.ReadFile(strings.TrimPrefix(from, "sqlite:")); err != nil || os.WriteFile(other, b, 0o600) != nil {
		t.Fatal(err)
	}
	if _, _, err := cairnRun(t, "catalog", "copy", "--from", "sqlite:"+other, "--to", url, "--replace"); err == nil ||
		!strings.Contains(err.Error(), "in use by another cairn server") || !strings.Contains(err.Error(), "cairn node") {
		t.Fatalf("a copy while servers run: %v", err)
	}
	closeMain(t, m2)
	closeMain(t, m3)
}

// mustSQLite opens the data dir's SQLite catalog for the test's reads.
func mustSQLite(t *testing.T, dir string) backup.Catalog {
	t.Helper()
	c, err := sqliteOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func sqliteOpen(dir string) (backup.Catalog, error) {
	return sqlite.Open(context.Background(), filepath.Join(dir, catalogFile))
}

// A catalog that is neither left out nor a postgres:// URL is refused by
// name, its password hidden, before anything is opened.
func TestConfigCatalog(t *testing.T) {
	for _, ok := range []string{"", "postgres://cairn@127.0.0.1/cairn", "postgresql://cairn:pw@db/cairn?sslmode=require"} {
		if err := validateCatalog(ok); err != nil {
			t.Errorf("catalog %q: %v", ok, err)
		}
	}
	for _, bad := range []string{"sqlite", "mysql://u:hunter2@db/cairn", "/var/lib/cairn/catalog.db"} {
		err := validateCatalog(bad)
		if err == nil || !strings.Contains(err.Error(), "config: catalog") || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("catalog %q: %v", bad, err)
		}
	}
	dir := t.TempDir()
	if _, err := openMain(t, Config{Listen: "127.0.0.1:0", DataDir: filepath.Join(dir, "data"), Catalog: "mysql://db/cairn"}, nil); err == nil ||
		!strings.Contains(err.Error(), "postgres://") {
		t.Fatalf("a server with catalog mysql://: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Fatalf("a refused config left a data dir: %v", err)
	}
}
