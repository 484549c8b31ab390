package runner

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/clock"
)

// fakeCluster is a Cluster whose leadership and other nodes the test sets.
type fakeCluster struct {
	leader atomic.Bool
	others []*backup.Node
}

func (c *fakeCluster) NodeID() string                              { return "SELF" }
func (c *fakeCluster) IsLeader() bool                              { return c.leader.Load() }
func (c *fakeCluster) DeadNodes(context.Context) ([]string, error) { return nil, nil }
func (c *fakeCluster) Status(context.Context) (*backup.ClusterStatus, error) {
	st := &backup.ClusterStatus{Catalog: "postgres", Self: "SELF", Nodes: []*backup.Node{{ID: "SELF", Alive: true, Leader: c.IsLeader()}}}
	st.Nodes = append(st.Nodes, c.others...)
	if c.IsLeader() {
		st.Leader = "SELF"
	}
	return st, nil
}

// A node that is not the leader creates no job for a due rule; once it
// leads, the same pass creates them. Its own passes of the lifecycle,
// deletes and history are skipped too.
func TestSchedulerRunsOnTheLeaderOnly(t *testing.T) {
	clk := clock.NewFake(at("2026-03-01T04:00:00Z"))
	cl := &fakeCluster{}
	f := newFixtureWith(t, func(c *Config) { c.Clock = clk; c.Cluster = cl })
	orders := f.table(t, "orders", 5)
	f.tag(t, orders, "backup", "daily")
	newPlan(t, f.svc, dailyPlan("daily-plan"), tagSelection("tagged", "backup", "daily"))
	clk.Set(at("2026-03-01T05:00:00Z"))

	tick(t, f.svc)
	tick(t, f.svc)
	if jobs := allJobs(t, f.svc); len(jobs) != 0 {
		t.Fatalf("a node that does not lead created %d jobs", len(jobs))
	}
	var ran int
	pass := f.svc.leaderOnly(func(context.Context) error { ran++; return nil })
	if err := pass(t.Context()); err != nil || ran != 0 {
		t.Fatalf("a singleton pass ran %d times on a node that does not lead", ran)
	}

	cl.leader.Store(true)
	tick(t, f.svc)
	if jobs := settle(t, f.svc); len(jobs) != 1 || jobs[0].ResourceARN != orders {
		t.Fatalf("the leader's pass: %d jobs", len(jobs))
	}
	if err := pass(t.Context()); err != nil || ran != 1 {
		t.Fatalf("a singleton pass ran %d times on the leader", ran)
	}
}

// A node starting beside a live one leaves the catalog's active jobs
// alone (they may be the live node's); a node alone (leader, no other
// live node) recovers them.
func TestRecoverBesideALiveNode(t *testing.T) {
	cl := &fakeCluster{}
	f := newFixtureWith(t, func(c *Config) { c.Cluster = cl })
	ctx := t.Context()
	orders := f.table(t, "orders", 5)
	j := &backup.BackupJob{ID: "RUNNING-ELSEWHERE", AccountID: "000000000000", Region: "us-east-1", VaultName: "Default",
		ResourceARN: orders, ResourceType: backup.ResourceTypeDynamoDB, ResourceName: "orders", State: backup.JobRunning,
		CreationDate: f.svc.now(), StartBy: f.svc.now().Add(1e12)}
	if err := f.cat.CreateBackupJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	cl.others = []*backup.Node{{ID: "OTHER", Alive: true}}
	// Not leading, then leading beside another live node: not alone.
	for _, lead := range []bool{false, true} {
		cl.leader.Store(lead)
		if err := f.svc.Recover(ctx); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.cat.GetBackupJob(ctx, j.ID); got.State != backup.JobRunning {
			t.Fatalf("leader %v: a job the catalog lists as running ended %s", lead, got.State)
		}
	}
	cl.others = []*backup.Node{{ID: "OTHER", Alive: false}} // dead: alone
	if err := f.svc.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.cat.GetBackupJob(ctx, j.ID); got.State != backup.JobFailed {
		t.Fatalf("alone: the job left by a previous process is %s, want FAILED", got.State)
	}
}

// unreachableCatalog fails the first writes of a job's end and of its
// completed point as an unreachable PostgreSQL does (not a domain error).
type unreachableCatalog struct {
	backup.Catalog
	jobFails, pointFails atomic.Int32
}

var errConnClosed = errors.New("postgres: update: conn closed")

func (c *unreachableCatalog) UpdateBackupJob(ctx context.Context, j *backup.BackupJob) error {
	if j.State.Terminal() && c.jobFails.Add(-1) >= 0 {
		return errConnClosed
	}
	return c.Catalog.UpdateBackupJob(ctx, j)
}

func (c *unreachableCatalog) UpdateRecoveryPoint(ctx context.Context, rp *backup.RecoveryPoint) error {
	if rp.Status == backup.RecoveryPointCompleted && c.pointFails.Add(-1) >= 0 {
		return errConnClosed
	}
	return c.Catalog.UpdateRecoveryPoint(ctx, rp)
}

// A backup that ends while the catalog cannot be reached (PostgreSQL
// restarting) records its completed point and its end once the catalog
// answers: it is neither left RUNNING nor failed for it.
func TestJobEndRecordedOnceTheCatalogAnswers(t *testing.T) {
	var uc *unreachableCatalog
	f := newFixtureWith(t, func(c *Config) {
		uc = &unreachableCatalog{Catalog: c.Catalog}
		uc.jobFails.Store(3)
		uc.pointFails.Store(3)
		c.Catalog = uc
	})
	arn := f.table(t, "orders", 20)
	j, err := f.svc.StartBackupJob(t.Context(), backup.StartBackupJobInput{IAMRoleARN: testRole, VaultName: "Default", ResourceARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	got := waitJob(t, f.svc, j.ID, "ended", terminal)
	if got.State != backup.JobCompleted {
		t.Fatalf("job %s %q", got.State, got.StatusMessage)
	}
	rp, err := f.cat.GetRecoveryPoint(t.Context(), recoveryPointID(got.RecoveryPointARN))
	if err != nil || rp.Status != backup.RecoveryPointCompleted {
		t.Fatalf("point %v %v", rp, err)
	}
	if uc.jobFails.Load() >= 0 || uc.pointFails.Load() >= 0 {
		t.Fatalf("the failing writes were not all tried: %d %d left", uc.jobFails.Load(), uc.pointFails.Load())
	}
	if stored, _ := f.cat.GetBackupJob(t.Context(), j.ID); stored.State != backup.JobCompleted {
		t.Fatalf("the catalog holds the job %s", stored.State)
	}
}
