package postgres_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/postgres"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// The catalog's atomic guarantees hold between processes, not only
// between the goroutines of one: here two catalogs (two pools, as two
// nodes would have) race on one database.
func TestGuaranteesAcrossCatalogs(t *testing.T) {
	url := testbed.PostgresURL(t)
	var nodes [2]*postgres.Catalog
	for i := range nodes {
		c, err := postgres.Open(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		nodes[i] = c
	}
	const n = 16
	created := time.Date(2026, 12, 3, 5, 0, 0, 0, time.UTC)
	job := func(id, resource string) *backup.BackupJob {
		return &backup.BackupJob{ID: id, ResourceARN: resource, State: backup.JobCreated, CreationDate: created,
			VaultName: "Default", ResourceType: "DynamoDB"}
	}
	race := func(what string, create func(node *postgres.Catalog, i int) error) []error {
		t.Helper()
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = create(nodes[i%2], i)
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			}
		}
		if won != 1 {
			t.Errorf("%s: %d of %d creations succeeded, want exactly 1: %v", what, won, n, errs)
		}
		return errs
	}

	// One idempotency token, one job; the others name it.
	errs := race("one token", func(c *postgres.Catalog, i int) error {
		j := job(fmt.Sprintf("token-%d", i), fmt.Sprintf("arn:table/t%d", i))
		j.IdempotencyToken = "same"
		return c.CreateBackupJob(t.Context(), j)
	})
	winner := ""
	for i, err := range errs {
		if err == nil {
			winner = fmt.Sprintf("token-%d", i)
		}
	}
	for _, err := range errs {
		var e *backup.TokenInUseError
		if err != nil && (!errors.As(err, &e) || e.JobID != winner) {
			t.Errorf("one token: got %v, want the token held by %s", err, winner)
		}
	}

	// One running backup job per resource.
	for _, err := range race("one running job", func(c *postgres.Catalog, i int) error {
		j := job(fmt.Sprintf("running-%d", i), "arn:table/busy")
		j.State = backup.JobRunning
		return c.CreateBackupJob(t.Context(), j)
	}) {
		if err != nil && backup.ErrorCode(err) != backup.ErrConflict {
			t.Errorf("one running job: got %v, want ErrConflict", err)
		}
	}

	// One job per rule occurrence and resource.
	for _, err := range race("one job per occurrence", func(c *postgres.Catalog, i int) error {
		j := job(fmt.Sprintf("scheduled-%d", i), "arn:table/daily")
		j.CreatedBy = &backup.CreatedBy{BackupPlanID: "plan", BackupRuleID: "rule"}
		j.ScheduledTime = created
		return c.CreateBackupJob(t.Context(), j)
	}) {
		if err != nil && backup.ErrorCode(err) != backup.ErrAlreadyExists {
			t.Errorf("one job per occurrence: got %v, want ErrAlreadyExists", err)
		}
	}

	// Rule cursors only move forward, whatever order the nodes write in.
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			at := created.Add(time.Duration((i*7)%n) * time.Hour)
			if err := nodes[i%2].SetRuleCursor(t.Context(), "plan", "rule", at); err != nil {
				t.Errorf("SetRuleCursor: %v", err)
			}
		})
	}
	wg.Wait()
	if at, err := nodes[0].RuleCursor(t.Context(), "plan", "rule"); err != nil || !at.Equal(created.Add((n-1)*time.Hour)) {
		t.Errorf("rule cursor after the race: %v %v, want the latest time %v", at, err, created.Add((n-1)*time.Hour))
	}

	// Tag updates from both nodes lose nothing.
	if err := nodes[0].CreateVault(t.Context(), &backup.Vault{Name: "v", CreationDate: created}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		wg.Go(func() {
			err := nodes[i%2].UpdateTags(t.Context(), backup.TagTarget{Kind: backup.TagKindVault, ID: "v"}, func(tags map[string]string) error {
				tags[fmt.Sprintf("k%d", i)] = "v"
				return nil
			})
			if err != nil {
				t.Errorf("UpdateTags: %v", err)
			}
		})
	}
	wg.Wait()
	if v, err := nodes[1].GetVault(t.Context(), "v"); err != nil || len(v.Tags) != n {
		t.Errorf("vault tags after the race: %v %v, want %d tags", v, err, n)
	}
}

// A second holder of the server lock is refused, naming the first; the
// lock goes with the first's session.
func TestServerLock(t *testing.T) {
	url := testbed.PostgresURL(t)
	a, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	la, err := a.LockServer(t.Context(), "first holder")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.LockServer(t.Context(), "second"); !errors.Is(err, postgres.ErrCatalogInUse) || !contains(err, "first holder") {
		t.Fatalf("second LockServer: %v", err)
	}
	if err := la.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	lb, err := b.LockServer(t.Context(), "second")
	if err != nil {
		t.Fatalf("LockServer after the first released: %v", err)
	}
	// Its connection is gone by then: closed, not returned. Released on
	// every way out, or b.Close would wait for it.
	defer lb.Release(t.Context())
	// A holder that dies (its session ends: here it is terminated, as when
	// its process is killed) leaves no lock behind. The timeout makes
	// pg_terminate_backend wait until the session has ended (PostgreSQL 14
	// and later); without it the next LockServer could run first.
	var ended bool
	if err := a.Pool().QueryRow(t.Context(), `SELECT coalesce(bool_and(pg_terminate_backend(pid, 60000)), false)
		FROM pg_stat_activity WHERE application_name = 'second'`).Scan(&ended); err != nil || !ended {
		t.Fatalf("terminate the holder's session: %v %v", ended, err)
	}
	l, err := a.LockServer(t.Context(), "third")
	if err != nil {
		t.Fatalf("LockServer after the holder's session ended: %v", err)
	}
	l.Release(t.Context())
}

func contains(err error, s string) bool { return err != nil && strings.Contains(err.Error(), s) }
