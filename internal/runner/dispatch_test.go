package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/dynamodb"
)

// Two nodes on one catalog with a queue, in one process (the process
// tests in cmd/cairn kill real ones). The queue routes each queue entry
// to a node the test chooses; a node is "killed" by making its catalog
// refuse every write, as a dead process writes nothing more.

// testQueue is a Dispatcher that hands each (job, attempt) once to the
// node route picks, as River does to the node whose worker fetches it.
type testQueue struct {
	mu    sync.Mutex
	seen  map[string]bool
	route func(kind backup.JobKind, id string, attempt int) *Service
	runs  sync.WaitGroup
}

func (q *testQueue) Dispatch(_ context.Context, kind backup.JobKind, id string, attempt int) error {
	q.mu.Lock()
	key := fmt.Sprintf("%s/%d", id, attempt)
	if q.seen[key] {
		q.mu.Unlock()
		return nil
	}
	q.seen[key] = true
	svc := q.route(kind, id, attempt)
	q.mu.Unlock()
	q.runs.Add(1)
	go func() {
		defer q.runs.Done()
		_, _ = svc.RunJob(context.Background(), kind, id)
	}()
	return nil
}

// testCluster is a Cluster whose leader and dead nodes the test sets.
type testCluster struct {
	id     string
	leader bool
	dead   *[]string
}

func (c testCluster) NodeID() string { return c.id }
func (c testCluster) IsLeader() bool { return c.leader }
func (c testCluster) DeadNodes(context.Context) ([]string, error) {
	return append([]string(nil), *c.dead...), nil
}
func (c testCluster) Status(context.Context) (*backup.ClusterStatus, error) {
	return &backup.ClusterStatus{Self: c.id}, nil
}

// mortalCatalog refuses every write once killed.
type mortalCatalog struct {
	backup.Catalog
	dead atomic.Bool
}

var errDead = errors.New("node is dead")

func (c *mortalCatalog) UpdateBackupJob(ctx context.Context, j *backup.BackupJob) error {
	if c.dead.Load() {
		return errDead
	}
	return c.Catalog.UpdateBackupJob(ctx, j)
}

func (c *mortalCatalog) UpdateRestoreJob(ctx context.Context, j *backup.RestoreJob) error {
	if c.dead.Load() {
		return errDead
	}
	return c.Catalog.UpdateRestoreJob(ctx, j)
}

func (c *mortalCatalog) UpdateCopyJob(ctx context.Context, j *backup.CopyJob) error {
	if c.dead.Load() {
		return errDead
	}
	return c.Catalog.UpdateCopyJob(ctx, j)
}

func (c *mortalCatalog) CreateRecoveryPoint(ctx context.Context, p *backup.RecoveryPoint) error {
	if c.dead.Load() {
		return errDead
	}
	return c.Catalog.CreateRecoveryPoint(ctx, p)
}

func (c *mortalCatalog) UpdateRecoveryPoint(ctx context.Context, p *backup.RecoveryPoint) error {
	if c.dead.Load() {
		return errDead
	}
	return c.Catalog.UpdateRecoveryPoint(ctx, p)
}

func (c *mortalCatalog) DeleteRecoveryPoint(ctx context.Context, id string) error {
	if c.dead.Load() {
		return errDead
	}
	return c.Catalog.DeleteRecoveryPoint(ctx, id)
}

// cluster is two nodes, a and b (b the leader), on the fixture's catalog.
type cluster struct {
	f    *fixture
	a, b *Service
	aCat *mortalCatalog
	q    *testQueue
	dead []string
	// toA routes every queue entry of attempt 0 to a, others to b.
	toA atomic.Bool
}

func newCluster(t *testing.T, adjustA func(*Config)) *cluster {
	t.Helper()
	c := &cluster{f: newFixture(t), q: &testQueue{seen: map[string]bool{}}}
	c.toA.Store(true)
	c.q.route = func(_ backup.JobKind, _ string, attempt int) *Service {
		if attempt == 0 && c.toA.Load() {
			return c.a
		}
		return c.b
	}
	c.aCat = &mortalCatalog{Catalog: c.f.cat}
	c.a = c.f.newService(t, c.aCat, func(cfg *Config) {
		cfg.Queue, cfg.Cluster = c.q, testCluster{id: "node-a", dead: &c.dead}
		if adjustA != nil {
			adjustA(cfg)
		}
	})
	c.b = c.f.newService(t, c.f.cat, func(cfg *Config) {
		cfg.Queue, cfg.Cluster = c.q, testCluster{id: "node-b", leader: true, dead: &c.dead}
	})
	t.Cleanup(func() {
		c.b.Close()
		c.a.Close()
		c.q.runs.Wait()
	})
	return c
}

// kill makes node a dead: it writes nothing more, and the cluster says so.
func (c *cluster) kill() {
	c.aCat.dead.Store(true)
	c.dead = []string{"node-a"}
}

// waitFor polls cond (a guard against hangs only).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func (c *cluster) backupJob(t *testing.T, id string) *backup.BackupJob {
	t.Helper()
	j, err := c.f.cat.GetBackupJob(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// completedPoints returns the resource's COMPLETED points, and fails t if
// any point of it is left incomplete.
func (c *cluster) completedPoints(t *testing.T, arn string) []*backup.RecoveryPoint {
	t.Helper()
	pts, _, err := c.f.cat.ListRecoveryPoints(context.Background(), backup.RecoveryPointFilter{ResourceARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	var done []*backup.RecoveryPoint
	for _, p := range pts {
		if p.Status != backup.RecoveryPointCompleted {
			t.Errorf("point %s of %s is left %s", p.ID, arn, p.Status)
			continue
		}
		done = append(done, p)
	}
	return done
}

// A backup job started through node a runs on a; a dies mid-scan; the
// leader b gives the job back to the queue and runs it: COMPLETED, owned
// by b, exactly one COMPLETED point, nothing left RUNNING or CREATING.
func TestTakeoverOfABackup(t *testing.T) {
	g := newGate("orders")
	c := newCluster(t, func(cfg *Config) { cfg.WrapScanner = g.wrap })
	defer g.open()
	arn := c.f.table(t, "orders", 300)
	j, err := c.a.StartBackupJob(context.Background(), backup.StartBackupJobInput{IAMRoleARN: testRole, VaultName: "Default", ResourceARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the job RUNNING on node a", func() bool {
		j := c.backupJob(t, j.ID)
		return j.State == backup.JobRunning && j.Owner == "node-a"
	})
	// Nothing happens while a lives.
	if err := c.b.Takeover(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := c.backupJob(t, j.ID); got.State != backup.JobRunning || got.Owner != "node-a" {
		t.Fatalf("takeover with no dead node changed the job: %s owner %q", got.State, got.Owner)
	}
	first := c.backupJob(t, j.ID).RecoveryPointARN
	c.kill()
	if err := c.b.Takeover(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the job to end", func() bool { return c.backupJob(t, j.ID).State.Terminal() })
	got := c.backupJob(t, j.ID)
	if got.State != backup.JobCompleted || got.Owner != "node-b" || got.Attempt != 1 || got.ItemCount != 300 {
		t.Fatalf("job taken over: %s owner %q attempt %d items %d (%q); want COMPLETED on node-b, attempt 1, 300 items",
			got.State, got.Owner, got.Attempt, got.ItemCount, got.StatusMessage)
	}
	if got.RecoveryPointARN == first {
		t.Fatal("the taken-over job wrote the dead node's recovery point again")
	}
	if pts := c.completedPoints(t, arn); len(pts) != 1 || pts[0].ARN != got.RecoveryPointARN || pts[0].ItemCount != 300 {
		t.Fatalf("COMPLETED points %v, want exactly the job's one of 300 items", pts)
	}
	// A second pass finds nothing more to do.
	if err := c.b.Takeover(context.Background()); err != nil {
		t.Fatal(err)
	}
	if again := c.backupJob(t, j.ID); again.State != backup.JobCompleted || again.Attempt != 1 {
		t.Fatalf("a second takeover pass changed the job: %s attempt %d", again.State, again.Attempt)
	}
}

// A restore running on node a when it dies is run again by b into the
// table a created, and its check proves the table matches the point.
func TestTakeoverOfARestore(t *testing.T) {
	var batches atomic.Int64
	hold := make(chan struct{})
	defer close(hold)
	c := newCluster(t, func(cfg *Config) {
		cfg.WrapWriter = func(w dynamodb.Writer) dynamodb.Writer {
			return writeFunc(func(ctx context.Context, table string, items [][]byte) ([][]byte, float64, error) {
				if batches.Add(1) > 2 { // a writes two batches, then hangs
					select {
					case <-hold:
					case <-ctx.Done():
						return nil, 0, context.Cause(ctx)
					}
				}
				return w.BatchWrite(ctx, table, items)
			})
		}
	})
	c.toA.Store(false)
	_, rp := c.f.completedBackup(t, "orders", 400)
	c.toA.Store(true)
	r, err := c.a.StartRestoreJob(context.Background(), backup.StartRestoreJobInput{RecoveryPointARN: rp.ARN, IAMRoleARN: testRole,
		Metadata: map[string]string{"TargetTableName": "orders-restored"}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a to write into the restored table", func() bool { return batches.Load() > 2 })
	c.kill()
	if err := c.b.Takeover(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := c.f.waitRestore(t, r.ID)
	if got.Status != backup.RestoreCompleted || got.ValidationStatus != backup.ValidationSuccessful || got.Owner != "node-b" || got.ItemsRestored != 400 {
		t.Fatalf("restore taken over: %s, validation %s (%q), owner %q, %d items; want COMPLETED and SUCCESSFUL on node-b, 400 items",
			got.Status, got.ValidationStatus, got.StatusMessage, got.Owner, got.ItemsRestored)
	}
}

// A copy running on node a when it dies is run again by b: COMPLETED, and
// the destination vault holds exactly one COMPLETED copy.
func TestTakeoverOfACopy(t *testing.T) {
	gg := newGetGate()
	defer gg.open()
	c := newCluster(t, gg.wrap)
	c.toA.Store(false)
	_, rp := c.f.completedBackup(t, "orders", 200)
	c.toA.Store(true)
	ctx := context.Background()
	dst, err := c.b.CreateVault(ctx, backup.CreateVaultInput{Name: "second"})
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.a.StartCopyJob(ctx, backup.StartCopyJobInput{RecoveryPointARN: rp.ARN, SourceBackupVaultName: "Default",
		DestinationBackupVaultARN: dst.ARN, IAMRoleARN: testRole})
	if err != nil {
		t.Fatal(err)
	}
	getCopy := func() *backup.CopyJob {
		j, err := c.f.cat.GetCopyJob(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	waitFor(t, "the copy RUNNING on node a", func() bool { j := getCopy(); return j.State == backup.CopyRunning && j.Owner == "node-a" })
	c.kill()
	if err := c.b.Takeover(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the copy to end", func() bool { return getCopy().State == backup.CopyCompleted || getCopy().State == backup.CopyFailed })
	got := getCopy()
	if got.State != backup.CopyCompleted || got.Owner != "node-b" || got.Attempt != 1 {
		t.Fatalf("copy taken over: %s owner %q attempt %d (%q); want COMPLETED on node-b, attempt 1", got.State, got.Owner, got.Attempt, got.StatusMessage)
	}
	pts, _, err := c.f.cat.ListRecoveryPoints(ctx, backup.RecoveryPointFilter{VaultName: "second"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 1 || pts[0].Status != backup.RecoveryPointCompleted || pts[0].ARN != got.DestinationRecoveryPointARN {
		t.Fatalf("vault second holds %v, want exactly the copy's COMPLETED point", pts)
	}
}

// StopBackupJob through node b stops the job node a runs: b records
// ABORTING, a sees it at its next progress save and ends the job ABORTED.
func TestStopThroughAnotherNode(t *testing.T) {
	g := newGate("orders")
	c := newCluster(t, func(cfg *Config) { cfg.WrapScanner = g.wrap })
	defer g.open()
	arn := c.f.table(t, "orders", 50)
	j, err := c.a.StartBackupJob(context.Background(), backup.StartBackupJobInput{IAMRoleARN: testRole, VaultName: "Default", ResourceARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the job RUNNING on node a", func() bool { return c.backupJob(t, j.ID).State == backup.JobRunning })
	if c.b.active(j.ID) != nil {
		t.Fatal("node b runs the job too")
	}
	if err := c.b.StopBackupJob(context.Background(), j.ID); err != nil {
		t.Fatal(err)
	}
	// Node a, which runs the job, ends it; its record stays ABORTED.
	waitFor(t, "node a to stop the job", func() bool { return c.a.active(j.ID) == nil })
	if got := c.backupJob(t, j.ID); got.State != backup.JobAborted {
		t.Fatalf("job stopped through node b: %s (%q), want ABORTED", got.State, got.StatusMessage)
	}
	if pts := c.completedPoints(t, arn); len(pts) != 0 {
		t.Fatalf("a stopped job left points %v", pts)
	}
	pts, _, err := c.f.cat.ListRecoveryPoints(context.Background(), backup.RecoveryPointFilter{ResourceARN: arn})
	if err != nil || len(pts) != 0 {
		t.Fatalf("a stopped job left points %v (%v)", pts, err)
	}
}

// A stale queue entry (its job run by another node, or ended) does
// nothing: RunJob's claim fails.
func TestStaleQueueEntryDoesNothing(t *testing.T) {
	c := newCluster(t, nil)
	j, _ := c.f.completedBackup(t, "orders", 20)
	again, err := c.a.RunJob(context.Background(), backup.JobKindBackup, j.ID)
	if err != nil || again {
		t.Fatalf("RunJob of an ended job: again %v, err %v", again, err)
	}
	if got := c.backupJob(t, j.ID); got.State != backup.JobCompleted || got.Owner != j.Owner {
		t.Fatalf("a stale entry changed the job: %s owner %q", got.State, got.Owner)
	}
	if c.a.active(j.ID) != nil {
		t.Fatal("a stale entry runs the job")
	}
}

type writeFunc func(ctx context.Context, table string, items [][]byte) ([][]byte, float64, error)

func (f writeFunc) BatchWrite(ctx context.Context, table string, items [][]byte) ([][]byte, float64, error) {
	return f(ctx, table, items)
}
