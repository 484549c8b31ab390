package runner

import (
	"context"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-backup/cairn/internal/backup"
)

// StartBackupJob checks its input with the rules of a plan rule for every
// caller, not only the API: a window of 10^15 minutes once gave a StartBy
// in 1744 and a job that EXPIRED at once.
func TestStartBackupJobValidates(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	arn := f.table(t, "orders", 3)
	for _, in := range []backup.StartBackupJobInput{
		{StartWindowMins: 1e15, CompleteWindowMin: 1e15 + 60},
		{CompleteWindowMin: 1e15},
		{StartWindowMins: 30},
		{RecoveryPointTags: map[string]string{"aws:backup:source-resource": "x"}},
		{ResourceARN: "arn:aws:dynamodb:us-east-1:0:table/orders"},
	} {
		in.VaultName, in.IAMRoleARN = "Default", testRole
		if in.ResourceARN == "" {
			in.ResourceARN = arn
		}
		if _, err := f.svc.StartBackupJob(ctx, in); backup.ErrorCode(err) != backup.ErrInvalidParameter {
			t.Errorf("StartBackupJob(%+v): %v, want InvalidParameter", in, err)
		}
	}
	jobs, _, err := f.svc.ListBackupJobs(ctx, backup.BackupJobFilter{})
	if err != nil || len(jobs) != 0 {
		t.Fatalf("refused requests made %d jobs (%v)", len(jobs), err)
	}
}

// A recovery point's tags survive what the runner does to the point later
// (here a lifecycle change, which rewrites the point), and the reserved
// tags of a vault never change.
func TestTagsThroughTheService(t *testing.T) {
	allowed := t.TempDir()
	f := newFixtureWith(t, func(c *Config) { c.Storage.AllowedPaths = []string{allowed} })
	ctx := context.Background()
	_, rp := f.completedBackup(t, "orders", 5)
	if err := f.svc.TagResource(ctx, rp.ARN, map[string]string{"env": "prod"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UpdateRecoveryPointLifecycle(ctx, "Default", rp.ARN, backup.Lifecycle{DeleteAfterDays: 10}); err != nil {
		t.Fatal(err)
	}
	tags, next, err := f.svc.ListTags(ctx, rp.ARN, backup.Page{})
	if err != nil || next != "" || !maps.Equal(tags, map[string]string{"env": "prod"}) {
		t.Fatalf("ListTags = %v %q %v", tags, next, err)
	}
	if _, _, err := f.svc.ListTags(ctx, rp.ARN, backup.Page{NextToken: "bogus"}); backup.ErrorCode(err) != backup.ErrInvalidParameter {
		t.Errorf("a NextToken ListTags did not issue: %v", err)
	}

	dir := filepath.Join(allowed, "moved")
	v, err := f.svc.CreateVault(ctx, backup.CreateVaultInput{Name: "moved", Tags: map[string]string{backup.TagStorage: dir, "team": "a"}})
	if err != nil {
		t.Fatal(err)
	}
	err = f.svc.TagResource(ctx, v.ARN, map[string]string{backup.TagStorage: filepath.Join(allowed, "elsewhere")})
	if backup.ErrorCode(err) != backup.ErrInvalidParameter || !strings.Contains(err.Error(), "fixed when the vault is created") {
		t.Errorf("changing cairn:storage: %v", err)
	}
	if err := f.svc.UntagResource(ctx, v.ARN, []string{backup.TagStorage}); backup.ErrorCode(err) != backup.ErrInvalidParameter {
		t.Errorf("removing cairn:storage: %v", err)
	}
	got, err := f.svc.GetVault(ctx, "moved")
	if err != nil || got.Storage != v.Storage || got.Tags[backup.TagStorage] != dir {
		t.Errorf("vault after refused changes: %+v, %v", got, err)
	}
	if _, err := f.svc.CreateVault(ctx, backup.CreateVaultInput{Name: "typo", Tags: map[string]string{"cairn:storge": dir}}); backup.ErrorCode(err) != backup.ErrInvalidParameter {
		t.Errorf("a misspelt reserved tag: %v", err)
	}
}
