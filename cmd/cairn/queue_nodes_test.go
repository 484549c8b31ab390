package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/blob"
	fileblob "github.com/cairn-backup/cairn/internal/blob/file"
	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/dynamodb"
	"github.com/cairn-backup/cairn/internal/postgres"
	"github.com/cairn-backup/cairn/internal/queue"
	"github.com/cairn-backup/cairn/internal/runner"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// queueNode is one node of a test cluster in this process: a runner on
// its own PostgreSQL connections, with its own River client.
type queueNode struct {
	id  string
	svc *runner.Service
	q   *queue.Queue
	cat *postgres.Catalog
}

// nodeCluster is the membership of the test's nodes: node-1 leads unless
// the test moves the lead (clusterLeader); deadNodes names the nodes the
// test killed.
type nodeCluster struct{ id string }

var (
	clusterLeader atomic.Pointer[string]
	deadNodes     atomic.Pointer[[]string]
)

func (c nodeCluster) NodeID() string { return c.id }
func (c nodeCluster) IsLeader() bool {
	if l := clusterLeader.Load(); l != nil {
		return c.id == *l
	}
	return c.id == "node-1"
}
func (c nodeCluster) DeadNodes(context.Context) ([]string, error) {
	if d := deadNodes.Load(); d != nil {
		return *d, nil
	}
	return nil, nil
}
func (c nodeCluster) Status(context.Context) (*backup.ClusterStatus, error) {
	return &backup.ClusterStatus{Catalog: "postgres", Self: c.id}, nil
}

// nodeSource is the runner's source of the tables of region, served by the
// DynamoDB-compatible server at endpoint.
func nodeSource(t testing.TB, region, endpoint string) *runner.Source {
	t.Helper()
	client, err := dynamodb.New(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}, dynamodb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &runner.Source{Name: region, Region: region, Client: client}
}

// startQueueNodes starts n nodes of maxJobs job slots each on the
// PostgreSQL database url, reading DynamoDB from sources, with their
// vaults in dataDir.
func startQueueNodes(t testing.TB, url string, sources []*runner.Source, dataDir string, n, maxJobs int) []*queueNode {
	t.Helper()
	ctx := context.Background()
	var nodes []*queueNode
	for i := range n {
		id := fmt.Sprintf("node-%d", i+1)
		cat, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		q, err := queue.Open(ctx, cat.Pool(), queue.Config{NodeID: id, MaxJobs: maxJobs, PollInterval: 200 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		svc, err := runner.New(runner.Config{Catalog: cat, Sources: sources,
			OpenStore: func(_ context.Context, st backup.VaultStorage) (blob.Store, error) { return fileblob.New(st.Path) },
			DataDir:   dataDir, MaxJobs: maxJobs, Queue: q, Cluster: nodeCluster{id: id},
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Recover(ctx); err != nil {
			t.Fatal(err)
		}
		if err := svc.EnsureDefaultVault(ctx); err != nil {
			t.Fatal(err)
		}
		svc.Start()
		q.Bind(svc)
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		node := &queueNode{id: id, svc: svc, q: q, cat: cat}
		nodes = append(nodes, node)
		t.Cleanup(func() {
			node.svc.Close()
			stop, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			node.q.Stop(stop)
			node.cat.Close()
		})
	}
	return nodes
}

// waitQueuedJobs waits for the backup jobs to end (a guard against hangs only)
// and returns them.
func waitQueuedJobs(t testing.TB, svc *runner.Service, ids []string) []*backup.BackupJob {
	t.Helper()
	var out []*backup.BackupJob
	for _, id := range ids {
		for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
			j, err := svc.GetBackupJob(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if j.State.Terminal() {
				out = append(out, j)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("backup job %s did not end", id)
			}
		}
	}
	return out
}

// Jobs recorded through one node spread over all nodes through the queue:
// every node runs some, each job once, every job visible through every
// node, and each ends COMPLETED with one recovery point.
func TestQueueSpreadsJobsOverNodes(t *testing.T) {
	dyn := testbed.Dynalite(t)
	url := testbed.PostgresURL(t)
	db := ddbClient(dyn.Endpoint)
	const tables = 9
	for i := range tables {
		name := fmt.Sprintf("t%02d", i)
		createTable(t, db, name, ddbjson.TypeS, false)
		seedRandom(t, db, name, 300)
	}
	nodes := startQueueNodes(t, url, []*runner.Source{nodeSource(t, "us-east-1", dyn.Endpoint)}, filepath.Join(t.TempDir(), "data"), 3, 1)
	var ids []string
	for i := range tables {
		j, err := nodes[0].svc.StartBackupJob(context.Background(), backup.StartBackupJobInput{VaultName: "Default", IAMRoleARN: role,
			ResourceARN: backup.TableARN("us-east-1", "000000000000", fmt.Sprintf("t%02d", i))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	jobs := waitQueuedJobs(t, nodes[2].svc, ids)
	ran := map[string]int{}
	for _, j := range jobs {
		if j.State != backup.JobCompleted || j.ItemCount != 300 {
			t.Fatalf("job %s: %s %q, %d items", j.ID, j.State, j.StatusMessage, j.ItemCount)
		}
		ran[j.Owner]++
	}
	for _, n := range nodes {
		if ran[n.id] == 0 {
			t.Errorf("node %s ran none of the %d jobs (owners %v): jobs do not spread", n.id, tables, ran)
		}
	}
	pts, _, err := nodes[1].svc.ListRecoveryPoints(context.Background(), backup.RecoveryPointFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != tables {
		t.Fatalf("%d recovery points, want one per job (%d)", len(pts), tables)
	}
}

// A backup started through one node and run by whichever node fetched it
// is stopped through a node that does not run it: ABORTED, its partial
// recovery point removed, nothing left RUNNING.
func TestQueueStopThroughAnotherNode(t *testing.T) {
	dyn := testbed.Dynalite(t)
	url := testbed.PostgresURL(t)
	db := ddbClient(dyn.Endpoint)
	createTable(t, db, "slow", ddbjson.TypeS, false)
	seedRandom(t, db, "slow", 4000)
	nodes := startQueueNodes(t, url, []*runner.Source{nodeSource(t, "us-east-1", dyn.Endpoint)}, filepath.Join(t.TempDir(), "data"), 2, 1)
	ctx := context.Background()
	arn := backup.TableARN("us-east-1", "000000000000", "slow")
	j, err := nodes[0].svc.StartBackupJob(ctx, backup.StartBackupJobInput{VaultName: "Default", IAMRoleARN: role, ResourceARN: arn,
		Options: backup.BackupOptions{ReadRate: 20, Segments: 1}})
	if err != nil {
		t.Fatal(err)
	}
	var running *backup.BackupJob
	for deadline := time.Now().Add(2 * time.Minute); running == nil; time.Sleep(20 * time.Millisecond) {
		got, err := nodes[1].svc.GetBackupJob(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State == backup.JobRunning && got.Owner != "" && got.BytesTransferred > 0 {
			running = got
		}
		if time.Now().After(deadline) {
			t.Fatalf("the backup did not run: %s", got.State)
		}
	}
	other := nodes[0]
	if other.id == running.Owner {
		other = nodes[1]
	}
	if err := other.svc.StopBackupJob(ctx, j.ID); err != nil {
		t.Fatalf("StopBackupJob through node %s of a job node %s runs: %v", other.id, running.Owner, err)
	}
	got := waitQueuedJobs(t, other.svc, []string{j.ID})[0]
	if got.State != backup.JobAborted || got.Owner != running.Owner {
		t.Fatalf("job stopped through node %s: %s (%q), owner %s; want ABORTED by its node %s", other.id, got.State, got.StatusMessage, got.Owner, running.Owner)
	}
	pts, _, err := other.svc.ListRecoveryPoints(ctx, backup.RecoveryPointFilter{ResourceARN: arn})
	if err != nil || len(pts) != 0 {
		t.Fatalf("the stopped job left recovery points %v (%v)", pts, err)
	}
}

// A node dies (its catalog connections gone, as a killed process's
// sessions end) while it runs a backup; the leader's takeover pass gives
// the job back to the queue and another node completes it: one COMPLETED
// recovery point, the new attempt on a live node.
func TestQueueTakeoverOfADeadNode(t *testing.T) {
	dyn := testbed.Dynalite(t)
	url := testbed.PostgresURL(t)
	db := ddbClient(dyn.Endpoint)
	createTable(t, db, "slow", ddbjson.TypeS, false)
	seedRandom(t, db, "slow", 3000)
	t.Cleanup(func() { deadNodes.Store(nil); clusterLeader.Store(nil) })
	nodes := startQueueNodes(t, url, []*runner.Source{nodeSource(t, "us-east-1", dyn.Endpoint)}, filepath.Join(t.TempDir(), "data"), 3, 1)
	ctx := context.Background()
	arn := backup.TableARN("us-east-1", "000000000000", "slow")
	j, err := nodes[0].svc.StartBackupJob(ctx, backup.StartBackupJobInput{VaultName: "Default", IAMRoleARN: role, ResourceARN: arn,
		Options: backup.BackupOptions{ReadRate: 40, Segments: 1}})
	if err != nil {
		t.Fatal(err)
	}
	var owner string
	for deadline := time.Now().Add(2 * time.Minute); owner == ""; time.Sleep(20 * time.Millisecond) {
		got, err := nodes[0].svc.GetBackupJob(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State == backup.JobRunning && got.BytesTransferred > 0 {
			owner = got.Owner
		}
		if time.Now().After(deadline) {
			t.Fatalf("the backup did not run: %s", got.State)
		}
	}
	var dead, live *queueNode
	for _, n := range nodes {
		if n.id == owner {
			dead = n
		} else {
			live = n
		}
	}
	clusterLeader.Store(&live.id) // the lead is a live node's
	dead.cat.Close()              // its writes fail from now on, as a dead process's
	deadNodes.Store(&[]string{owner})
	got := waitQueuedJobs(t, live.svc, []string{j.ID})[0]
	if got.State != backup.JobCompleted || got.Owner == owner || got.Attempt != 1 || got.ItemCount != 3000 {
		t.Fatalf("job of dead node %s: %s (%q), owner %s, attempt %d, %d items; want COMPLETED by another node, attempt 1, 3000 items",
			owner, got.State, got.StatusMessage, got.Owner, got.Attempt, got.ItemCount)
	}
	pts, _, err := live.svc.ListRecoveryPoints(ctx, backup.RecoveryPointFilter{ResourceARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 1 || pts[0].Status != backup.RecoveryPointCompleted || pts[0].ARN != got.RecoveryPointARN {
		t.Fatalf("recovery points %v, want exactly the job's one, COMPLETED", pts)
	}
}
