package queue_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/queue"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// fakeRunner records the jobs it is given, per node; block holds each
// until released, again asks for one more round.
type fakeRunner struct {
	node string
	mu   *sync.Mutex
	runs *[]string // "node kind id"
	ran  chan string
	// block, when set, is waited on by every run.
	block chan struct{}
	// again is how many times RunJob answers again=true before it runs.
	again *int
}

func (r *fakeRunner) RunJob(ctx context.Context, kind backup.JobKind, id string) (bool, error) {
	r.mu.Lock()
	if *r.again > 0 {
		*r.again--
		r.mu.Unlock()
		return true, nil
	}
	*r.runs = append(*r.runs, fmt.Sprintf("%s %s %s", r.node, kind, id))
	r.mu.Unlock()
	if r.block != nil {
		<-r.block
	}
	r.ran <- r.node
	return false, nil
}

func openQueue(t *testing.T, pool *pgxpool.Pool, node string, maxJobs int, r *fakeRunner) *queue.Queue {
	t.Helper()
	q, err := queue.Open(t.Context(), pool, queue.Config{NodeID: node, MaxJobs: maxJobs, PollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	q.Bind(r)
	if err := q.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	return q
}

// waitRan waits for n runs to end (a guard against hangs only).
func waitRan(t *testing.T, ran chan string, n int) []string {
	t.Helper()
	var nodes []string
	for range n {
		select {
		case node := <-ran:
			nodes = append(nodes, node)
		case <-time.After(2 * time.Minute):
			t.Fatalf("only %d of %d queued jobs ran", len(nodes), n)
		}
	}
	return nodes
}

func TestQueue(t *testing.T) {
	url := testbed.PostgresURL(t)
	pool, err := pgxpool.New(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var mu sync.Mutex
	var runs []string
	ran := make(chan string, 100)
	again := 0

	// Two nodes of one job slot each; every run blocks until released, so
	// two jobs at once must run on both nodes.
	block := make(chan struct{})
	a := &fakeRunner{node: "a", mu: &mu, runs: &runs, ran: ran, block: block, again: &again}
	b := &fakeRunner{node: "b", mu: &mu, runs: &runs, ran: ran, block: block, again: &again}
	qa := openQueue(t, pool, "node-a", 1, a)
	openQueue(t, pool, "node-b", 1, b)

	t.Run("one run per job and attempt", func(t *testing.T) {
		for range 2 { // the second Dispatch of each adds nothing
			for _, id := range []string{"J1", "J2"} {
				if err := qa.Dispatch(t.Context(), backup.JobKindBackup, id, 0); err != nil {
					t.Fatal(err)
				}
			}
		}
		// Both block: each node holds one (MaxWorkers 1 each).
		deadline := time.After(2 * time.Minute)
		for {
			mu.Lock()
			n := len(runs)
			mu.Unlock()
			if n == 2 {
				break
			}
			select {
			case <-deadline:
				t.Fatalf("runs %v: two jobs did not start on two nodes", runs)
			case <-time.After(50 * time.Millisecond):
			}
		}
		close(block)
		nodes := waitRan(t, ran, 2)
		if nodes[0] == nodes[1] {
			t.Fatalf("two jobs at once ran on nodes %v, want one on each (max_jobs 1 per node)", nodes)
		}
		a.block, b.block = nil, nil
		// A new attempt is a new queue entry.
		if err := qa.Dispatch(t.Context(), backup.JobKindBackup, "J1", 1); err != nil {
			t.Fatal(err)
		}
		waitRan(t, ran, 1)
		mu.Lock()
		defer mu.Unlock()
		if len(runs) != 3 {
			t.Fatalf("runs %v, want 3: J1 and J2 once each for attempt 0 and J1 once for attempt 1", runs)
		}
	})

	t.Run("a job given back runs again", func(t *testing.T) {
		mu.Lock()
		again = 2
		runs = nil
		mu.Unlock()
		if err := qa.Dispatch(t.Context(), backup.JobKindCopy, "C1", 0); err != nil {
			t.Fatal(err)
		}
		waitRan(t, ran, 1)
		mu.Lock()
		defer mu.Unlock()
		if again != 0 || len(runs) != 1 || runs[0][2:] != "COPY C1" {
			t.Fatalf("runs %v with %d give-backs left, want the copy run once after two give-backs", runs, again)
		}
	})
}
