package catalogtest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// tokenKind creates jobs of one kind for the idempotency token tests.
type tokenKind struct {
	name   string // as TokenInUseError.Kind says it
	create func(t *testing.T, c backup.Catalog, id, token string) error
	get    func(t *testing.T, c backup.Catalog, id string) error
	count  func(t *testing.T, c backup.Catalog, token string) int
}

var tokenKinds = []tokenKind{{
	name: "BackupJob",
	create: func(t *testing.T, c backup.Catalog, id, token string) error {
		j := newJob(id, "tokens", at(time.Second))
		j.State, j.CompletionDate = backup.JobCreated, time.Time{}
		j.IdempotencyToken, j.RequestHash = token, "hash-"+id
		return c.CreateBackupJob(ctx(t), j)
	},
	get: func(t *testing.T, c backup.Catalog, id string) error {
		_, err := c.GetBackupJob(ctx(t), id)
		return err
	},
	count: func(t *testing.T, c backup.Catalog, token string) int {
		jobs, _, err := c.ListBackupJobs(ctx(t), backup.BackupJobFilter{IdempotencyToken: token})
		must(t, err, "ListBackupJobs")
		return len(jobs)
	},
}, {
	name: "RestoreJob",
	create: func(t *testing.T, c backup.Catalog, id, token string) error {
		j := newRestore(id, at(time.Second))
		j.IdempotencyToken, j.RequestHash = token, "hash-"+id
		return c.CreateRestoreJob(ctx(t), j)
	},
	get: func(t *testing.T, c backup.Catalog, id string) error {
		_, err := c.GetRestoreJob(ctx(t), id)
		return err
	},
	count: func(t *testing.T, c backup.Catalog, token string) int {
		jobs, _, err := c.ListRestoreJobs(ctx(t), backup.RestoreJobFilter{IdempotencyToken: token})
		must(t, err, "ListRestoreJobs")
		return len(jobs)
	},
}, {
	name: "CopyJob",
	create: func(t *testing.T, c backup.Catalog, id, token string) error {
		j := newCopy(id, "tokens", at(time.Second))
		j.IdempotencyToken, j.RequestHash = token, "hash-"+id
		return c.CreateCopyJob(ctx(t), j)
	},
	get: func(t *testing.T, c backup.Catalog, id string) error { _, err := c.GetCopyJob(ctx(t), id); return err },
	count: func(t *testing.T, c backup.Catalog, token string) int {
		jobs, _, err := c.ListCopyJobs(ctx(t), backup.CopyJobFilter{IdempotencyToken: token})
		must(t, err, "ListCopyJobs")
		return len(jobs)
	},
}}

// testIdempotencyTokenRace: of many concurrent creations of jobs of one
// kind with one token, exactly one succeeds; every other fails with a
// TokenInUseError naming the winner and stores nothing.
func testIdempotencyTokenRace(t *testing.T, c backup.Catalog) {
	const n = 16
	for _, k := range tokenKinds {
		token := "race-token-" + k.name
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = k.create(t, c, fmt.Sprintf("%s-race-%02d", k.name, i), token)
			})
		}
		close(start)
		wg.Wait()
		winner := ""
		for i, err := range errs {
			if err == nil {
				if winner != "" {
					t.Fatalf("%s: creators %s and %d both got token %q", k.name, winner, i, token)
				}
				winner = fmt.Sprintf("%s-race-%02d", k.name, i)
			}
		}
		if winner == "" {
			t.Fatalf("%s: none of %d concurrent creations with one token succeeded: %v", k.name, n, errs)
		}
		for i, err := range errs {
			id := fmt.Sprintf("%s-race-%02d", k.name, i)
			if id == winner {
				continue
			}
			var tu *backup.TokenInUseError
			if !errors.As(err, &tu) {
				t.Fatalf("%s: creator %d got %v, want a TokenInUseError", k.name, i, err)
			}
			if tu.Kind != k.name || tu.Token != token || tu.JobID != winner {
				t.Fatalf("%s: creator %d got %+v, want kind %s, token %q, job %s", k.name, i, tu, k.name, token, winner)
			}
			if err := k.get(t, c, id); !backup.IsNotFound(err) {
				t.Fatalf("%s: the refused job %s: Get = %v, want NotFound", k.name, id, err)
			}
		}
		if got := k.count(t, c, token); got != 1 {
			t.Fatalf("%s: %d jobs listed with token %q, want 1", k.name, got, token)
		}
	}
}

// testIdempotencyTokenRules: the token check comes before every other,
// tokens are per kind of job, an empty token is no token, and a job keeps
// the token it was created with.
func testIdempotencyTokenRules(t *testing.T, c backup.Catalog) {
	for _, k := range tokenKinds {
		must(t, k.create(t, c, k.name+"-1", "shared"), k.name+" with token shared")
		var tu *backup.TokenInUseError
		// A duplicate ID with a taken token: the token answers.
		if err := k.create(t, c, k.name+"-1", "shared"); !errors.As(err, &tu) || tu.JobID != k.name+"-1" {
			t.Fatalf("%s: a second job with the ID and token of the first: %v, want a TokenInUseError naming it", k.name, err)
		}
		// A duplicate ID with a new token: the ID answers, and the new
		// token stays free.
		wantCode(t, k.create(t, c, k.name+"-1", "fresh-"+k.name), backup.ErrAlreadyExists, k.name+" of an existing ID")
		must(t, k.create(t, c, k.name+"-2", "fresh-"+k.name), k.name+" with the token of a refused creation")
		for i := range 3 {
			must(t, k.create(t, c, fmt.Sprintf("%s-untokened-%d", k.name, i), ""), k.name+" without a token")
		}
	}

	// A running backup job holds a token: a second running job of the
	// resource with that token is told about the token, not the conflict.
	running := func(id string) *backup.BackupJob {
		j := newJob(id, "busy", at(time.Minute))
		j.State, j.CompletionDate, j.IdempotencyToken = backup.JobRunning, time.Time{}, "busy-token"
		return j
	}
	must(t, c.CreateBackupJob(ctx(t), running("busy-1")), "CreateBackupJob of a running job")
	var tu *backup.TokenInUseError
	if err := c.CreateBackupJob(ctx(t), running("busy-2")); !errors.As(err, &tu) || tu.JobID != "busy-1" {
		t.Fatalf("a second running job of a resource with the first one's token: %v, want a TokenInUseError naming busy-1", err)
	}

	// Update keeps the token of the creation: the old token stays taken,
	// the one given to Update is not.
	j, err := c.GetBackupJob(ctx(t), "busy-1")
	must(t, err, "GetBackupJob")
	j.IdempotencyToken = "moved-token"
	must(t, c.UpdateBackupJob(ctx(t), j), "UpdateBackupJob with another token")
	if err := c.CreateBackupJob(ctx(t), running("busy-3")); !errors.As(err, &tu) || tu.JobID != "busy-1" {
		t.Fatalf("the token of a job updated with another token: %v, want a TokenInUseError naming busy-1", err)
	}
	other := newJob("elsewhere", "elsewhere", at(time.Minute))
	other.IdempotencyToken = "moved-token"
	must(t, c.CreateBackupJob(ctx(t), other), "CreateBackupJob with the token given to an Update")
}
