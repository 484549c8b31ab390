package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/cairn-backup/cairn/internal/awsapi"
	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/cluster"
	"github.com/cairn-backup/cairn/internal/postgres"
)

// ClusterConfig is the config file's cluster: section (docs/cluster.md).
type ClusterConfig struct {
	// HeartbeatInterval is how often a node says it is alive and, when it
	// does not lead, tries to; default 3s.
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"`
	// Lease is how old a node's heartbeat may be before it is dead, and
	// how long a leader cut off from PostgreSQL keeps its lock there;
	// default 30s, at least 3 heartbeat intervals.
	Lease time.Duration `yaml:"lease"`
}

func (c ClusterConfig) validate() error {
	if c.HeartbeatInterval < 0 || c.Lease < 0 {
		return fmt.Errorf("config: cluster.heartbeat_interval and cluster.lease must not be negative")
	}
	beat, lease := c.HeartbeatInterval, c.Lease
	if beat == 0 {
		beat = cluster.DefaultHeartbeatInterval
	}
	if lease == 0 {
		lease = cluster.DefaultLease
	}
	if lease < 3*beat {
		return fmt.Errorf("config: cluster.lease %s must be at least 3 times cluster.heartbeat_interval %s", lease, beat)
	}
	return nil
}

// joinCluster makes this server a node: on PostgreSQL it joins the nodes
// that share the catalog (internal/cluster); on SQLite it is alone
// (backup.SingleNode).
func (m *Main) joinCluster(ctx context.Context) error {
	if !postgres.IsURL(m.Config.Catalog) {
		m.cluster = backup.SingleNode{ID: strings.ToUpper(uuid.NewString())}
		return nil
	}
	c, err := cluster.Join(ctx, cluster.Config{URL: m.Config.Catalog, Store: m.catalog, Address: m.Addr,
		MaxJobs: m.Config.MaxJobs, HeartbeatInterval: m.Config.Cluster.HeartbeatInterval, Lease: m.Config.Cluster.Lease,
		SharedLocks: []int64{postgres.ServerLockKey}, Logger: m.Logger.With("component", "cluster")})
	if errors.Is(err, cluster.ErrCatalogBeingCopied) {
		return fmt.Errorf("cairn will not start on %s: %w; wait for the copy to end, then start the server again",
			postgres.Redact(m.Config.Catalog), err)
	}
	if err != nil {
		return fmt.Errorf("join the nodes of %s: %w", postgres.Redact(m.Config.Catalog), err)
	}
	m.node = c
	m.cluster = c
	return nil
}

// leader says whether this node runs the cluster's singletons now.
func (m *Main) leader() bool { return m.cluster == nil || m.cluster.IsLeader() }

// clusterCmd is `cairn cluster`.
func (c *cli) clusterCmd() *cobra.Command {
	cmd := c.clientGroup(groupCmd(&cobra.Command{
		Use:   "cluster",
		Short: "The cairn server processes (nodes) that share the catalog",
		Long: `Several cairn servers on one PostgreSQL catalog are the nodes of one
cluster: each serves the whole API and runs jobs, and one of them, the
leader, runs the scheduler, the lifecycle worker, governance, the
notification sender and the report plans. See docs/cluster.md.`,
		Example: `  cairn cluster status`,
	}))
	cmd.AddCommand(c.clusterStatusCmd())
	return cmd
}

func (c *cli) clusterStatusCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status",
		Short: "List the nodes, their last heartbeat, the leader and the jobs each runs",
		Long: `List the nodes that share the server's catalog, as the server asked sees
them: each node's ID, address, whether it is alive (its PostgreSQL session
holds its lock and its last heartbeat is within the lease) and whether it
leads, its last heartbeat, when it started, its job slots (max_jobs) and the
jobs it runs (known for the node that answered, marked *; ask another node
for its own). A SQLite catalog has one node, the server itself, always the
leader. --output json prints the API's answer (GET /cairn/cluster).`,
		Example: `  cairn cluster status
  cairn cluster status --output json | jq -r .Leader
  cairn cluster status --endpoint http://node-b:7171 --wide`,
		Args: noArgs,
	}
	cmd.RunE = c.runE(func(ctx context.Context, _ []string) error {
		ext, err := c.connectExt()
		if err != nil {
			return err
		}
		var out awsapi.ClusterOutput
		if err := ext.do(ctx, http.MethodGet, "/cairn/cluster", nil, nil, &out); err != nil {
			return err
		}
		if c.out.json() {
			return printJSON(c.stdout, out)
		}
		return c.printCluster(&out)
	})
	return cmd
}

// printCluster prints the nodes in a table that fits 100 columns (whole
// IDs and every job with --wide).
func (c *cli) printCluster(out *awsapi.ClusterOutput) error {
	now := time.Now()
	t := newFitTable(c.width(), column{head: "NODE"}, column{head: "ADDRESS", flex: true, min: 9}, column{head: "STATE"},
		column{head: "LEADER"}, column{head: "HEARTBEAT"}, column{head: "STARTED"}, column{head: "SLOTS"},
		column{head: "JOBS", flex: true, min: 4})
	for _, n := range out.Nodes {
		id := c.shortID(n.NodeId)
		if n.NodeId == out.Self {
			id += "*"
		}
		state := "dead"
		if n.Alive {
			state = "alive"
		}
		leader := "-"
		if n.Leader {
			leader = "yes"
		}
		beat := "-"
		if hb := n.LastHeartbeat.Time(); !hb.IsZero() {
			beat = age(max(now.Sub(hb), 0)) + " ago"
		}
		started := "-"
		if st := n.StartTime.Time(); !st.IsZero() {
			started = whenShort(&st)
		}
		jobs := "-"
		if n.NodeId == out.Self {
			jobs = fmt.Sprint(len(n.RunningJobs))
			if c.out.wide && len(n.RunningJobs) > 0 {
				jobs = strings.Join(n.RunningJobs, ",")
			}
		}
		t.row(id, orDash(n.Address), state, leader, beat, started, fmt.Sprint(n.MaxJobs), jobs)
	}
	if err := t.write(c.stdout); err != nil {
		return err
	}
	leader := "none now (the nodes try again every few seconds)"
	if out.Leader != "" {
		leader = c.shortID(out.Leader)
	}
	_, err := fmt.Fprintf(c.stdout, "%s catalog, %d node(s), leader %s; * answered\n", out.Catalog, len(out.Nodes), leader)
	return err
}
