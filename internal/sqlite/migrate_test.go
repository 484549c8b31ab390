package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// TestMigrateFromSchema1 upgrades a catalog written by schema 1 and checks
// that its rows get the new columns' values: lifecycle dates, rule IDs.
func TestMigrateFromSchema1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	text, err := migrations.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2025, 1, 30, 23, 30, 0, 123, time.UTC)
	for _, stmt := range []string{
		string(text),
		"PRAGMA user_version = 1",
		`INSERT INTO vaults (name, arn, account_id, region, creation_ns, creator_request_id, encryption_key_arn, tags, storage)
			VALUES ('v', '', '', '', NULL, '', '', NULL, '{"kind":"file","path":"/x"}')`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []struct {
		id, lifecycle string
	}{
		{"both", `{"MoveToColdStorageAfterDays":30,"DeleteAfterDays":120}`},
		{"delete", `{"DeleteAfterDays":1}`},
		{"none", ""},
		{"beyond-2262", `{"DeleteAfterDays":100000}`},
	} {
		var lifecycle any
		if p.lifecycle != "" {
			lifecycle = p.lifecycle
		}
		if _, err := db.Exec(`INSERT INTO recovery_points (id, arn, account_id, region, vault_name, vault_arn,
			resource_arn, resource_type, resource_name, iam_role_arn, backup_job_id, status, status_message,
			storage_class, creation_ns, completion_ns, backup_size_bytes, item_count, content_checksum,
			lifecycle, tags, created_by, backup_plan_id, is_encrypted, restore_metadata)
			VALUES (?, '', '', '', 'v', '', 'arn:t', '', '', '', '', 'COMPLETED', '', 'WARM', ?, NULL, 0, 0, '',
			?, NULL, NULL, '', 0, NULL)`, p.id, created.UnixNano(), lifecycle); err != nil {
			t.Fatal(err)
		}
	}
	// Two jobs of one resource, a CREATED and a FAILED one: schema 1
	// allowed no more active ones.
	for _, j := range []struct{ id, state, createdBy string }{
		{"created", "CREATED", `{"BackupPlanId":"p","BackupRuleId":"r-1"}`},
		{"failed", "FAILED", ""},
	} {
		var createdBy any
		if j.createdBy != "" {
			createdBy = j.createdBy
		}
		if _, err := db.Exec(`INSERT INTO backup_jobs (id, account_id, region, vault_name, vault_arn, recovery_point_arn,
			resource_arn, resource_type, resource_name, iam_role_arn, idempotency_token, state, status_message,
			percent_done, bytes_transferred, backup_size_bytes, item_count, creation_ns, created_by)
			VALUES (?, '', '', 'v', '', '', 'arn:t', '', '', '', '', ?, '', 0, 0, 0, 0, ?, ?)`,
			j.id, j.state, created.UnixNano(), createdBy); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	c, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	latest, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if v, err := c.SchemaVersion(t.Context()); err != nil || v != len(latest) {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, len(latest))
	}
	for id, want := range map[string][2]time.Time{
		"both":        {created.Add(30 * 24 * time.Hour), created.Add(120 * 24 * time.Hour)},
		"delete":      {{}, created.Add(24 * time.Hour)},
		"none":        {},
		"beyond-2262": {},
	} {
		var cold, del sql.NullInt64
		if err := c.read.QueryRow("SELECT cold_ns, delete_ns FROM recovery_points WHERE id = ?", id).Scan(&cold, &del); err != nil {
			t.Fatal(err)
		}
		if got := [2]time.Time{timeOf(cold), timeOf(del)}; got != want {
			t.Errorf("point %s: lifecycle dates %v, want %v", id, got, want)
		}
		// The same as a write of the point computes.
		p, err := c.GetRecoveryPoint(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.UpdateRecoveryPoint(t.Context(), p); err != nil {
			t.Fatal(err)
		}
		var cold2, del2 sql.NullInt64
		if err := c.read.QueryRow("SELECT cold_ns, delete_ns FROM recovery_points WHERE id = ?", id).Scan(&cold2, &del2); err != nil {
			t.Fatal(err)
		}
		if cold2 != cold || del2 != del {
			t.Errorf("point %s: migrated dates %v %v, written %v %v", id, cold, del, cold2, del2)
		}
	}
	due, _, err := c.ListRecoveryPoints(t.Context(), backup.RecoveryPointFilter{DeleteDueBy: created.Add(24 * time.Hour)})
	if err != nil || len(due) != 1 || due[0].ID != "delete" {
		t.Fatalf("points due for deletion after the migration: %v, %v; want [delete]", due, err)
	}
	var rule string
	if err := c.read.QueryRow("SELECT rule_id FROM backup_jobs WHERE id = 'created'").Scan(&rule); err != nil || rule != "r-1" {
		t.Fatalf("rule_id of a migrated job = %q, %v; want r-1", rule, err)
	}
	// The migrated catalog lets a second waiting job wait.
	j, err := c.GetBackupJob(t.Context(), "created")
	if err != nil {
		t.Fatal(err)
	}
	j.ID = "pending"
	j.State = backup.JobPending
	if err := c.CreateBackupJob(t.Context(), j); err != nil {
		t.Fatalf("a second waiting job after the migration: %v", err)
	}
}

// TestMigrateDuplicateTokens upgrades a schema 2 catalog in which the race
// of issue 8.2 left several jobs of one idempotency token: the migration
// succeeds, the newest of them holds the token from then on, and the
// others keep it in their records.
func TestMigrateDuplicateTokens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"migrations/0001_init.sql", "migrations/0002_plans.sql"} {
		text, err := migrations.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(text)); err != nil {
			t.Fatal(err)
		}
	}
	created := time.Date(2025, 1, 30, 23, 30, 0, 0, time.UTC).UnixNano()
	stmts := []string{"PRAGMA user_version = 2"}
	for i, id := range []string{"b-old", "b-new", "b-other"} {
		token := "tok"
		if id == "b-other" {
			token = ""
		}
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO backup_jobs (id, account_id, region, vault_name, vault_arn, recovery_point_arn,
			resource_arn, resource_type, resource_name, iam_role_arn, idempotency_token, state, status_message,
			percent_done, bytes_transferred, backup_size_bytes, item_count, creation_ns)
			VALUES ('%s', '', '', 'v', '', '', 'arn:%d', '', '', '', '%s', 'FAILED', '', 0, 0, 0, 0, %d)`, id, i, token, created+int64(i)))
	}
	for i, id := range []string{"r-old", "r-new"} {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO restore_jobs (id, account_id, region, recovery_point_arn, vault_arn, resource_type,
			iam_role_arn, copy_source_tags, idempotency_token, status, status_message, percent_done, backup_size_bytes,
			items_restored, creation_ns, created_resource_arn, validation_status, validation_status_message)
			VALUES ('%s', '', '', '', '', '', '', 0, 'tok', 'FAILED', '', 0, 0, 0, %d, '', '', '')`, id, created+int64(i)))
	}
	for i, id := range []string{"c-old", "c-new"} {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO copy_jobs (id, account_id, region, source_vault_arn, source_recovery_point_arn,
			destination_vault_arn, destination_recovery_point_arn, resource_arn, resource_type, resource_name, iam_role_arn,
			idempotency_token, state, status_message, backup_size_bytes, creation_ns)
			VALUES ('%s', '', '', '', '', '', '', 'arn:t', '', '', '', 'tok', 'COMPLETED', '', 0, %d)`, id, created+int64(i)))
	}
	for _, stmt := range stmts {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	db.Close()

	c, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	now := time.Unix(0, created).Add(time.Hour)
	var tu *backup.TokenInUseError
	err = c.CreateBackupJob(t.Context(), &backup.BackupJob{ID: "b-3", ResourceARN: "arn:x", State: backup.JobCreated, CreationDate: now, IdempotencyToken: "tok"})
	if !errors.As(err, &tu) || tu.JobID != "b-new" {
		t.Fatalf("a backup job with a token two old jobs have: %v, want a TokenInUseError naming b-new", err)
	}
	err = c.CreateRestoreJob(t.Context(), &backup.RestoreJob{ID: "r-3", Status: backup.RestorePending, CreationDate: now, IdempotencyToken: "tok"})
	if !errors.As(err, &tu) || tu.JobID != "r-new" {
		t.Fatalf("a restore job with a token two old jobs have: %v, want a TokenInUseError naming r-new", err)
	}
	err = c.CreateCopyJob(t.Context(), &backup.CopyJob{ID: "c-3", State: backup.CopyCreated, CreationDate: now, IdempotencyToken: "tok"})
	if !errors.As(err, &tu) || tu.JobID != "c-new" {
		t.Fatalf("a copy job with a token two old jobs have: %v, want a TokenInUseError naming c-new", err)
	}
	old, err := c.GetBackupJob(t.Context(), "b-old")
	if err != nil || old.IdempotencyToken != "tok" || old.RequestHash != "" {
		t.Fatalf("an old job after the migration: %+v, %v; want its token kept and no request hash", old, err)
	}
	if err := c.CreateBackupJob(t.Context(), &backup.BackupJob{ID: "b-4", ResourceARN: "arn:y", State: backup.JobCreated, CreationDate: now, IdempotencyToken: "new"}); err != nil {
		t.Fatalf("a backup job with a new token: %v", err)
	}
}
