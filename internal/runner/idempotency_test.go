package runner

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/sqlite"
)

func TestRequestHash(t *testing.T) {
	base := backup.StartBackupJobInput{VaultName: "v", ResourceARN: "arn:t", Lifecycle: backup.Lifecycle{DeleteAfterDays: 3}}
	same := base
	same.RecoveryPointTags = map[string]string{} // empty is absent
	other := base
	other.RecoveryPointTags = map[string]string{"k": ""}
	h := requestHash("StartBackupJob", base)
	if !strings.HasPrefix(h, "sha256:") || h != requestHash("StartBackupJob", same) {
		t.Fatalf("an empty map and none hash differently: %s, %s", h, requestHash("StartBackupJob", same))
	}
	for what, o := range map[string]string{
		"a tag with an empty value": requestHash("StartBackupJob", other),
		"another operation":         requestHash("StartCopyJob", base),
	} {
		if o == h {
			t.Errorf("%s hashes like the request without it", what)
		}
	}
	m1 := backup.StartRestoreJobInput{Metadata: map[string]string{"a": "1", "b": "2", "c": "3"}}
	m2 := backup.StartRestoreJobInput{Metadata: map[string]string{"c": "3", "b": "2", "a": "1"}}
	if requestHash("StartRestoreJob", m1) != requestHash("StartRestoreJob", m2) {
		t.Fatal("the order of map keys changes the hash")
	}
}

// Two Services on one catalog file (as two processes would be) get eight
// concurrent requests of each Start*Job operation with one token: all get
// one job, one recovery point is made per backup and copy, and one table
// is restored. A reused token with other parameters is refused (8.2).
func TestIdempotencyTwoServicesOneCatalog(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	cat2, err := sqlite.Open(ctx, f.catalogPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat2.Close() })
	svcs := []*Service{f.svc, f.newService(t, cat2, nil)}
	arn := f.table(t, "idem-two", 200)

	const n = 8
	race := func(what string, call func(svc *Service) (string, error)) string {
		t.Helper()
		ids, errs := make([]string, n), make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				ids[i], errs[i] = call(svcs[i%2])
			})
		}
		close(start)
		wg.Wait()
		for i := range n {
			if errs[i] != nil || ids[i] != ids[0] {
				t.Fatalf("%s: %d concurrent requests with one token on two services: ids %v, errors %v; want one job", what, n, ids, errs)
			}
		}
		return ids[0]
	}
	wantReused := func(what string, err error, id string) {
		t.Helper()
		if backup.ErrorCode(err) != backup.ErrInvalidRequest || !strings.Contains(err.Error(), id) {
			t.Fatalf("%s: %v, want InvalidRequest naming job %s", what, err, id)
		}
	}

	bin := backup.StartBackupJobInput{VaultName: "Default", ResourceARN: arn, IAMRoleARN: role, IdempotencyToken: "b"}
	jobID := race("StartBackupJob", func(svc *Service) (string, error) {
		j, err := svc.StartBackupJob(ctx, bin)
		if err != nil {
			return "", err
		}
		return j.ID, nil
	})
	job := f.wait(t, jobID)
	if job.State != backup.JobCompleted {
		t.Fatalf("backup %s %s", job.State, job.StatusMessage)
	}
	other := bin
	other.Options.Segments = 3
	_, err = svcs[1].StartBackupJob(ctx, other)
	wantReused("StartBackupJob on the other service with other parameters", err, jobID)

	if _, err := f.svc.CreateVault(ctx, backup.CreateVaultInput{Name: "second"}); err != nil {
		t.Fatal(err)
	}
	cin := backup.StartCopyJobInput{RecoveryPointARN: job.RecoveryPointARN, SourceBackupVaultName: "Default",
		DestinationBackupVaultARN: backup.VaultARN("us-east-1", "000000000000", "second"), IAMRoleARN: role, IdempotencyToken: "c"}
	copyID := race("StartCopyJob", func(svc *Service) (string, error) {
		j, err := svc.StartCopyJob(ctx, cin)
		if err != nil {
			return "", err
		}
		return j.ID, nil
	})
	for _, svc := range svcs {
		svc.Wait()
	}
	if cj, err := f.svc.GetCopyJob(ctx, copyID); err != nil || cj.State != backup.CopyCompleted {
		t.Fatalf("copy job %+v, %v", cj, err)
	}
	pts, _, err := f.svc.ListRecoveryPoints(ctx, backup.RecoveryPointFilter{VaultName: "second"})
	if err != nil || len(pts) != 1 {
		t.Fatalf("points in the copy's vault: %d, %v; want 1", len(pts), err)
	}
	otherCopy := cin
	otherCopy.Lifecycle = backup.Lifecycle{DeleteAfterDays: 5}
	_, err = svcs[1].StartCopyJob(ctx, otherCopy)
	wantReused("StartCopyJob on the other service with other parameters", err, copyID)

	rin := backup.StartRestoreJobInput{RecoveryPointARN: job.RecoveryPointARN, IAMRoleARN: role, IdempotencyToken: "r",
		Metadata: map[string]string{MetaTargetTableName: "idem-two-restored"}}
	restoreID := race("StartRestoreJob", func(svc *Service) (string, error) {
		j, err := svc.StartRestoreJob(ctx, rin)
		if err != nil {
			return "", err
		}
		return j.ID, nil
	})
	if r := f.waitRestore(t, restoreID); r.Status != backup.RestoreCompleted {
		t.Fatalf("restore %s %s", r.Status, r.StatusMessage)
	}
	rjobs, _, err := f.svc.ListRestoreJobs(ctx, backup.RestoreJobFilter{})
	if err != nil || len(rjobs) != 1 {
		t.Fatalf("restore jobs: %d, %v; want 1", len(rjobs), err)
	}
	otherRestore := rin
	otherRestore.Metadata = map[string]string{MetaTargetTableName: "idem-two-elsewhere"}
	_, err = svcs[1].StartRestoreJob(ctx, otherRestore)
	wantReused("StartRestoreJob on the other service with other parameters", err, restoreID)
}
