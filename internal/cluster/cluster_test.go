package cluster_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/cluster"
	"github.com/cairn-backup/cairn/internal/postgres"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// Small intervals keep the tests short; nothing below depends on them
// being met in time (every wait is for a condition, bounded only against
// a hang).
const (
	beat  = 100 * time.Millisecond
	lease = 2 * time.Second
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openCatalog(t *testing.T, url string) *postgres.Catalog {
	t.Helper()
	c, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func join(t *testing.T, url string, store backup.NodeStore, addr string) *cluster.Cluster {
	t.Helper()
	return joinWith(t, url, store, addr, lease)
}

func joinWith(t *testing.T, url string, store backup.NodeStore, addr string, lease time.Duration) *cluster.Cluster {
	t.Helper()
	c, err := cluster.Join(t.Context(), cluster.Config{URL: url, Store: store, Address: addr, MaxJobs: 4,
		HeartbeatInterval: beat, Lease: lease, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// waitFor waits until ok holds; the bound only guards against a hang.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("never: %s", what)
}

func leaders(cs ...*cluster.Cluster) []string {
	var ids []string
	for _, c := range cs {
		if c.IsLeader() {
			ids = append(ids, c.NodeID())
		}
	}
	return ids
}

// Nodes on one catalog: exactly one leads, all are listed alive, none is
// dead; a node killed (its session ends, nothing else) is dead for the
// others once PostgreSQL has ended its session, through its lock: the
// lease here is far longer than the test waits, so the heartbeat cannot
// be what tells. Another node leads.
func TestLeaderAndDeathOfANode(t *testing.T) {
	url := testbed.PostgresURL(t)
	cat := openCatalog(t, url)
	const long = time.Hour
	a := joinWith(t, url, cat, "a:7171", long)
	b := joinWith(t, url, cat, "b:7171", long)
	c := joinWith(t, url, cat, "c:7171", long)
	all := []*cluster.Cluster{a, b, c}
	if l := leaders(all...); len(l) != 1 || l[0] != a.NodeID() {
		t.Fatalf("leaders %v, want the first node %s alone", l, a.NodeID())
	}
	st, err := b.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Catalog != "postgres" || st.Self != b.NodeID() || st.Leader != a.NodeID() || len(st.Nodes) != 3 {
		t.Fatalf("status %+v", st)
	}
	for _, n := range st.Nodes {
		if !n.Alive || n.Leader != (n.ID == a.NodeID()) || n.MaxJobs != 4 || n.Started.IsZero() || n.Heartbeat.IsZero() {
			t.Errorf("node %+v", n)
		}
	}
	if dead, err := b.DeadNodes(t.Context()); err != nil || len(dead) != 0 {
		t.Fatalf("dead nodes %v %v", dead, err)
	}

	a.Crash()
	// Dead through its lock, freed when PostgreSQL ends the session (the
	// client's close reaches the server a moment later).
	waitFor(t, "the killed node is dead", func() bool {
		dead, err := b.DeadNodes(t.Context())
		if err != nil || len(dead) > 1 || len(dead) == 1 && dead[0] != a.NodeID() {
			t.Fatalf("after the leader's death: dead %v %v, want [%s]", dead, err, a.NodeID())
		}
		return len(dead) == 1
	})
	waitFor(t, "another node leads", func() bool { return len(leaders(b, c)) == 1 })
	st, _ = c.Status(t.Context())
	if l := leaders(b, c); st.Leader != l[0] {
		t.Errorf("status names leader %s, the leader is %s", st.Leader, l[0])
	}
	for _, n := range st.Nodes {
		if n.ID == a.NodeID() && (n.Alive || n.Leader) {
			t.Errorf("the dead node in the status: %+v", n)
		}
	}

	// A node that leaves is removed from the catalog.
	if err := c.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	ns, _ := cat.ListNodes(t.Context())
	if slices.ContainsFunc(ns, func(n *backup.Node) bool { return n.ID == c.NodeID() }) {
		t.Errorf("a node that left is still listed")
	}
}

// Many nodes race for leadership: never two leaders at once.
func TestOneLeaderAtATime(t *testing.T) {
	url := testbed.PostgresURL(t)
	cat := openCatalog(t, url)
	var nodes []*cluster.Cluster
	for i := range 4 {
		nodes = append(nodes, join(t, url, cat, "n"+strconv.Itoa(i)))
	}
	// Heartbeats go on for longer than the lease: nobody is dead.
	for range 3 {
		time.Sleep(lease)
		if dead, err := nodes[1].DeadNodes(t.Context()); err != nil || len(dead) != 0 {
			t.Fatalf("dead nodes %v %v", dead, err)
		}
	}
	var two atomic.Bool
	all := slices.Clone(nodes) // a crashed node never leads again
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if len(leaders(all...)) > 1 {
				two.Store(true)
			}
		}
	})
	for i := range 3 {
		var l *cluster.Cluster
		for _, n := range nodes {
			if n.IsLeader() {
				l = n
			}
		}
		if l == nil {
			t.Fatalf("round %d: no leader", i)
		}
		l.Crash()
		nodes = slices.DeleteFunc(nodes, func(n *cluster.Cluster) bool { return n == l })
		waitFor(t, "a new leader", func() bool { return len(leaders(nodes...)) == 1 })
	}
	close(stop)
	wg.Wait()
	if two.Load() {
		t.Fatal("two nodes led at once")
	}
}

// PostgreSQL restarted: every session ends. The leader stops leading as
// soon as its ping fails; no node is called dead while it reconnects;
// once PostgreSQL is back every node reconnects, one leads, none is dead.
func TestPostgresRestart(t *testing.T) {
	pg := testbed.PostgresServer(t)
	url := pg.NewDatabase(t)
	cat := openCatalog(t, url)
	a := join(t, url, cat, "a")
	b := join(t, url, cat, "b")
	if !a.IsLeader() {
		t.Fatal("the first node does not lead")
	}
	pg.Restart(t)
	waitFor(t, "the leader notices", func() bool { return !a.IsLeader() })
	// Right after the restart both nodes' locks are free; neither is dead:
	// they heartbeat on the server before the restart.
	waitFor(t, "both nodes back and one leading", func() bool {
		dead, err := b.DeadNodes(t.Context())
		if err == nil && len(dead) != 0 {
			t.Fatalf("dead nodes %v while they reconnect", dead)
		}
		return err == nil && len(leaders(a, b)) == 1
	})
	waitFor(t, "both nodes alive in the status", func() bool {
		st, err := a.Status(t.Context())
		if err != nil {
			return false
		}
		alive := 0
		for _, n := range st.Nodes {
			if n.Alive {
				alive++
			}
		}
		return alive == 2 && st.Leader != ""
	})
	dead, err := a.DeadNodes(t.Context())
	if err != nil || len(dead) != 0 {
		t.Fatalf("after the restart: dead %v %v", dead, err)
	}
}

// proxy forwards TCP to PostgreSQL until cut, when it stops forwarding
// without closing anything: a network that drops packets.
type proxy struct {
	ln     net.Listener
	target string
	cut    atomic.Bool
	closed atomic.Bool
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	var conns []net.Conn
	var mu sync.Mutex
	t.Cleanup(func() {
		p.closed.Store(true)
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, in, out)
			mu.Unlock()
			pipe := func(dst, src net.Conn) {
				buf := make([]byte, 32<<10)
				for {
					n, err := src.Read(buf)
					if err != nil {
						return
					}
					for p.cut.Load() { // held back, never closed
						if p.closed.Load() {
							return
						}
						time.Sleep(10 * time.Millisecond)
					}
					if _, err := dst.Write(buf[:n]); err != nil {
						return
					}
				}
			}
			go pipe(out, in)
			go pipe(in, out)
		}
	}()
	return p
}

// A node cut off from PostgreSQL (packets dropped, no connection closed):
// it stops leading at its next heartbeat; PostgreSQL ends its silent
// session after the lease, and another node leads; the others see it
// dead; it never sees two leaders with itself among them once cut.
func TestCutOffLeader(t *testing.T) {
	pg := testbed.PostgresServer(t)
	url := pg.NewDatabase(t)
	cat := openCatalog(t, url)
	px := newProxy(t, "127.0.0.1:"+strconv.Itoa(pg.Port))
	viaProxy := strings.Replace(url, "127.0.0.1:"+strconv.Itoa(pg.Port), px.ln.Addr().String(), 1)
	a := join(t, viaProxy, cat, "a")
	b := join(t, url, cat, "b")
	if !a.IsLeader() || b.IsLeader() {
		t.Fatal("the first node does not lead")
	}
	px.cut.Store(true)
	waitFor(t, "the cut-off leader stops leading", func() bool { return !a.IsLeader() })
	waitFor(t, "the other node leads", func() bool { return b.IsLeader() })
	if a.IsLeader() {
		t.Fatal("two leaders")
	}
	dead, err := b.DeadNodes(t.Context())
	if err != nil || !slices.Equal(dead, []string{a.NodeID()}) {
		t.Fatalf("dead %v %v, want the cut-off node", dead, err)
	}
	if _, err := a.DeadNodes(t.Context()); err == nil {
		t.Error("a node cut off from PostgreSQL named dead nodes")
	}
}
