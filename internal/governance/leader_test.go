package governance_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/governance"
)

// On a catalog shared by several nodes only the leader's worker passes
// (tags tables, records violations): a worker whose node does not lead
// makes no pass however often its loop turns, and passes once it leads.
func TestWorkerPassesOnTheLeaderOnly(t *testing.T) {
	var leader atomic.Bool
	var turns atomic.Int32
	e := newEnv(t, func(c *governance.Config) {
		c.Leader = leader.Load
		c.Sleep = func(ctx context.Context, _ time.Duration) error {
			turns.Add(1)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Millisecond):
				return nil
			}
		}
	})
	arn := e.createTable("orders", nil)
	e.w.Start()
	t.Cleanup(e.w.Stop)
	for deadline := time.Now().Add(time.Minute); turns.Load() < 5; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the loop never turned") // a hang guard only
		}
	}
	if r, _ := e.w.Compliance(t.Context(), ""); r.Passes != 0 {
		t.Fatalf("a worker whose node does not lead made %d passes", r.Passes)
	}
	if tags := e.tags(arn); len(tags) != 0 {
		t.Fatalf("a worker whose node does not lead tagged the table: %v", tags)
	}
	leader.Store(true)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		if r, _ := e.w.Compliance(t.Context(), ""); r.Passes > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the leader's worker never passed") // a hang guard only
		}
	}
}
