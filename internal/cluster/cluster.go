// Package cluster is backup.Cluster for cairn servers (nodes) that share
// a PostgreSQL catalog: membership, liveness and the leader.
//
// Each node keeps one PostgreSQL connection of its own, apart from the
// catalog's pool, for its whole life. On that session it holds a
// session-level advisory lock whose key is derived from its node ID, and
// PostgreSQL frees it the moment the session ends: a node killed with
// kill -9, or whose machine is gone, is seen dead at once by the others,
// with no lease to wait out. The node registers in the catalog
// (backup.NodeStore, table cluster_nodes) and heartbeats every
// HeartbeatInterval with PostgreSQL's own clock, read on that session.
//
// The leader is the node whose session holds one more advisory lock.
// Nodes that are not the leader try to take it every HeartbeatInterval.
// A leader whose session fails (a ping that does not answer, PostgreSQL
// restarted, the network cut) stops being the leader at once, before it
// reconnects; PostgreSQL frees its lock when it notices the session is
// gone, at the latest after Lease (the session's idle_session_timeout),
// and another node takes it.
//
// A node is dead (DeadNodes) when its lock is free although it held it
// on the running PostgreSQL server (its last heartbeat is later than the
// server's start: its session ended), or when its last heartbeat is older
// than Lease (a node cut off from PostgreSQL, or stuck). A node whose lock
// is free because PostgreSQL restarted, and that has not reconnected yet,
// is not dead before Lease: it is coming back. A live node is never named.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cairn-backup/cairn/internal/backup"
)

// leaderLock is the key of the advisory lock the leader holds ("cairnldr"
// in ASCII). Advisory locks are per database.
const leaderLock = 0x636169726e6c6472

// Defaults of Config.
const (
	DefaultHeartbeatInterval = 3 * time.Second
	DefaultLease             = 30 * time.Second
	DefaultRetention         = 24 * time.Hour
)

// Config says how a node joins.
type Config struct {
	// URL is the catalog's PostgreSQL URL (pgxpool's parameters, such as
	// pool_max_conns, are allowed and ignored here).
	URL string
	// Store is the catalog's node table.
	Store backup.NodeStore
	// Address and MaxJobs describe the node in the status.
	Address string
	MaxJobs int
	// HeartbeatInterval is how often the node says it is alive and, when
	// it is not the leader, tries to become it; default 3s.
	HeartbeatInterval time.Duration
	// Lease is how old a heartbeat may be before its node is dead; it is
	// also how long PostgreSQL keeps the session of a node that stopped
	// talking (idle_session_timeout), so a leader cut off from PostgreSQL
	// loses its lock after it. Default 30s; at least 3 heartbeats.
	Lease time.Duration
	// Retention is how long a dead node stays listed before the leader
	// removes it; default 24h.
	Retention time.Duration
	// SharedLocks are advisory lock keys the node's session holds in
	// shared mode for its life (the catalog's server lock, so that `cairn
	// catalog copy`, which takes it exclusively, never runs beside a node).
	SharedLocks []int64
	Logger      *slog.Logger
}

// Cluster is one node's view of the cluster; it implements backup.Cluster.
type Cluster struct {
	cfg     Config
	id      string
	key     int64
	connCfg *pgx.ConnConfig
	log     *slog.Logger
	started time.Time

	// mu guards conn, the node's own session; nil while it is lost.
	mu   sync.Mutex
	conn *pgx.Conn

	leader   atomic.Bool
	lastOK   atomic.Int64 // monotonic nanoseconds (since base) of the last good ping
	base     time.Time
	resigned atomic.Bool

	stop chan struct{}
	done chan struct{}
}

var _ backup.Cluster = (*Cluster)(nil)

// ErrCatalogBeingCopied is returned by Join while `cairn catalog copy`
// holds one of Config.SharedLocks exclusively.
var ErrCatalogBeingCopied = errors.New("the catalog is being written by cairn catalog copy")

// Join connects the node's session, takes its lock, registers it, tries
// once to become the leader and starts the heartbeat. Close leaves.
func Join(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.Store == nil {
		return nil, errors.New("cluster: a Store is required")
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Lease < 3*cfg.HeartbeatInterval {
		return nil, fmt.Errorf("cluster: the lease (%s) must be at least 3 heartbeat intervals (%s)", cfg.Lease, cfg.HeartbeatInterval)
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("cluster: catalog URL: %w", err)
	}
	id := strings.ToUpper(uuid.NewString())
	host, _ := os.Hostname()
	cc := pc.ConnConfig.Copy()
	// PostgreSQL keeps 63 bytes of application_name: the node's ID is
	// shortened there; the catalog has it whole.
	cc.RuntimeParams["application_name"] = trim(fmt.Sprintf("cairn node %s pid %d host %s", id[:8], os.Getpid(), host), 63)
	// A node that stops talking loses its session, and its locks, after
	// the lease: a leader cut off from PostgreSQL hands leadership over.
	cc.RuntimeParams["idle_session_timeout"] = fmt.Sprint(cfg.Lease.Milliseconds())
	c := &Cluster{cfg: cfg, id: id, key: lockKey(id), connCfg: cc, log: cfg.Logger.With("node", id),
		base: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	now, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	c.started = now
	if err := c.register(ctx, now); err != nil {
		c.closeConn()
		return nil, err
	}
	c.tryLead(ctx)
	go c.loop()
	c.log.Info("joined the cluster", "leader", c.leader.Load(), "heartbeat_interval", cfg.HeartbeatInterval, "lease", cfg.Lease)
	return c, nil
}

// lockKey is the advisory lock key of a node: 64 bits of a hash of its
// (random) ID, so that keys of different nodes do not meet.
func lockKey(id string) int64 {
	h := fnv.New64a()
	h.Write([]byte("cairn node " + id))
	return int64(h.Sum64())
}

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// connect opens the node's session and takes its locks; it returns
// PostgreSQL's time, read once the locks are held.
func (c *Cluster) connect(ctx context.Context) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Lease)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, c.connCfg)
	if err != nil {
		return time.Time{}, fmt.Errorf("cluster: connect: %w", err)
	}
	fail := func(err error) (time.Time, error) {
		conn.Close(context.Background())
		return time.Time{}, err
	}
	for _, k := range c.cfg.SharedLocks {
		var ok bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock_shared($1)", k).Scan(&ok); err != nil {
			return fail(fmt.Errorf("cluster: lock: %w", err))
		}
		if !ok {
			return fail(ErrCatalogBeingCopied)
		}
	}
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", c.key).Scan(&ok); err != nil {
		return fail(fmt.Errorf("cluster: lock: %w", err))
	}
	if !ok {
		// Only this node's previous session can hold it: PostgreSQL has
		// not noticed yet that it is gone.
		return fail(fmt.Errorf("cluster: node %s: its previous session still holds its lock", c.id))
	}
	var now time.Time
	if err := conn.QueryRow(ctx, "SELECT clock_timestamp()").Scan(&now); err != nil {
		return fail(fmt.Errorf("cluster: read the time: %w", err))
	}
	c.mu.Lock()
	c.conn = conn
	c.mu.Unlock()
	c.ok()
	return now.UTC(), nil
}

func (c *Cluster) register(ctx context.Context, now time.Time) error {
	err := c.cfg.Store.RegisterNode(ctx, &backup.Node{ID: c.id, Address: c.cfg.Address, MaxJobs: c.cfg.MaxJobs,
		Started: c.started, Heartbeat: now})
	if err != nil {
		return fmt.Errorf("cluster: register node %s: %w", c.id, err)
	}
	return nil
}

func (c *Cluster) ok() { c.lastOK.Store(int64(time.Since(c.base))) }

// closeConn ends the node's session, which frees its locks.
func (c *Cluster) closeConn() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.leader.Store(false)
	if c.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c.conn.Close(ctx)
		cancel()
		c.conn = nil
	}
}

// query runs fn on the node's session; ErrLost while it is lost.
func (c *Cluster) query(ctx context.Context, fn func(ctx context.Context, conn *pgx.Conn) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return ErrLost
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.HeartbeatInterval)
	defer cancel()
	err := fn(ctx, c.conn)
	if err != nil && (c.conn.IsClosed() || ctx.Err() != nil) {
		// The session is gone (or did not answer in time): so are its
		// locks, or they will be once PostgreSQL notices.
		c.leader.Store(false)
		c.conn.Close(context.Background())
		c.conn = nil
	}
	return err
}

// ErrLost is the error of a call made while the node's session to
// PostgreSQL is lost.
var ErrLost = errors.New("cluster: this node's connection to PostgreSQL is lost; it reconnects")

// loop heartbeats, reconnects and tries to lead until Close.
func (c *Cluster) loop() {
	defer close(c.done)
	t := time.NewTicker(c.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-c.stop:
			case <-ctx.Done():
			}
			cancel()
		}()
		c.beat(ctx)
		cancel()
	}
}

// beat is one heartbeat: ping (which reads PostgreSQL's time), record
// the heartbeat, try to lead; or reconnect a lost session.
func (c *Cluster) beat(ctx context.Context) {
	c.mu.Lock()
	lost := c.conn == nil
	c.mu.Unlock()
	if lost {
		now, err := c.connect(ctx)
		if err != nil {
			c.log.Warn("cluster: cannot reconnect to PostgreSQL yet; this node takes no leadership meanwhile", "err", err)
			return
		}
		if err := c.register(ctx, now); err != nil {
			c.log.Warn("cluster: reconnected but cannot register", "err", err)
			return
		}
		c.log.Info("cluster: reconnected to PostgreSQL")
		c.tryLead(ctx)
		return
	}
	var now time.Time
	err := c.query(ctx, func(ctx context.Context, conn *pgx.Conn) error {
		return conn.QueryRow(ctx, "SELECT clock_timestamp()").Scan(&now)
	})
	if err != nil {
		was := c.leader.Swap(false)
		c.closeConn()
		c.log.Warn("cluster: lost the connection to PostgreSQL; not the leader until it is back", "was_leader", was, "err", err)
		return
	}
	c.ok()
	err = c.cfg.Store.HeartbeatNode(ctx, c.id, now.UTC())
	if backup.IsNotFound(err) {
		err = c.register(ctx, now.UTC())
	}
	if err != nil {
		c.log.Warn("cluster: heartbeat not recorded", "err", err)
	}
	c.tryLead(ctx)
	if c.leader.Load() {
		c.prune(ctx)
	}
}

// tryLead takes the leader's lock if it is free (and this node has not
// resigned).
func (c *Cluster) tryLead(ctx context.Context) {
	if c.leader.Load() || c.resigned.Load() {
		return
	}
	var ok bool
	err := c.query(ctx, func(ctx context.Context, conn *pgx.Conn) error {
		return conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", int64(leaderLock)).Scan(&ok)
	})
	if err != nil || !ok {
		return
	}
	c.leader.Store(true)
	c.log.Info("cluster: this node is now the leader")
}

// prune removes nodes dead for longer than Retention.
func (c *Cluster) prune(ctx context.Context) {
	v, err := c.view(ctx)
	if err != nil {
		return
	}
	for _, n := range v.nodes {
		if !v.alive(n) && v.now.Sub(n.Heartbeat) > c.cfg.Retention {
			if err := c.cfg.Store.DeleteNode(ctx, n.ID); err != nil && !backup.IsNotFound(err) {
				c.log.Warn("cluster: remove a long-dead node", "dead_node", n.ID, "err", err)
				continue
			}
			c.log.Info("cluster: removed a node dead for longer than the retention", "dead_node", n.ID, "heartbeat", n.Heartbeat)
		}
	}
}

// NodeID implements backup.Cluster.
func (c *Cluster) NodeID() string { return c.id }

// IsLeader implements backup.Cluster: the node holds the leader's lock on
// a session that answered within the lease.
func (c *Cluster) IsLeader() bool {
	if !c.leader.Load() {
		return false
	}
	return time.Duration(int64(time.Since(c.base))-c.lastOK.Load()) < c.cfg.Lease
}

// view is what one look at PostgreSQL tells of the nodes.
type view struct {
	self      string
	now       time.Time // PostgreSQL's
	pmStart   time.Time // when the PostgreSQL server started
	lease     time.Duration
	held      map[int64]int32 // advisory lock key -> holder's pid
	leaderPID int32
	nodes     []*backup.Node
}

// alive says whether n lives (see the package comment).
func (v *view) alive(n *backup.Node) bool {
	if n.ID == v.self {
		return true
	}
	if v.now.Sub(n.Heartbeat) > v.lease {
		return false
	}
	if _, ok := v.held[lockKey(n.ID)]; ok {
		return true
	}
	// Its lock is free. If it heartbeat on this PostgreSQL server, it had
	// its lock here, and its session has ended; otherwise PostgreSQL
	// restarted since and the node may be reconnecting.
	return !n.Heartbeat.After(v.pmStart)
}

func (v *view) isLeader(n *backup.Node) bool {
	pid, ok := v.held[lockKey(n.ID)]
	return ok && v.leaderPID != 0 && pid == v.leaderPID
}

// view reads the nodes and PostgreSQL's advisory locks.
func (c *Cluster) view(ctx context.Context) (*view, error) {
	v := &view{self: c.id, lease: c.cfg.Lease, held: map[int64]int32{}}
	err := c.query(ctx, func(ctx context.Context, conn *pgx.Conn) error {
		if err := conn.QueryRow(ctx, "SELECT clock_timestamp(), pg_postmaster_start_time()").Scan(&v.now, &v.pmStart); err != nil {
			return err
		}
		rows, err := conn.Query(ctx, `SELECT (l.classid::bigint << 32) | l.objid::bigint, l.pid FROM pg_locks l
			WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.mode = 'ExclusiveLock'
			AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				key int64
				pid int32
			)
			if err := rows.Scan(&key, &pid); err != nil {
				return err
			}
			v.held[key] = pid
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: read the nodes' locks: %w", err)
	}
	v.leaderPID = v.held[leaderLock]
	if v.nodes, err = c.cfg.Store.ListNodes(ctx); err != nil {
		return nil, fmt.Errorf("cluster: list nodes: %w", err)
	}
	return v, nil
}

// DeadNodes implements backup.Cluster. A node cut off from PostgreSQL
// cannot tell and returns an error.
func (c *Cluster) DeadNodes(ctx context.Context) ([]string, error) {
	v, err := c.view(ctx)
	if err != nil {
		return nil, err
	}
	var dead []string
	for _, n := range v.nodes {
		if !v.alive(n) {
			dead = append(dead, n.ID)
		}
	}
	return dead, nil
}

// Status implements backup.Cluster. Running is left to the runner.
func (c *Cluster) Status(ctx context.Context) (*backup.ClusterStatus, error) {
	v, err := c.view(ctx)
	if err != nil {
		return nil, err
	}
	st := &backup.ClusterStatus{Catalog: "postgres", Self: c.id}
	for _, n := range v.nodes {
		n.Alive = v.alive(n)
		n.Leader = n.Alive && v.isLeader(n)
		if n.ID == c.id {
			n.Leader = c.IsLeader()
		}
		if n.Leader {
			st.Leader = n.ID
		}
		st.Nodes = append(st.Nodes, n)
	}
	if !slices.ContainsFunc(st.Nodes, func(n *backup.Node) bool { return n.ID == c.id }) {
		// Removed meanwhile; the next heartbeat registers it again.
		st.Nodes = append(st.Nodes, &backup.Node{ID: c.id, Address: c.cfg.Address, MaxJobs: c.cfg.MaxJobs,
			Started: c.started, Alive: true, Leader: c.IsLeader()})
		if c.IsLeader() {
			st.Leader = c.id
		}
	}
	return st, nil
}

// Resign gives leadership up and stops taking it (a node shutting down
// lets another lead while its own jobs finish).
func (c *Cluster) Resign(ctx context.Context) {
	c.resigned.Store(true)
	if !c.leader.Load() {
		return
	}
	err := c.query(ctx, func(ctx context.Context, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", int64(leaderLock))
		return err
	})
	c.leader.Store(false)
	if err == nil {
		c.log.Info("cluster: this node gave leadership up")
	}
}

// Close leaves the cluster: the heartbeat stops, the node is removed from
// the catalog and its session ends, freeing its locks.
func (c *Cluster) Close(ctx context.Context) error {
	select {
	case <-c.stop:
		return nil
	default:
	}
	close(c.stop)
	<-c.done
	c.leader.Store(false)
	err := c.cfg.Store.DeleteNode(ctx, c.id)
	if backup.IsNotFound(err) {
		err = nil
	}
	c.closeConn()
	if err != nil {
		return fmt.Errorf("cluster: leave: %w", err)
	}
	c.log.Info("left the cluster")
	return nil
}
