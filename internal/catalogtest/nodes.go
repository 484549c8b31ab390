package catalogtest

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// Nodes: RegisterNode stores a node's ID, Address, MaxJobs, Started and
// Heartbeat and replaces a node of the same ID; HeartbeatNode only moves
// the heartbeat forward and is ErrNotFound for an unknown node;
// ListNodes orders by Started then ID and leaves Leader, Alive and
// Running unset; DeleteNode is ErrNotFound for an unknown node; a
// registration without ID, Started or Heartbeat fails with
// ErrMissingParameter and stores nothing. Concurrent heartbeats of many
// nodes lose none.
func testNodes(t *testing.T, c backup.Catalog) {
	ctx := t.Context()
	if ns, err := c.ListNodes(ctx); err != nil || len(ns) != 0 {
		t.Fatalf("empty catalog: %v %v", ns, err)
	}
	t0 := time.Date(2026, 12, 3, 19, 0, 0, 123456789, time.UTC)
	b := &backup.Node{ID: "node-b", Address: "10.0.0.2:7171", MaxJobs: 8, Started: t0, Heartbeat: t0}
	a := &backup.Node{ID: "node-a", Address: "10.0.0.1:7171", MaxJobs: 4, Started: t0, Heartbeat: t0.Add(time.Second),
		Leader: true, Alive: true, Running: []string{"J1"}}
	c0 := &backup.Node{ID: "node-0", Started: t0.Add(time.Minute), Heartbeat: t0.Add(time.Minute)}
	for _, n := range []*backup.Node{b, a, c0} {
		if err := c.RegisterNode(ctx, n); err != nil {
			t.Fatalf("register %s: %v", n.ID, err)
		}
	}
	for _, bad := range []*backup.Node{{Started: t0, Heartbeat: t0}, {ID: "x", Heartbeat: t0}, {ID: "x", Started: t0}} {
		wantCode(t, c.RegisterNode(ctx, bad), backup.ErrMissingParameter, "register without a required field")
	}
	got, err := c.ListNodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []*backup.Node{
		{ID: "node-a", Address: "10.0.0.1:7171", MaxJobs: 4, Started: t0, Heartbeat: t0.Add(time.Second)},
		{ID: "node-b", Address: "10.0.0.2:7171", MaxJobs: 8, Started: t0, Heartbeat: t0},
		{ID: "node-0", Started: t0.Add(time.Minute), Heartbeat: t0.Add(time.Minute)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ListNodes:\n got %s\nwant %s", nodesString(got), nodesString(want))
	}

	// Heartbeats move forward only.
	if err := c.HeartbeatNode(ctx, "node-b", t0.Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := c.HeartbeatNode(ctx, "node-b", t0.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, c.HeartbeatNode(ctx, "nobody", t0), backup.ErrNotFound, "heartbeat of an unknown node")
	got, _ = c.ListNodes(ctx)
	if !got[1].Heartbeat.Equal(t0.Add(5 * time.Second)) {
		t.Errorf("node-b's heartbeat %v, want %v", got[1].Heartbeat, t0.Add(5*time.Second))
	}

	// Registering again replaces (a node back after a lost connection).
	again := &backup.Node{ID: "node-b", Address: "10.0.0.9:7171", MaxJobs: 2, Started: t0.Add(time.Hour), Heartbeat: t0.Add(time.Hour)}
	if err := c.RegisterNode(ctx, again); err != nil {
		t.Fatal(err)
	}
	got, _ = c.ListNodes(ctx)
	if len(got) != 3 || !reflect.DeepEqual(got[2], again) {
		t.Fatalf("after registering node-b again: %s", nodesString(got))
	}

	if err := c.DeleteNode(ctx, "node-a"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, c.DeleteNode(ctx, "node-a"), backup.ErrNotFound, "delete of a deleted node")
	wantCode(t, c.HeartbeatNode(ctx, "node-a", t0.Add(time.Hour)), backup.ErrNotFound, "heartbeat of a deleted node")

	// Many nodes heartbeating at once lose no heartbeat.
	const n = 8
	for i := range n {
		if err := c.RegisterNode(ctx, &backup.Node{ID: "busy-" + string(rune('a'+i)), Started: t0, Heartbeat: t0}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			for k := 1; k <= 5; k++ {
				if err := c.HeartbeatNode(ctx, "busy-"+string(rune('a'+i)), t0.Add(time.Duration(k)*time.Second)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	got, _ = c.ListNodes(ctx)
	for _, nd := range got {
		if len(nd.ID) > 5 && nd.ID[:5] == "busy-" && !nd.Heartbeat.Equal(t0.Add(5*time.Second)) {
			t.Errorf("%s: heartbeat %v, want %v", nd.ID, nd.Heartbeat, t0.Add(5*time.Second))
		}
	}
}

func nodesString(ns []*backup.Node) string {
	s := ""
	for _, n := range ns {
		s += "\n  " + n.ID + " " + n.Address + " " + n.Started.String() + " " + n.Heartbeat.String()
	}
	return s
}
