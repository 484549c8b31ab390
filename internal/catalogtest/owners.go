package catalogtest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// Job owners: every kind of job keeps Owner and Attempt as written; ClaimJob
// sets the owner of an unowned job in one of the given states and nothing
// else; OwnedJobs returns the jobs of the given nodes that have not ended,
// of every kind.
func testJobOwners(t *testing.T, c backup.Catalog) {
	b := newJob("job-1", "orders", at(0))
	b.State, b.CompletionDate, b.Owner, b.Attempt = backup.JobCreated, time.Time{}, "", 0
	must(t, c.CreateBackupJob(ctx(t), b), "CreateBackupJob")
	r := newRestore("restore-1", at(time.Second))
	r.Status, r.CompletionDate, r.Owner, r.Attempt = backup.RestorePending, time.Time{}, "", 0
	must(t, c.CreateRestoreJob(ctx(t), r), "CreateRestoreJob")
	cp := newCopy("copy-1", "orders", at(2*time.Second))
	cp.State, cp.CompletionDate, cp.Owner, cp.Attempt = backup.CopyCreated, time.Time{}, "", 0
	must(t, c.CreateCopyJob(ctx(t), cp), "CreateCopyJob")

	claim := func(kind backup.JobKind, id, node string, from ...string) bool {
		t.Helper()
		ok, err := c.ClaimJob(ctx(t), kind, id, node, from)
		must(t, err, fmt.Sprintf("ClaimJob %s %s by %s", kind, id, node))
		return ok
	}
	// The wrong state, or a missing job: no claim.
	if claim(backup.JobKindBackup, "job-1", "node-1", "PENDING") {
		t.Fatal("ClaimJob of a CREATED backup job from PENDING succeeded")
	}
	if claim(backup.JobKindBackup, "missing", "node-1", "CREATED") {
		t.Fatal("ClaimJob of a missing job succeeded")
	}
	if !claim(backup.JobKindBackup, "job-1", "node-1", "CREATED", "PENDING") {
		t.Fatal("ClaimJob of an unowned CREATED backup job failed")
	}
	if claim(backup.JobKindBackup, "job-1", "node-2", "CREATED", "PENDING") {
		t.Fatal("a second ClaimJob of an owned backup job succeeded")
	}
	if !claim(backup.JobKindRestore, "restore-1", "node-2", "PENDING") {
		t.Fatal("ClaimJob of an unowned PENDING restore job failed")
	}
	if !claim(backup.JobKindCopy, "copy-1", "node-1", "CREATED") {
		t.Fatal("ClaimJob of an unowned CREATED copy job failed")
	}
	gb, err := c.GetBackupJob(ctx(t), "job-1")
	must(t, err, "GetBackupJob")
	b.Owner = "node-1"
	wantEqual(t, "claimed backup job", gb, b)
	gr, err := c.GetRestoreJob(ctx(t), "restore-1")
	must(t, err, "GetRestoreJob")
	r.Owner = "node-2"
	wantEqual(t, "claimed restore job", gr, r)
	gc, err := c.GetCopyJob(ctx(t), "copy-1")
	must(t, err, "GetCopyJob")
	cp.Owner = "node-1"
	wantEqual(t, "claimed copy job", gc, cp)

	owned, err := c.OwnedJobs(ctx(t), []string{"node-1"})
	must(t, err, "OwnedJobs")
	want := []backup.OwnedJob{{Kind: backup.JobKindBackup, ID: "job-1", Owner: "node-1"}, {Kind: backup.JobKindCopy, ID: "copy-1", Owner: "node-1"}}
	if !slices.Equal(owned, want) {
		t.Fatalf("OwnedJobs(node-1) = %v, want %v", owned, want)
	}
	owned, err = c.OwnedJobs(ctx(t), []string{"node-1", "node-2", "node-3"})
	must(t, err, "OwnedJobs")
	if len(owned) != 3 {
		t.Fatalf("OwnedJobs of three nodes = %v, want the 3 jobs", owned)
	}
	if owned, err := c.OwnedJobs(ctx(t), nil); err != nil || len(owned) != 0 {
		t.Fatalf("OwnedJobs(nil) = %v, %v; want nothing", owned, err)
	}

	// A job given back to the queue (Update with no owner and the next
	// attempt) is claimed again; an ended job keeps its owner and is no
	// node's active job.
	b.Owner, b.Attempt, b.State = "", 1, backup.JobPending
	must(t, c.UpdateBackupJob(ctx(t), b), "UpdateBackupJob")
	if !claim(backup.JobKindBackup, "job-1", "node-3", "CREATED", "PENDING") {
		t.Fatal("ClaimJob of a backup job given back to the queue failed")
	}
	gb, err = c.GetBackupJob(ctx(t), "job-1")
	must(t, err, "GetBackupJob")
	if gb.Owner != "node-3" || gb.Attempt != 1 {
		t.Fatalf("backup job given back and claimed: owner %q attempt %d, want node-3 and 1", gb.Owner, gb.Attempt)
	}
	cp.Owner, cp.State, cp.CompletionDate = "node-1", backup.CopyCompleted, at(time.Hour)
	must(t, c.UpdateCopyJob(ctx(t), cp), "UpdateCopyJob")
	owned, err = c.OwnedJobs(ctx(t), []string{"node-1"})
	must(t, err, "OwnedJobs")
	if len(owned) != 0 {
		t.Fatalf("OwnedJobs(node-1) after its copy ended = %v, want none", owned)
	}
	gc, err = c.GetCopyJob(ctx(t), "copy-1")
	must(t, err, "GetCopyJob")
	if gc.Owner != "node-1" {
		t.Fatalf("an ended copy job's owner is %q, want node-1 (the node that ran it)", gc.Owner)
	}
	if _, err := c.ClaimJob(ctx(t), "NOTHING", "job-1", "node-1", []string{"CREATED"}); backup.ErrorCode(err) != backup.ErrInvalidParameter {
		t.Fatalf("ClaimJob of an unknown kind: %v, want ErrInvalidParameter", err)
	}
}

// Of many concurrent claims of one job, exactly one succeeds.
func testJobClaimRace(t *testing.T, c backup.Catalog) {
	b := newJob("job-1", "orders", at(0))
	b.State, b.CompletionDate, b.Owner = backup.JobPending, time.Time{}, ""
	must(t, c.CreateBackupJob(ctx(t), b), "CreateBackupJob")
	const n = 8
	var wg sync.WaitGroup
	won := make(chan string, n)
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			node := fmt.Sprintf("node-%d", i)
			ok, err := c.ClaimJob(ctx(t), backup.JobKindBackup, "job-1", node, []string{"CREATED", "PENDING"})
			if err != nil {
				errs <- err
			}
			if ok {
				won <- node
			}
		}()
	}
	wg.Wait()
	close(won)
	close(errs)
	for err := range errs {
		t.Errorf("ClaimJob: %v", err)
	}
	var winners []string
	for w := range won {
		winners = append(winners, w)
	}
	if len(winners) != 1 {
		t.Fatalf("%d concurrent claims: winners %v, want exactly one", n, winners)
	}
	got, err := c.GetBackupJob(ctx(t), "job-1")
	must(t, err, "GetBackupJob")
	if got.Owner != winners[0] {
		t.Fatalf("owner %q, want the winner %q", got.Owner, winners[0])
	}
}

// A job being stopped stays ABORTING until it ends: an update that would
// make it CREATED, PENDING or RUNNING again (the progress save of the node
// that runs it, racing a stop recorded through another node) keeps
// ABORTING and writes the rest; an end is stored as written.
func testAbortingSticks(t *testing.T, c backup.Catalog) {
	j := newJob("job-1", "orders", at(0))
	j.State, j.CompletionDate = backup.JobRunning, time.Time{}
	must(t, c.CreateBackupJob(ctx(t), j), "CreateBackupJob")
	stop := *j
	stop.State = backup.JobAborting
	must(t, c.UpdateBackupJob(ctx(t), &stop), "UpdateBackupJob to ABORTING")
	for _, s := range []backup.JobState{backup.JobRunning, backup.JobPending, backup.JobCreated} {
		j.State, j.PercentDone = s, j.PercentDone+1
		must(t, c.UpdateBackupJob(ctx(t), j), "UpdateBackupJob of an ABORTING job to "+string(s))
		got, err := c.GetBackupJob(ctx(t), "job-1")
		must(t, err, "GetBackupJob")
		if got.State != backup.JobAborting || got.PercentDone != j.PercentDone {
			t.Fatalf("ABORTING job written %s: stored %s, %v%% done; want ABORTING with the new progress %v%%", s, got.State, got.PercentDone, j.PercentDone)
		}
	}
	j.State, j.CompletionDate = backup.JobAborted, at(time.Minute)
	must(t, c.UpdateBackupJob(ctx(t), j), "UpdateBackupJob to ABORTED")
	got, err := c.GetBackupJob(ctx(t), "job-1")
	must(t, err, "GetBackupJob")
	if got.State != backup.JobAborted {
		t.Fatalf("ABORTING job written ABORTED: stored %s", got.State)
	}
}
