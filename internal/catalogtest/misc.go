package catalogtest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

func testInvalidPages(t *testing.T, c backup.Catalog) {
	must(t, c.CreateVault(ctx(t), newVault("vault-a")), "CreateVault")
	must(t, c.CreateVault(ctx(t), newVault("vault-b")), "CreateVault")
	for i := range 3 {
		id := fmt.Sprintf("x-%d", i)
		must(t, c.CreateBackupJob(ctx(t), newJob(id, "orders", at(time.Duration(i)))), "CreateBackupJob")
		must(t, c.CreateRecoveryPoint(ctx(t), newPoint(id, "vault-a", fmt.Sprintf("t%d", i), at(time.Duration(i)))), "CreateRecoveryPoint")
		must(t, c.CreateRestoreJob(ctx(t), newRestore(id, at(time.Duration(i)))), "CreateRestoreJob")
	}
	for i := range 3 {
		id := fmt.Sprintf("plan-%d", i)
		must(t, c.CreateBackupPlan(ctx(t), newPlan(id, id, at(time.Duration(i)))), "CreateBackupPlan")
		must(t, c.UpdateBackupPlan(ctx(t), nextVersion(newPlan("plan-0", "plan-0", at(0)), fmt.Sprintf("v%d", i+2), "plan-0", at(time.Duration(i+1)))), "UpdateBackupPlan")
		must(t, c.CreateBackupSelection(ctx(t), newSelection("plan-0", "sel-"+id, id, at(time.Duration(i)))), "CreateBackupSelection")
	}
	for i := range 3 {
		must(t, c.CreateCopyJob(ctx(t), newCopy(fmt.Sprintf("copy-%d", i), "orders", at(time.Duration(i)))), "CreateCopyJob")
		must(t, c.PutStack(ctx(t), newStack(fmt.Sprintf("stack-%d", i))), "PutStack")
	}
	listings := map[string]func(p backup.Page) (int, string, error){
		"ListCopyJobs": func(p backup.Page) (int, string, error) {
			v, next, err := c.ListCopyJobs(ctx(t), backup.CopyJobFilter{Page: p})
			return len(v), next, err
		},
		"ListStacks": func(p backup.Page) (int, string, error) {
			v, next, err := c.ListStacks(ctx(t), p)
			return len(v), next, err
		},
		"ListBackupPlans": func(p backup.Page) (int, string, error) {
			v, next, err := c.ListBackupPlans(ctx(t), backup.BackupPlanFilter{Page: p})
			return len(v), next, err
		},
		"ListBackupPlanVersions": func(p backup.Page) (int, string, error) {
			v, next, err := c.ListBackupPlanVersions(ctx(t), "plan-0", p)
			return len(v), next, err
		},
		"ListBackupSelections": func(p backup.Page) (int, string, error) {
			v, next, err := c.ListBackupSelections(ctx(t), "plan-0", p)
			return len(v), next, err
		},
		"ListVaults": func(p backup.Page) (int, string, error) {
			v, next, err := c.ListVaults(ctx(t), p)
			return len(v), next, err
		},
		"ListBackupJobs": func(p backup.Page) (int, string, error) {
			v, next, err := c.ListBackupJobs(ctx(t), backup.BackupJobFilter{Page: p})
			return len(v), next, err
		},
		"ListRecoveryPoints": func(p backup.Page) (int, string, error) {
			v, next, err := c.ListRecoveryPoints(ctx(t), backup.RecoveryPointFilter{Page: p})
			return len(v), next, err
		},
		"ListProtectedResources": func(p backup.Page) (int, string, error) {
			v, next, err := c.ListProtectedResources(ctx(t), p)
			return len(v), next, err
		},
		"ListRestoreJobs": func(p backup.Page) (int, string, error) {
			v, next, err := c.ListRestoreJobs(ctx(t), backup.RestoreJobFilter{Page: p})
			return len(v), next, err
		},
	}
	for name, list := range listings {
		for _, token := range []string{"garbage", "!!!", "Zm9v", "eyJ0IjoxfQ", " "} {
			_, _, err := list(backup.Page{NextToken: token})
			wantCode(t, err, backup.ErrInvalidParameter, fmt.Sprintf("%s with NextToken %q", name, token))
		}
		_, _, err := list(backup.Page{MaxResults: -1})
		wantCode(t, err, backup.ErrInvalidParameter, name+" with MaxResults -1")

		n, next, err := list(backup.Page{MaxResults: 1})
		must(t, err, name)
		if n != 1 || next == "" {
			t.Fatalf("%s with MaxResults 1: %d items, next %q; want 1 and a token", name, n, next)
		}
		// A token stays good for the same listing.
		if _, _, err := list(backup.Page{MaxResults: 1, NextToken: next}); err != nil {
			t.Fatalf("%s with its own token: %v", name, err)
		}
	}
}

func testConcurrentReadersAndWriters(t *testing.T, c backup.Catalog) {
	must(t, c.CreateVault(ctx(t), newVault("vault-a")), "CreateVault")
	const writers, perWriter, readers = 8, 25, 4
	done := make(chan struct{})
	errs := make(chan error, writers*perWriter*4+readers)
	var wg, rg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				id := fmt.Sprintf("w%d-%03d", w, i)
				j := newJob(id, id, at(time.Duration(w*perWriter+i)*time.Millisecond))
				j.State = backup.JobRunning
				if err := c.CreateBackupJob(ctx(t), j); err != nil {
					errs <- fmt.Errorf("CreateBackupJob %s: %w", id, err)
					continue
				}
				if err := c.CreateRecoveryPoint(ctx(t), newPoint(id, "vault-a", id, j.CreationDate)); err != nil {
					errs <- fmt.Errorf("CreateRecoveryPoint %s: %w", id, err)
				}
				j.State = backup.JobCompleted
				if err := c.UpdateBackupJob(ctx(t), j); err != nil {
					errs <- fmt.Errorf("UpdateBackupJob %s: %w", id, err)
				}
			}
		})
	}
	for range readers {
		rg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, _, err := c.ListBackupJobs(ctx(t), backup.BackupJobFilter{States: []backup.JobState{backup.JobRunning}}); err != nil {
					errs <- fmt.Errorf("ListBackupJobs: %w", err)
					return
				}
				if _, err := c.GetVault(ctx(t), "vault-a"); err != nil {
					errs <- fmt.Errorf("GetVault: %w", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	rg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	jobs := collect(t, 1000, func(p backup.Page) ([]*backup.BackupJob, string, error) {
		return c.ListBackupJobs(ctx(t), backup.BackupJobFilter{Page: p, States: []backup.JobState{backup.JobCompleted}})
	})
	if len(jobs) != writers*perWriter {
		t.Fatalf("%d completed jobs, want %d", len(jobs), writers*perWriter)
	}
	v, err := c.GetVault(ctx(t), "vault-a")
	must(t, err, "GetVault")
	if v.NumberOfRecoveryPoints != writers*perWriter {
		t.Fatalf("NumberOfRecoveryPoints = %d, want %d", v.NumberOfRecoveryPoints, writers*perWriter)
	}
}
